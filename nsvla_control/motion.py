# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Motion backends: gripper waypoints -> joint trajectories, behind one interface.

:class:`BuiltinMotion` solves inverse kinematics on the Panda's kinematic tree
(``nsvla_control.kinematics``: MuJoCo as a kinematics library, on the franka_ros-derived model
the simulation is built from too, imported only when this backend is built), walks every
Cartesian segment in 1 cm steps (straight-line approach and retreat), and time-parameterises
the joint path under scaled velocity/acceleration limits (:mod:`nsvla_control.timing`: a
trapezoid along the path, or toppra's time-optimal timing with ``time_parameterization``).
:class:`MoveItMotion` (``nsvla_control.moveit_backend``) offers the same ``plan_move`` with
MoveItPy where it can be imported.

A motion is a list of segments, each either an :class:`ArmSegment` (joint trajectory for the
arm controller) or a :class:`GripperSegment` (finger target for the gripper controller).
"""

from dataclasses import dataclass
from typing import List, Optional, Protocol, Sequence, Tuple, Union

import numpy as np

from nsvla_common.errors import NsvlaError
from nsvla_common.robot import ARM_JOINTS, ARM_MOTION_LIMITS, GRIPPER_MAX_OPENING, top_down_quat
from nsvla_control.skills import Waypoint
from nsvla_control.timing import TIME_PARAMETERIZATIONS, timed_within_limits, TimedPath

# Franka Panda limits (franka_ros / libfranka datasheet), in ARM_JOINTS order.
PANDA_VMAX = tuple(ARM_MOTION_LIMITS[j][0] for j in ARM_JOINTS)
PANDA_AMAX = tuple(ARM_MOTION_LIMITS[j][1] for j in ARM_JOINTS)
GRIPPER_OPEN = GRIPPER_MAX_OPENING   # per finger, m
CART_STEP = 0.01          # m between IK samples on a straight segment


class MotionError(NsvlaError):
    """A waypoint the arm cannot reach (IK failed) or a motion that cannot be planned."""

    status = 'motion_failed'


@dataclass
class ArmSegment:
    """A joint trajectory for the arm: times from start (s), positions and velocities."""

    joint_names: Tuple[str, ...]
    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    label: str = ''

    @property
    def duration(self) -> float:
        return float(self.times[-1])


@dataclass
class GripperSegment:
    """A finger target (m per finger) and how long to give it."""

    opening: float
    duration: float
    label: str = ''


Segment = Union[ArmSegment, GripperSegment]


def gripper_segment(wp: Waypoint, grasp_opening: float,
                    seconds: float) -> Optional[GripperSegment]:
    """Return the gripper command a waypoint ends with (open, close on the block, shut), if any."""
    if wp.gripper == 'open':
        return GripperSegment(GRIPPER_OPEN, seconds, 'open')
    if wp.gripper == 'close':
        return GripperSegment(grasp_opening, seconds, 'close')
    if wp.gripper == 'shut':
        return GripperSegment(0.0, seconds, 'shut')
    return None


class MotionBackend(Protocol):
    """What the executor needs from a motion backend."""

    arm_joints: Tuple[str, ...]

    def plan_move(self, q_start: Sequence[float], waypoints: Sequence[Waypoint],
                  grasp_opening: float) -> Tuple[List[Segment], np.ndarray]:
        """Plan the segments through ``waypoints``; return them and the final arm joints."""


class BuiltinMotion:
    """IK + straight-line Cartesian segments + limit-respecting timing, no external planner."""

    def __init__(self, model: object, tcp_site: str, arm_joints: Sequence[str],
                 velocity_scaling: float = 0.4, acceleration_scaling: float = 0.3,
                 gripper_seconds: float = 0.8, q_rest: Optional[Sequence[float]] = None,
                 time_parameterization: str = 'trapezoid') -> None:
        from nsvla_control.kinematics import IKSolver
        if not 0 < velocity_scaling <= 1 or not 0 < acceleration_scaling <= 1:
            raise MotionError('velocity/acceleration scaling must be in (0, 1]')
        if time_parameterization not in TIME_PARAMETERIZATIONS:
            raise MotionError('unknown time_parameterization %r (choose from %s)'
                              % (time_parameterization, ', '.join(TIME_PARAMETERIZATIONS)))
        if time_parameterization == 'toppra':
            try:
                import nsvla_control.timing_toppra  # noqa: F401
            except ImportError as exc:
                raise MotionError('time_parameterization toppra needs the toppra package '
                                  '(pip install toppra): %s' % exc) from exc
        self.time_parameterization = time_parameterization
        self.arm_joints = tuple(arm_joints)
        self.ik = IKSolver(model, tcp_site, self.arm_joints, q_rest=q_rest)
        self.q_rest = None if q_rest is None else np.asarray(q_rest, float)
        self.vmax = np.array(PANDA_VMAX) * velocity_scaling
        self.amax = np.array(PANDA_AMAX) * acceleration_scaling
        self.gripper_seconds = gripper_seconds

    @classmethod
    def for_scene(cls, spec: object, **kwargs: object) -> 'BuiltinMotion':
        """Build the kinematics of the rig's Panda (base and home pose from the rig spec)."""
        import mujoco

        from nsvla_common.robot import TCP_SITE
        from nsvla_control.panda_model import kinematic_mjcf
        model = mujoco.MjModel.from_xml_string(kinematic_mjcf(spec.robot_base))  # type: ignore
        return cls(model, TCP_SITE, ARM_JOINTS, q_rest=spec.home,  # type: ignore
                   **kwargs)

    def _solve(self, pos: Sequence[float], yaw: float, q_init: np.ndarray, label: str
               ) -> np.ndarray:
        res = self.ik.solve(pos, top_down_quat(yaw), q_init=q_init)
        if not res.success:
            raise MotionError('cannot reach %s at %s: %s'
                              % (label or 'waypoint', np.round(np.asarray(pos), 3).tolist(),
                                 res.reason))
        return res.q

    def joint_move(self, q_start: Sequence[float], q_goal: Sequence[float],
                   label: str = 'joint move') -> List[Segment]:
        """Plan a timed move straight in joint space (e.g. out of the camera's view, to home)."""
        q0, q1 = np.asarray(q_start, float), np.asarray(q_goal, float)
        if np.max(np.abs(q1 - q0)) <= 1e-6:
            return []
        timed = self.time_path(np.array([q0, q1]))
        return [ArmSegment(self.arm_joints, timed.times, timed.positions, timed.velocities,
                           label)]

    def time_path(self, path: np.ndarray) -> TimedPath:
        """Time a joint path with this backend's time parameterization, within the limits."""
        return timed_within_limits(path, self.vmax, self.amax, self.time_parameterization)

    def tcp_position(self, q: Sequence[float]) -> np.ndarray:
        """Position of the TCP at joint positions ``q`` (forward kinematics)."""
        return np.asarray(self.ik.forward(np.asarray(q, float))[0], float)

    def joint_path(self, q_start: Sequence[float], wp: Waypoint) -> np.ndarray:
        """Sample joints from ``q_start`` to the waypoint (a straight Cartesian line if asked)."""
        q0 = np.asarray(q_start, float)
        if not wp.straight:
            try:
                return np.array([q0, self._solve(wp.pos, wp.yaw, q0, wp.label)])
            except MotionError:
                if self.q_rest is None:
                    raise
                # a free move need not start its search where the arm is: from a wrist turned
                # near joint 7's limit (a loose ring carried at the yaw it was gripped at), the
                # nearest way to the next yaw runs into that limit (4 blocks with slips, seed
                # 20012: 'above b1' refused five times, joint 7 at its limit); from the rest
                # pose the solver finds the other way round
                return np.array([q0, self._solve(wp.pos, wp.yaw, self.q_rest, wp.label)])
        p0, _ = self.ik.forward(q0)
        p1 = np.asarray(wp.pos, float)
        n = max(1, int(np.ceil(np.linalg.norm(p1 - p0) / CART_STEP)))
        path = [q0]
        q = q0
        for k in range(1, n + 1):
            q = self._solve(p0 + (p1 - p0) * (k / n), wp.yaw, q, wp.label)
            path.append(q)
        return np.array(path)

    def plan_move(self, q_start: Sequence[float], waypoints: Sequence[Waypoint],
                  grasp_opening: float) -> Tuple[List[Segment], np.ndarray]:
        """Plan every waypoint; raise MotionError naming the first unreachable one."""
        segments: List[Segment] = []
        q = np.asarray(q_start, float)
        for wp in waypoints:
            path = self.joint_path(q, wp)
            if np.max(np.abs(path[-1] - path[0])) > 1e-6:
                timed = self.time_path(path)
                segments.append(ArmSegment(self.arm_joints, timed.times, timed.positions,
                                           timed.velocities, wp.label))
            q = path[-1]
            grip = gripper_segment(wp, grasp_opening, self.gripper_seconds)
            if grip:
                segments.append(grip)
        return segments, q

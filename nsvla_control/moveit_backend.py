# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
MoveIt 2 motion backend: the same ``plan_move`` as the built-in one, planned by MoveItPy.

Used on a real Panda or in Gazebo, where ``moveit.planning.MoveItPy`` can be imported (MoveIt 2
installed, ``moveit_config`` of the Panda loaded). The MoveItPy instance owns its own node: the
executor creates this backend once and keeps it. Every plan is checked (success and a non-empty
trajectory) before it is returned; execution still goes through the controller topics so the
executor treats both backends alike.
"""

import importlib.util
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.robot import top_down_quat
from nsvla_control.motion import ArmSegment, gripper_segment, MotionError, Segment
from nsvla_control.skills import Waypoint


def moveit_available() -> bool:
    """Tell whether MoveItPy can be imported here."""
    try:
        return importlib.util.find_spec('moveit.planning') is not None
    except ModuleNotFoundError:
        return False


class MoveItMotion:
    """Plan each waypoint as a pose goal for ``planning_group`` with MoveItPy."""

    def __init__(self, arm_joints: Sequence[str], planning_group: str = 'panda_arm',
                 tcp_link: str = 'panda_hand_tcp', base_frame: str = 'panda_link0',
                 gripper_seconds: float = 0.8, moveit: Optional[Any] = None,
                 node_name: str = 'nsvla_moveit_py',
                 start_state: Optional[Callable[[np.ndarray], Any]] = None) -> None:
        self.arm_joints = tuple(arm_joints)
        self.group = planning_group
        self.tcp_link = tcp_link
        self.base_frame = base_frame
        self.gripper_seconds = gripper_seconds
        if moveit is None:
            if not moveit_available():
                raise MotionError('motion backend "moveit" needs MoveIt 2 (moveit.planning.'
                                  'MoveItPy), which is not installed here; use "builtin"')
            from moveit.planning import MoveItPy
            moveit = MoveItPy(node_name=node_name)
        self.moveit = moveit
        self.component = moveit.get_planning_component(planning_group)
        self._start_state = start_state or self._robot_state

    def _robot_state(self, q: np.ndarray) -> Any:
        from moveit.core.robot_state import RobotState
        state = RobotState(self.moveit.get_robot_model())
        state.set_joint_group_positions(self.group, q)
        state.update()
        return state

    def _pose(self, wp: Waypoint) -> Any:
        from geometry_msgs.msg import PoseStamped
        pose = PoseStamped()
        pose.header.frame_id = self.base_frame
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = map(float, wp.pos)
        w, x, y, z = top_down_quat(wp.yaw)
        pose.pose.orientation.w, pose.pose.orientation.x = float(w), float(x)
        pose.pose.orientation.y, pose.pose.orientation.z = float(y), float(z)
        return pose

    def tcp_position(self, q: Sequence[float]) -> np.ndarray:
        """Position of the TCP at ``q`` (MoveIt's forward kinematics of the robot model)."""
        try:
            state = self._start_state(np.asarray(q, float))
            pose = state.get_pose(self.tcp_link)
            return np.array([pose.position.x, pose.position.y, pose.position.z])
        except Exception as exc:  # noqa: BLE001 - MoveItPy API differences between releases
            raise MotionError('forward kinematics of %s failed: %s' % (self.tcp_link, exc))

    def plan_move(self, q_start: Sequence[float], waypoints: Sequence[Waypoint],
                  grasp_opening: float) -> Tuple[List[Segment], np.ndarray]:
        """Plan every waypoint with MoveIt; raise MotionError when a plan fails."""
        segments: List[Segment] = []
        q = np.asarray(q_start, float)
        for wp in waypoints:
            # each waypoint starts where the previous plan ended, not where the arm is now
            self.component.set_start_state(robot_state=self._start_state(q))
            self.component.set_goal_state(pose_stamped_msg=self._pose(wp),
                                          pose_link=self.tcp_link)
            result = self.component.plan()
            if not result or result.trajectory is None:
                raise MotionError('MoveIt found no plan to %s at %s'
                                  % (wp.label, [round(v, 3) for v in wp.pos]))
            msg = result.trajectory.get_robot_trajectory_msg().joint_trajectory
            names = tuple(msg.joint_names)
            if not msg.points or not set(self.arm_joints) <= set(names):
                raise MotionError('MoveIt returned an empty or foreign trajectory for %s'
                                  % wp.label)
            order = [names.index(j) for j in self.arm_joints]
            times = np.array([p.time_from_start.sec + p.time_from_start.nanosec * 1e-9
                              for p in msg.points])
            pos = np.array([[p.positions[i] for i in order] for p in msg.points])
            vel = np.array([[p.velocities[i] if p.velocities else 0.0 for i in order]
                            for p in msg.points])
            segments.append(ArmSegment(self.arm_joints, times, pos, vel, wp.label))
            q = pos[-1]
            grip = gripper_segment(wp, grasp_opening, self.gripper_seconds)
            if grip:
                segments.append(grip)
        return segments, q

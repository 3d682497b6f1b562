# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
MoveIt 2 motion backend: the same ``plan_move`` as the built-in one, planned by MoveItPy.

Used on a real Panda or in Gazebo, where ``moveit.planning.MoveItPy`` can be imported (MoveIt 2
with moveit_py). MoveItPy is configured the way it requires, from a MoveIt configuration
package of the Panda (``moveit_config_package``, by default
``moveit_resources_panda_moveit_config``) through ``moveit_configs_utils``, plus nsvla's
``config/moveit/moveit_cpp.yaml`` (:func:`moveit_config_dict`). Each waypoint is one plan:

- a free move (travel, the way home) with the ``nsvla_free`` request set (OMPL);
- a straight approach or retreat (``Waypoint.straight``) with ``nsvla_straight``, Pilz's
  ``LIN`` planner: a Cartesian straight line, as the built-in backend samples one;
- both with ``max_velocity_scaling_factor`` / ``max_acceleration_scaling_factor`` set from the
  executor's ``velocity_scaling`` / ``acceleration_scaling``, so MoveIt's time
  parameterisation keeps the arm within the same fractions of the Panda's limits.

Every plan is checked (success and a non-empty trajectory of the arm's joints) before it is
returned. The MoveItPy instance owns its own node: the executor creates this backend once and
keeps it. Execution goes through the executor's arm (FollowJointTrajectory where control_msgs
is importable, the controllers' topics otherwise), so the executor treats both backends alike;
``joint_move`` (the way out of the camera's view) is a MoveIt plan to a joint goal.
"""

import importlib.util
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError
from nsvla_common.paths import config_path
from nsvla_common.robot import top_down_quat
from nsvla_control.motion import ArmSegment, gripper_segment, MotionError, Segment
from nsvla_control.skills import Waypoint

DEFAULT_CONFIG_PACKAGE = 'moveit_resources_panda_moveit_config'
MOVEIT_CPP_FILE = 'moveit/moveit_cpp.yaml'      # in config/
FREE_REQUEST = 'nsvla_free'                      # request sets of that file
STRAIGHT_REQUEST = 'nsvla_straight'


def moveit_available() -> bool:
    """Tell whether MoveItPy can be imported here."""
    try:
        return importlib.util.find_spec('moveit.planning') is not None
    except ModuleNotFoundError:
        return False


def moveit_config_dict(config_package: str = DEFAULT_CONFIG_PACKAGE,
                       moveit_cpp_file: str = '') -> Dict[str, Any]:
    """
    Return the parameters MoveItPy needs (``config_dict``) for the Panda.

    ``config_package`` is a MoveIt configuration package (``<robot>_moveit_config``: URDF,
    SRDF, kinematics, joint limits, planning pipelines); ``moveit_cpp_file`` MoveItPy's own
    settings (default: nsvla's ``config/moveit/moveit_cpp.yaml``). Raises MotionError when
    ``moveit_configs_utils`` or the package is not installed, saying what to install.
    """
    try:
        from moveit_configs_utils import MoveItConfigsBuilder
    except ImportError:
        raise MotionError('motion backend "moveit" needs moveit_configs_utils (apt install '
                          'ros-$ROS_DISTRO-moveit-configs-utils) to configure MoveItPy')
    suffix = '_moveit_config'
    if not config_package.endswith(suffix):
        raise ConfigError('moveit_config_package must be a MoveIt configuration package '
                          '(<robot>%s), got %r' % (suffix, config_package))
    robot = config_package[:-len(suffix)]
    cpp = config_path(moveit_cpp_file or MOVEIT_CPP_FILE)
    try:
        builder = MoveItConfigsBuilder(robot, package_name=config_package)
        builder = builder.moveit_cpp(file_path=cpp)
        builder = builder.planning_pipelines(
            pipelines=['ompl', 'pilz_industrial_motion_planner'])
        return dict(builder.to_moveit_configs().to_dict())
    except Exception as exc:  # noqa: BLE001 - a missing package, a broken file: say which
        raise MotionError('cannot build the MoveIt configuration from %s and %s: %s (apt '
                          'install ros-$ROS_DISTRO-moveit-resources-panda-moveit-config for '
                          'the default)' % (config_package, cpp, exc))


class MoveItMotion:
    """Plan each waypoint as a pose goal for ``planning_group`` with MoveItPy."""

    def __init__(self, arm_joints: Sequence[str], planning_group: str = 'panda_arm',
                 tcp_link: str = 'panda_hand_tcp', base_frame: str = 'panda_link0',
                 gripper_seconds: float = 0.8, moveit: Optional[Any] = None,
                 node_name: str = 'nsvla_moveit_py',
                 start_state: Optional[Callable[[np.ndarray], Any]] = None,
                 velocity_scaling: float = 0.4, acceleration_scaling: float = 0.3,
                 q_rest: Optional[Sequence[float]] = None,
                 config_package: str = DEFAULT_CONFIG_PACKAGE,
                 moveit_cpp_file: str = '',
                 request_parameters: Optional[Callable[[Any, str], Any]] = None,
                 base_position: Sequence[float] = (0.0, 0.0, 0.0)) -> None:
        self.arm_joints = tuple(arm_joints)
        self.group = planning_group
        self.tcp_link = tcp_link
        self.base_frame = base_frame
        self.gripper_seconds = gripper_seconds
        for name, value in (('velocity_scaling', velocity_scaling),
                            ('acceleration_scaling', acceleration_scaling)):
            if not 0.0 < float(value) <= 1.0:
                raise ConfigError('%s must be in (0, 1], got %r' % (name, value))
        self.velocity_scaling = float(velocity_scaling)
        self.acceleration_scaling = float(acceleration_scaling)
        self.q_rest = None if q_rest is None else np.asarray(q_rest, float)
        # waypoints are in the world frame; MoveIt plans in base_frame (panda_link0), which
        # the rig puts at robot.base (a translation)
        self.base_position = np.asarray(base_position, float).reshape(3)
        if moveit is None:
            if not moveit_available():
                raise MotionError('motion backend "moveit" needs MoveIt 2 (moveit.planning.'
                                  'MoveItPy), which is not installed here; use "builtin"')
            from moveit.planning import MoveItPy
            moveit = MoveItPy(node_name=node_name,
                              config_dict=moveit_config_dict(config_package, moveit_cpp_file))
        self.moveit = moveit
        self.component = moveit.get_planning_component(planning_group)
        self._start_state = start_state or self._robot_state
        self._request_parameters = request_parameters

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
        pos = np.asarray(wp.pos, float) - self.base_position
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = map(float, pos)
        w, x, y, z = top_down_quat(wp.yaw)
        pose.pose.orientation.w, pose.pose.orientation.x = float(w), float(x)
        pose.pose.orientation.y, pose.pose.orientation.z = float(y), float(z)
        return pose

    def tcp_position(self, q: Sequence[float]) -> np.ndarray:
        """Position of the TCP at ``q`` (MoveIt's forward kinematics of the robot model)."""
        try:
            state = self._start_state(np.asarray(q, float))
            pose = state.get_pose(self.tcp_link)
            return (np.array([pose.position.x, pose.position.y, pose.position.z])
                    + self.base_position)
        except Exception as exc:  # noqa: BLE001 - MoveItPy API differences between releases
            raise MotionError('forward kinematics of %s failed: %s' % (self.tcp_link, exc))

    def request(self, straight: bool) -> Any:
        """Return the plan request parameters of a straight or a free move, scaled."""
        make = self._request_parameters
        if make is None:
            from moveit.planning import PlanRequestParameters as make
        params = make(self.moveit, STRAIGHT_REQUEST if straight else FREE_REQUEST)
        params.max_velocity_scaling_factor = self.velocity_scaling
        params.max_acceleration_scaling_factor = self.acceleration_scaling
        return params

    def _plan(self, what: str, straight: bool, label: str) -> ArmSegment:
        """Plan from the start and goal set on the component; check it; return the segment."""
        try:
            result = self.component.plan(single_plan_parameters=self.request(straight))
        except Exception as exc:  # noqa: BLE001 - MoveIt raises RuntimeError and others
            raise MotionError('MoveIt failed planning %s: %s' % (what, exc))
        if not result or result.trajectory is None:
            raise MotionError('MoveIt found no plan to %s' % what)
        msg = result.trajectory.get_robot_trajectory_msg().joint_trajectory
        names = tuple(msg.joint_names)
        if not msg.points or not set(self.arm_joints) <= set(names):
            raise MotionError('MoveIt returned an empty or foreign trajectory for %s' % what)
        order = [names.index(j) for j in self.arm_joints]
        times = np.array([p.time_from_start.sec + p.time_from_start.nanosec * 1e-9
                          for p in msg.points])
        pos = np.array([[p.positions[i] for i in order] for p in msg.points])
        vel = np.array([[p.velocities[i] if p.velocities else 0.0 for i in order]
                        for p in msg.points])
        return ArmSegment(self.arm_joints, times, pos, vel, label)

    def plan_move(self, q_start: Sequence[float], waypoints: Sequence[Waypoint],
                  grasp_opening: float) -> Tuple[List[Segment], np.ndarray]:
        """Plan every waypoint with MoveIt (straight ones with Pilz LIN); raise MotionError."""
        segments: List[Segment] = []
        q = np.asarray(q_start, float)
        for wp in waypoints:
            # each waypoint starts where the previous plan ended, not where the arm is now
            self.component.set_start_state(robot_state=self._start_state(q))
            self.component.set_goal_state(pose_stamped_msg=self._pose(wp),
                                          pose_link=self.tcp_link)
            seg = self._plan('%s at %s' % (wp.label, [round(v, 3) for v in wp.pos]),
                             wp.straight, wp.label)
            segments.append(seg)
            q = seg.positions[-1]
            grip = gripper_segment(wp, grasp_opening, self.gripper_seconds)
            if grip:
                segments.append(grip)
        return segments, q

    def joint_move(self, q_start: Sequence[float], q_goal: Sequence[float],
                   label: str = 'joint move') -> List[Segment]:
        """Plan a free move to joint positions ``q_goal`` (e.g. out of the camera's view)."""
        q0, q1 = np.asarray(q_start, float), np.asarray(q_goal, float)
        if np.max(np.abs(q1 - q0)) <= 1e-6:
            return []
        self.component.set_start_state(robot_state=self._start_state(q0))
        self.component.set_goal_state(robot_state=self._start_state(q1))
        return [self._plan(label, False, label)]

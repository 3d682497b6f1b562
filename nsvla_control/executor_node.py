# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Executor node: plans in, arm and gripper trajectories out, closed-loop with replanning.

Subscribes ``plan`` (every solved plan starts an episode unless one is running),
``symbolic_state`` and ``joint_states``; publishes ``arm_controller/joint_trajectory`` and
``gripper_controller/joint_trajectory`` (the joint_trajectory_controller topics of
ros2_control, so the same node drives the embedded sim, Gazebo and a real Panda) and
``execution_status`` (JSON events); serves ``~/cancel`` (std_srvs/Trigger: the arm holds where
it is and the episode ends). On a surprise after a move it calls the planner's ``~/plan``.
The logic lives in :mod:`nsvla_control.episode`; this module only moves messages.
"""

import itertools
import json
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from builtin_interfaces.msg import Duration
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from nsvla_common import envelope
from nsvla_common.errors import ConfigError, NsvlaError
from nsvla_common.spin import run_node
from nsvla_control.episode import EpisodeConfig, run_episode
from nsvla_control.motion import ArmSegment, GripperSegment, MotionError, Segment
from nsvla_control.skills import move_of, Skills
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import block_index, Goal, SymbolicState

FINGER_JOINT = 'panda_finger_joint1'


def _duration(seconds: float) -> Duration:
    sec = int(seconds)
    return Duration(sec=sec, nanosec=int(round((seconds - sec) * 1e9)))


def arm_trajectory_msg(seg: ArmSegment) -> JointTrajectory:
    """Convert an ArmSegment into a JointTrajectory (positions + velocities)."""
    msg = JointTrajectory(joint_names=list(seg.joint_names))
    for t, q, v in zip(seg.times, seg.positions, seg.velocities):
        msg.points.append(JointTrajectoryPoint(positions=[float(x) for x in q],
                                               velocities=[float(x) for x in v],
                                               time_from_start=_duration(float(t))))
    return msg


def gripper_trajectory_msg(seg: GripperSegment) -> JointTrajectory:
    """Convert a GripperSegment into a one-point JointTrajectory of the finger joint."""
    msg = JointTrajectory(joint_names=[FINGER_JOINT])
    msg.points.append(JointTrajectoryPoint(positions=[float(seg.opening)],
                                           time_from_start=_duration(0.6 * seg.duration)))
    return msg


class ExecutorNode(Node):
    """Thin ROS 2 wrapper around :func:`nsvla_control.episode.run_episode`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('executor', **kwargs)
        d = ParameterDescriptor
        self.declare_parameter('motion_backend', 'builtin', d(
            description='builtin (IK + timed trajectories) or moveit (MoveItPy)', read_only=True))
        self.declare_parameter('scene_config', 'scene_default.yaml', d(
            description='scene YAML: peg positions, block sizes, robot home', read_only=True))
        self.declare_parameter('max_replans', 3, d(
            description='replans per episode before giving up',
            integer_range=[IntegerRange(from_value=0, to_value=50)]))
        self.declare_parameter('velocity_scaling', 0.4, d(
            description='fraction of the Panda joint velocity limits', read_only=True,
            floating_point_range=[FloatingPointRange(from_value=0.01, to_value=1.0)]))
        self.declare_parameter('acceleration_scaling', 0.3, d(
            description='fraction of the Panda joint acceleration limits', read_only=True,
            floating_point_range=[FloatingPointRange(from_value=0.01, to_value=1.0)]))
        self.declare_parameter('grasp_squeeze', 0.004, d(
            description='close each finger this far inside the block flats (m)',
            floating_point_range=[FloatingPointRange(from_value=0.0, to_value=0.02)]))
        self.declare_parameter('goal_tolerance', 0.03, d(
            description='max joint error (rad) to call a trajectory finished',
            floating_point_range=[FloatingPointRange(from_value=0.001, to_value=0.5)]))
        self.declare_parameter('trajectory_timeout_margin_s', 5.0, d(
            description='seconds past a trajectory\'s duration before it counts as failed',
            floating_point_range=[FloatingPointRange(from_value=0.0, to_value=120.0)]))
        self.declare_parameter('settle_s', 0.5, d(
            description='seconds to wait after a move before looking at the blocks',
            floating_point_range=[FloatingPointRange(from_value=0.0, to_value=30.0)]))
        self.declare_parameter('observe_timeout_s', 10.0, d(
            description='seconds to wait for a fresh symbolic_state after a move',
            floating_point_range=[FloatingPointRange(from_value=0.1, to_value=120.0)]))
        self.declare_parameter('planner_service', 'planner/plan', d(
            description='Trigger service asked for a new plan on a surprise', read_only=True))
        p = self.get_parameter
        from nsvla_sim.scene import load_scene
        try:
            self.scene = load_scene(p('scene_config').value)
            self.skills = Skills(self.scene)
            self.motion = self._make_motion(p('motion_backend').value)
        except OSError as exc:
            raise ConfigError('cannot read the scene: %s' % exc) from None
        self._lock = threading.Lock()
        self._joints: Dict[str, float] = {}
        self._state_msg: Tuple[float, Optional[str]] = (0.0, None)
        self._running = False
        self._cancel = threading.Event()
        self._shutting_down = False
        self._episodes = itertools.count(1)
        io = MutuallyExclusiveCallbackGroup()
        work = ReentrantCallbackGroup()
        self._arm_pub = self.create_publisher(JointTrajectory, 'arm_controller/joint_trajectory',
                                              10)
        self._grip_pub = self.create_publisher(JointTrajectory,
                                               'gripper_controller/joint_trajectory', 10)
        self._status_pub = self.create_publisher(String, 'execution_status', 50)
        self.create_subscription(JointState, 'joint_states', self._on_joints, 50,
                                 callback_group=io)
        self.create_subscription(String, 'symbolic_state', self._on_state, 10,
                                 callback_group=io)
        self.create_subscription(String, 'plan', self._on_plan, 10, callback_group=work)
        self.create_service(Trigger, '~/cancel', self._on_cancel, callback_group=io)
        self._planner = self.create_client(Trigger, p('planner_service').value,
                                           callback_group=work)
        self.get_logger().info('executor ready: motion=%s scene=%s'
                               % (p('motion_backend').value, self.scene.source))

    def _make_motion(self, name: str) -> Any:
        p = self.get_parameter
        if name == 'builtin':
            from nsvla_control.motion import BuiltinMotion
            return BuiltinMotion.for_scene(self.scene,
                                           velocity_scaling=p('velocity_scaling').value,
                                           acceleration_scaling=p('acceleration_scaling').value)
        if name == 'moveit':
            from nsvla_control.moveit_backend import MoveItMotion
            from nsvla_sim.mjcf import ARM_JOINTS
            return MoveItMotion(ARM_JOINTS)
        raise MotionError('unknown motion_backend %r (builtin or moveit)' % name)

    # ----------------------------------------------------------------- inputs
    def _on_joints(self, msg: JointState) -> None:
        with self._lock:
            for name, pos in zip(msg.name, msg.position):
                self._joints[name] = float(pos)

    def _on_state(self, msg: String) -> None:
        with self._lock:
            self._state_msg = (time.monotonic(), msg.data)

    def _on_cancel(self, request: Trigger.Request, response: Trigger.Response) -> Any:
        if not self._running:
            response.success, response.message = False, 'no episode is running'
            return response
        self._cancel.set()
        self._hold()
        response.success, response.message = True, 'cancelling: the arm holds its position'
        return response

    def _on_plan(self, msg: String) -> None:
        try:
            data = envelope.parse(msg.data, 'plan')
        except NsvlaError as exc:
            self.get_logger().warning('dropped plan message: %s' % exc)
            return
        if data.get('status') != 'solved':
            self.get_logger().info('plan #%s not solved (%s): nothing to execute'
                                   % (data.get('request_id'), data.get('status')))
            return
        if data.get('goal') is None:
            self.get_logger().warning('dropped plan without a goal')
            return
        with self._lock:
            if self._running:
                return     # replans arrive here too while an episode runs
            self._running = True
        self._cancel.clear()
        try:
            self._run(data)
        finally:
            with self._lock:
                self._running = False

    # ----------------------------------------------------------------- episode
    def _run(self, data: Dict[str, Any]) -> None:
        try:
            goal = Goal.from_json(json.dumps(data['goal']))
        except NsvlaError as exc:
            self.get_logger().error('plan goal unusable: %s' % exc)
            return
        initial = PlanResult('solved', data.get('plan', []), data.get('engine', ''),
                             float(data.get('seconds', 0.0)), moves=int(data.get('moves', 0)))
        episode_id = 'ep%d-%d' % (next(self._episodes), int(time.time()))
        self.get_logger().info('episode %s: %d planned moves' % (episode_id, initial.moves))
        result = run_episode(self, self._replan, goal, episode_id, self._publish_status,
                             EpisodeConfig(max_replans=self.get_parameter('max_replans').value),
                             initial_plan=initial, cancelled=self._cancel.is_set)
        log = self.get_logger().info if result.solved else self.get_logger().warning
        log('episode %s %s after %d moves, %d replans: %s'
            % (episode_id, 'solved' if result.solved else 'FAILED', result.moves,
               result.replans, result.reason))

    def _publish_status(self, event: Dict[str, Any]) -> None:
        if self._shutting_down:
            return
        self._status_pub.publish(String(data=envelope.dumps(event)))

    def destroy_node(self) -> None:
        """Stop a running episode (it checks the cancel flag) before the node goes away."""
        self._shutting_down = True
        self._cancel.set()
        super().destroy_node()

    # Robot protocol (called from the episode thread) -------------------------------
    def execute_move(self, state: SymbolicState, block: str, onto: str) -> Tuple[bool, str]:
        """Plan and run the arm/gripper motion of one block move."""
        try:
            move = move_of(state, block, onto)
            waypoints = self.skills.move_waypoints(move, state.num_blocks)
            apothem = self.scene.block_apothems(state.num_blocks)[block_index(block) - 1]
            opening = max(0.0, apothem - self.get_parameter('grasp_squeeze').value)
            q = self._current_arm()
            segments, _ = self.motion.plan_move(q, waypoints, opening)
        except NsvlaError as exc:
            return False, str(exc)
        return self._follow(segments)

    def observe(self) -> SymbolicState:
        """Wait ``settle_s``, then return the first symbolic_state received after that."""
        p = self.get_parameter
        self._sleep(p('settle_s').value)
        since = time.monotonic()
        deadline = since + p('observe_timeout_s').value
        while time.monotonic() < deadline and not self._cancel.is_set():
            with self._lock:
                stamp, text = self._state_msg
            if text is not None and stamp >= since:
                if '"held":true' in text.replace(' ', '') and time.monotonic() < deadline - 1.0:
                    # perception repeats its last confident state while the view is blocked:
                    # wait for a fresh look rather than trust what was seen before the move
                    since = stamp + 1e-6
                    time.sleep(0.02)
                    continue
                try:
                    return SymbolicState.from_json(text)
                except NsvlaError as exc:
                    return SymbolicState.unknown(1, 3, 'invalid symbolic_state: %s' % exc)
            time.sleep(0.02)
        return SymbolicState.unknown(1, 3, 'no symbolic_state within %.1f s'
                                     % p('observe_timeout_s').value)

    def _replan(self, state: SymbolicState, goal: Goal) -> PlanResult:
        if not self._planner.wait_for_service(timeout_sec=5.0):
            return PlanResult('planning_failed', [], '', 0.0,
                              reason='planner service %s is not available'
                              % self.get_parameter('planner_service').value)
        for _attempt in range(5):
            future = self._planner.call_async(Trigger.Request())
            end = time.monotonic() + 120.0
            while not future.done() and time.monotonic() < end:
                time.sleep(0.01)
            if not future.done():
                return PlanResult('timeout', [], '', 0.0, reason='planner did not answer')
            try:
                data = json.loads(future.result().message)
            except (ValueError, AttributeError):
                return PlanResult('planning_failed', [], '', 0.0, reason='bad planner answer')
            planned_from = data.get('state')
            if planned_from is None or SymbolicState.from_json(
                    json.dumps(planned_from)) == state:
                return PlanResult(data.get('status', 'planning_failed'), data.get('plan', []),
                                  data.get('engine', ''), float(data.get('seconds', 0.0)),
                                  reason=data.get('reason', ''), moves=int(data.get('moves', 0)))
            time.sleep(0.3)   # the planner has not seen the state we observed yet
        return PlanResult('planning_failed', [], '', 0.0,
                          reason='the planner keeps planning from another state')

    # ----------------------------------------------------------------- motion I/O
    def _current_arm(self) -> np.ndarray:
        names = self.motion.arm_joints
        end = time.monotonic() + 5.0
        while time.monotonic() < end:
            with self._lock:
                if all(n in self._joints for n in names):
                    return np.array([self._joints[n] for n in names])
            time.sleep(0.02)
        raise MotionError('no joint_states for %s' % ', '.join(names))

    def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of ROS time (sim time when use_sim_time), bounded in wall time."""
        clock = self.get_clock()
        start = clock.now()
        wall_end = time.monotonic() + 5 * seconds + 10.0
        while (clock.now() - start).nanoseconds * 1e-9 < seconds:
            if time.monotonic() > wall_end or self._cancel.is_set():
                return
            time.sleep(0.005)

    def _follow(self, segments: Sequence[Segment]) -> Tuple[bool, str]:
        tol = self.get_parameter('goal_tolerance').value
        margin = self.get_parameter('trajectory_timeout_margin_s').value
        for seg in segments:
            if self._cancel.is_set() or self._shutting_down:
                return False, 'cancelled'
            if isinstance(seg, GripperSegment):
                self._grip_pub.publish(gripper_trajectory_msg(seg))
                self._sleep(seg.duration)
                continue
            self._arm_pub.publish(arm_trajectory_msg(seg))
            self._sleep(seg.duration)
            target = seg.positions[-1]
            clock = self.get_clock()
            start = clock.now()
            while True:
                err = float(np.max(np.abs(self._current_arm() - target)))
                if err <= tol:
                    break
                waited = (clock.now() - start).nanoseconds * 1e-9
                if waited > margin or self._cancel.is_set():
                    return False, ('arm did not reach the end of %r (error %.3f rad)'
                                   % (seg.label, err))
                time.sleep(0.01)
        return True, ''

    def _hold(self) -> None:
        """Stop the arm where it is: an empty trajectory makes the controller hold."""
        self._arm_pub.publish(JointTrajectory(joint_names=list(self.motion.arm_joints)))


def main(args: List[str] = None) -> int:
    """Run the executor node until Ctrl-C; exit 2 when it cannot start."""
    return run_node(ExecutorNode, 'executor', args, threads=4)


if __name__ == '__main__':
    sys.exit(main())

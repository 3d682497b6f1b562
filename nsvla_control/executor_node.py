# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Executor node: serves ``execute_task`` on the one :class:`~nsvla_control.executor.Executor`.

A goal (an instruction in words, or goal facts) runs one closed-loop episode: the executor
looks at the blocks (``symbolic_state``, fresh observations only), asks the planner's
``plan_task`` action for a plan from what it sees, moves the arm through the
``arm_controller/joint_trajectory`` and ``gripper_controller/joint_trajectory`` topics (the
joint_trajectory_controller topics of ros2_control: the embedded sim, Gazebo and a real Panda
take the same), looks after every move and replans on a surprise. Every event goes to
``execution_status`` (nsvla_interfaces/EpisodeEvent) and, per step, to the goal's feedback.
One goal at a time: a goal sent while an episode runs is answered at once with
``success: false`` and the reason. Cancelling makes the arm hold where it is.

The logic lives in :mod:`nsvla_control.executor`; this module only moves messages.
"""

import itertools
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from builtin_interfaces.msg import Duration
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.duration import Duration as RosDuration
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
from std_msgs.msg import Header

from nsvla_common.errors import ConfigError, NsvlaError, ValidationError
from nsvla_common.ondemand import OnDemand, take_queued
from nsvla_common.params import declare
from nsvla_common.rig import load_scene
from nsvla_common.qos import alive_qos
from nsvla_common.spin import run_node
from nsvla_common.topics import ARM_COMMAND, GRIPPER_COMMAND, LOOK_REQUEST
from nsvla_control.executor import Executor, PARAMETERS, TRAJECTORY_INTERFACES
from nsvla_control.motion import ArmSegment, GripperSegment, MotionError, Segment
from nsvla_interfaces.action import ExecuteTask, PlanTask
from nsvla_interfaces.msg import SymbolicState as StateMsg
from nsvla_planner import messages
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import Goal, SymbolicState

FINGER_JOINT = 'panda_finger_joint1'
GRIPPER_EFFORT_N = 20.0     # GripperCommand max_effort: enough to hold a ring, not crush it
# finished goals' results are kept this long for clients that ask late (rclpy keeps 10 s)
RESULT_KEEP_S = 900
FEEDBACK_EVENTS = ('step_start', 'step_end', 'replan', 'recover')
JOINT_QUEUE = 10      # joint_states kept between two reads (the newest of each publisher)
RATE_WINDOW_S = 0.5   # the robot clock's rate is measured over at least this much wall time
LOOK_REPEAT_S = 1.0   # a look asks again for a fresh state this often while none has come
ARM_ACTION = 'arm_controller/follow_joint_trajectory'   # control_msgs/FollowJointTrajectory
GRIPPER_ACTION = 'gripper_controller/gripper_cmd'         # control_msgs/GripperCommand
ACCEPT_TIMEOUT_S = 2.0   # a controller answers a trajectory goal within this (wall) time


def control_actions() -> Optional[Tuple[Any, Any]]:
    """Return (FollowJointTrajectory, GripperCommand) from control_msgs, None without it."""
    try:
        from control_msgs.action import FollowJointTrajectory, GripperCommand
    except ImportError:
        return None
    return FollowJointTrajectory, GripperCommand


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


class RosArm:
    """
    The executor's Arm over the controller topics and ``joint_states``.

    ``joint_states`` is read when the executor needs it, not 50 times a second: its subscription
    is in an :class:`OnDemand` group, and the messages queued since the last read (at most
    ``JOINT_QUEUE``) are taken and decoded by ``joint_positions`` and ``wait``. Time is the
    robot's: the newest joint_states stamp (sim time in the embedded world; the node clock when
    the robot does not stamp them), so the node needs no ``/clock``. ``wait`` sleeps until the
    moment the robot clock should reach the end, predicted from the rate it has been running at,
    reads, and sleeps the rest: a few wake-ups per wait, none between.
    """

    def __init__(self, node: Node, arm_joints: Any, group: Any, interface: str = 'topic',
                 actions: Optional[Tuple[Any, Any]] = None,
                 action_client: Any = ActionClient) -> None:
        self.node = node
        self.arm_joints = tuple(arm_joints)
        self.interface = interface
        self._arm_action: Any = None
        self._grip_action: Any = None
        self._arm_goal: Any = None          # the goal handle of the trajectory running now
        self._used: Dict[str, str] = {}     # controller -> the interface it was sent through
        self._sent = 0                       # action goals sent so far
        if interface not in TRAJECTORY_INTERFACES:
            raise ConfigError('trajectory_interface must be one of %s, got %r'
                              % (', '.join(TRAJECTORY_INTERFACES), interface))
        if interface != 'topic':
            actions = actions or control_actions()
            if actions is None and interface == 'action':
                raise ConfigError('trajectory_interface "action" needs control_msgs (apt '
                                  'install ros-$ROS_DISTRO-control-msgs); use auto or topic')
            if actions is not None:
                self._fjt, self._gripper_cmd = actions
                goals = MutuallyExclusiveCallbackGroup()
                self._arm_action = action_client(node, self._fjt, ARM_ACTION,
                                                 callback_group=goals)
                self._grip_action = action_client(node, self._gripper_cmd, GRIPPER_ACTION,
                                                  callback_group=goals)
        self._lock = threading.Lock()
        self._joints: Dict[str, float] = {}
        self._stamp: Optional[float] = None      # robot time of the newest joint_states, s
        self._rate_ref: Optional[Tuple[float, float]] = None   # (monotonic, robot time)
        self._rate: Optional[float] = None       # robot seconds per wall second
        self.rejected = 0
        self.stop = threading.Event()
        self._arm_pub = node.create_publisher(JointTrajectory, ARM_COMMAND, 10)
        self._grip_pub = node.create_publisher(JointTrajectory, GRIPPER_COMMAND, 10)
        self._sub = node.create_subscription(JointState, 'joint_states', self._on_joints,
                                             JOINT_QUEUE, callback_group=OnDemand())

    def _on_joints(self, msg: JointState) -> None:
        try:
            update = {str(n): float(p) for n, p in zip(msg.name, msg.position)}
            stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        except Exception as exc:  # noqa: BLE001 - outside input: reject, never die
            self.rejected += 1
            self.node.get_logger().warning('dropped joint_states: %s' % exc,
                                           throttle_duration_sec=5.0)
            return
        self._joints.update(update)
        if stamp > 0.0 and (self._stamp is None or stamp > self._stamp):
            self._stamp = stamp

    def _take(self) -> Optional[float]:
        """Decode the joint_states queued since the last read; return the robot time (s)."""
        with self._lock:
            for msg in take_queued(self._sub, JOINT_QUEUE):
                self._on_joints(msg)
            if self._stamp is not None:
                now = self._stamp
            elif self._joints:            # joint_states without stamps: the node's clock
                now = self.node.get_clock().now().nanoseconds * 1e-9
            else:
                return None
            wall = time.monotonic()
            ref = self._rate_ref
            if ref is None or now < ref[1]:
                self._rate_ref = (wall, now)
            elif wall - ref[0] >= RATE_WINDOW_S:
                if now > ref[1]:
                    self._rate = (now - ref[1]) / (wall - ref[0])
                self._rate_ref = (wall, now)
            return now

    def joint_positions(self) -> np.ndarray:
        end = time.monotonic() + 5.0
        while True:
            self._take()
            with self._lock:
                if all(n in self._joints for n in self.arm_joints):
                    return np.array([self._joints[n] for n in self.arm_joints])
            if time.monotonic() > end or self.stop.wait(0.02):
                raise MotionError('no joint_states for %s' % ', '.join(self.arm_joints))

    def finger_opening(self) -> Optional[float]:
        """Return the opening of one finger (``panda_finger_joint1``, m), None if not reported."""
        self._take()
        with self._lock:
            value = self._joints.get(FINGER_JOINT)
        return None if value is None else float(value)

    def send(self, segment: Segment) -> None:
        """
        Hand a segment to its controller: its action where there is one, else its topic.

        ``trajectory_interface`` auto takes the action when control_msgs is importable and the
        controller's action server is up, the topic otherwise; action always takes it (and
        waits ``ACCEPT_TIMEOUT_S`` for the server); topic never does. A goal the controller
        rejects raises MotionError with the reason.
        """
        gripper = isinstance(segment, GripperSegment)
        client = self._grip_action if gripper else self._arm_action
        if client is not None and (client.server_is_ready() or (
                self.interface == 'action' and client.wait_for_server(ACCEPT_TIMEOUT_S))):
            self._note(GRIPPER_ACTION if gripper else ARM_ACTION, 'action')
            if gripper:
                goal = self._gripper_cmd.Goal()
                goal.command.position = float(segment.opening)
                goal.command.max_effort = GRIPPER_EFFORT_N
            else:
                goal = self._fjt.Goal(trajectory=arm_trajectory_msg(segment))
            handle = self._send_goal(client, goal, segment.label)
            if not gripper:
                self._arm_goal = handle
            return
        if self.interface == 'action':
            raise MotionError('no %s action server answered within %.0f s'
                              % (GRIPPER_ACTION if gripper else ARM_ACTION, ACCEPT_TIMEOUT_S))
        self._note(GRIPPER_COMMAND if gripper else ARM_COMMAND, 'topic')
        if gripper:
            self._grip_pub.publish(gripper_trajectory_msg(segment))
        else:
            self._arm_pub.publish(arm_trajectory_msg(segment))

    def _note(self, name: str, how: str) -> None:
        if self._used.get(name) != how:
            self._used[name] = how
            self.node.get_logger().info('trajectories go to %s (%s)' % (name, how))

    def _send_goal(self, client: Any, goal: Any, label: str) -> Any:
        """Send an action goal; wait for the controller's answer; raise if it refuses."""
        answered = threading.Event()
        future = client.send_goal_async(goal)
        future.add_done_callback(lambda _f: answered.set())
        if not answered.wait(ACCEPT_TIMEOUT_S) or future.result() is None:
            raise MotionError('the controller did not answer the goal %r within %.0f s'
                              % (label, ACCEPT_TIMEOUT_S))
        handle = future.result()
        if not handle.accepted:
            raise MotionError('the controller rejected the goal %r' % label)
        self._sent += 1
        handle.get_result_async().add_done_callback(
            lambda f, what=label, n=self._sent: self._on_result(f, what, n))
        return handle

    def _on_result(self, future: Any, label: str, sent: int) -> None:
        if sent != self._sent:
            return      # a later goal took over (the next segment, a hold): not a failure
        try:
            result = future.result().result
            code = int(getattr(result, 'error_code', 0))
            why = str(getattr(result, 'error_string', ''))
        except Exception as exc:  # noqa: BLE001 - a lost result: log it, the pose check decides
            code, why = -1, str(exc)
        if code != 0:
            self.node.get_logger().warning('the controller ended %r with error %d: %s'
                                           % (label, code, why or 'no reason given'))

    def wait(self, seconds: float) -> None:
        """
        Let ``seconds`` of robot time pass (joint_states stamps), bounded in wall time.

        Sleeps until the robot clock should be there (its measured rate, 5 % early; at most
        0.5 s at a time), reads joint_states, and sleeps the rest; 20 ms steps until the rate
        is known. With no joint_states at all it waits ``seconds`` of the node's clock.
        """
        seconds = max(0.0, seconds)
        wall_end = time.monotonic() + 5.0 * seconds + 10.0
        start = self._take()
        if start is None:
            clock = self.node.get_clock()
            end_ros = clock.now() + RosDuration(nanoseconds=int(seconds * 1e9))
            while clock.now() < end_ros and time.monotonic() < wall_end \
                    and not self.stop.wait(0.02):
                pass
            return
        end = start + seconds
        now = start
        while now < end and time.monotonic() < wall_end:
            rate = self._rate
            step = 0.02 if rate is None else min(0.5, max(0.01, 0.95 * (end - now) / rate))
            if self.stop.wait(min(step, max(0.0, wall_end - time.monotonic()))):
                return
            now = self._take() or now

    def hold(self) -> None:
        """Stop the arm where it is: cancel its goal; an empty trajectory makes it hold."""
        handle, self._arm_goal = self._arm_goal, None
        if handle is not None:
            handle.cancel_goal_async()
        self._arm_pub.publish(JointTrajectory(joint_names=list(self.arm_joints)))


class RosEyes:
    """
    The executor's Eyes: the next fresh (not remembered) message on ``symbolic_state``.

    A look first asks for one on ``look_request`` (perception works on every frame until it has
    published a fresh stable state), again every ``LOOK_REPEAT_S`` while none has come.
    """

    def __init__(self, node: Node, group: Any) -> None:
        self.node = node
        self._cond = threading.Condition()
        self._latest: Tuple[float, Optional[Any]] = (0.0, None)
        self._repeats = 0          # remembered messages received so far
        self.stop = threading.Event()
        self._request_pub = node.create_publisher(Header, LOOK_REQUEST, 5)
        node.create_subscription(StateMsg, 'symbolic_state', self._on_state, 10,
                                 callback_group=group)

    def _on_state(self, msg: StateMsg) -> None:
        with self._cond:
            self._latest = (time.monotonic(), msg)
            self._repeats += bool(msg.remembered)
            self._cond.notify_all()

    def _request(self) -> None:
        self._request_pub.publish(Header(stamp=self.node.get_clock().now().to_msg(),
                                         frame_id=self.node.get_name()))

    def look(self, timeout_s: float, cancelled: Any, max_repeats: int = 0) -> SymbolicState:
        """Return the first fresh state (see :class:`~nsvla_control.executor.Eyes`)."""
        since = time.monotonic()
        deadline = since + timeout_s
        remembered = ''
        self._request()
        asked = since
        with self._cond:
            first_repeat = self._repeats
            while time.monotonic() < deadline and not cancelled() and not self.stop.is_set():
                repeats = self._repeats - first_repeat
                if 0 < max_repeats <= repeats:
                    last = self._latest[1]
                    return SymbolicState.unknown(
                        1, 3, 'no fresh symbolic_state in %d frames in a row (the view may be '
                        'blocked; perception repeated: %s)'
                        % (repeats, (last.reason if last is not None else '') or 'its last state'))
                if time.monotonic() - asked >= LOOK_REPEAT_S:
                    self._request()      # a perception that started late, a lost request
                    asked = time.monotonic()
                received, msg = self._latest
                if msg is not None and received >= since:
                    since = received + 1e-9
                    if msg.remembered:
                        remembered = msg.reason or 'a remembered state'
                    else:
                        try:
                            return messages.state_from_msg(msg)
                        except ValidationError as exc:
                            return SymbolicState.unknown(1, 3, 'invalid symbolic_state: %s'
                                                         % exc)
                self._cond.wait(min(0.25, max(0.0, deadline - time.monotonic())))
        why = 'no fresh symbolic_state within %.1f s' % timeout_s
        if remembered:
            why += ' (perception only repeated what it saw before: %s)' % remembered
        return SymbolicState.unknown(1, 3, why)


class PlannerClient:
    """``(state, goal) -> PlanResult`` through the planner's ``plan_task`` action."""

    def __init__(self, node: Node, action: str, timeout_s: float, group: Any,
                 stop: threading.Event) -> None:
        self.node = node
        self.timeout_s = timeout_s
        self.stop = stop
        self.client = ActionClient(node, PlanTask, action, callback_group=group)

    def _wait(self, future: Any, seconds: float) -> bool:
        done = threading.Event()
        future.add_done_callback(lambda _f: done.set())
        end = time.monotonic() + seconds
        while not done.wait(0.1):
            if time.monotonic() > end or self.stop.is_set():
                return False
        return True

    def request(self, instruction: str = '', goal: Optional[Goal] = None,
                start: Optional[SymbolicState] = None) -> Tuple[PlanResult, Any]:
        """Send one PlanTask goal; return (PlanResult, the Plan message or None)."""
        def failed(status: str, reason: str) -> Tuple[PlanResult, Any]:
            return PlanResult(status, [], '', 0.0, reason=reason), None
        if not self.client.wait_for_server(timeout_sec=10.0):
            return failed('planning_failed', 'the plan_task action server is not available')
        req = PlanTask.Goal(instruction=instruction)
        if goal is not None:
            req.goal = [messages.goal_to_msg(goal)]
        if start is not None:
            req.start = [messages.state_to_msg(start)]
        for attempt in range(5):
            send = self.client.send_goal_async(req)
            if not self._wait(send, 10.0):
                return failed('timeout', 'the planner did not take the request')
            handle = send.result()
            if not handle.accepted:
                return failed('planning_failed', 'the planner rejected the request')
            res = handle.get_result_async()
            if not self._wait(res, self.timeout_s):
                handle.cancel_goal_async()
                return failed('timeout', 'the planner did not answer within %.0f s'
                              % self.timeout_s)
            plan = res.result().result.plan
            if plan.status == 'busy' and attempt < 4:
                time.sleep(0.5 * (attempt + 1))
                continue
            try:
                return messages.plan_from_msg(plan), plan
            except ValidationError as exc:
                return failed('planning_failed', 'unusable answer from the planner: %s' % exc)
        return failed('busy', 'the planner stayed busy')

    def plan(self, state: SymbolicState, goal: Goal) -> PlanResult:
        """Replan: the goal as facts, from the state the executor saw."""
        return self.request(goal=goal, start=state)[0]


class ExecutorNode(Node):
    """Thin ROS 2 wrapper around :class:`nsvla_control.executor.Executor`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('executor', **kwargs)
        self.params = declare(self, PARAMETERS)
        try:
            scene = load_scene(self.params['scene_config'])
        except OSError as exc:
            raise ConfigError('cannot read the scene: %s' % exc) from None
        self._lock = threading.Lock()
        self._running: Optional[str] = None
        self._cancel = threading.Event()
        self._shutting_down = False
        self._episodes = itertools.count(1)
        self.rejected_goals = 0
        io = MutuallyExclusiveCallbackGroup()
        work = ReentrantCallbackGroup()
        from nsvla_control.executor import make_motion
        motion = make_motion(self.params['motion_backend'], scene, self.params)
        self.arm = RosArm(self, motion.arm_joints, io,
                          interface=self.params['trajectory_interface'])
        self.eyes = RosEyes(self, io)
        self.planner = PlannerClient(self, self.params['planner_action'],
                                     self.params['plan_timeout_s'], work, self.arm.stop)
        self.core = Executor(scene, self.params, self.arm, self.eyes, self.planner.plan,
                             motion=motion)
        from nsvla_interfaces.msg import EpisodeEvent
        # short liveliness lease: a client hears within seconds when this process is gone
        self._status_pub = self.create_publisher(EpisodeEvent, 'execution_status', alive_qos())
        self._server = ActionServer(
            self, ExecuteTask, 'execute_task', execute_callback=self._execute,
            goal_callback=self._on_goal, cancel_callback=self._on_cancel, callback_group=work,
            goal_service_qos_profile=QoSProfile(depth=100),
            result_service_qos_profile=QoSProfile(depth=100),
            result_timeout=RESULT_KEEP_S)
        self.get_logger().info('executor ready: motion=%s scene=%s; serving execute_task'
                               % (self.params['motion_backend'], scene.source))

    # ----------------------------------------------------------------- action callbacks
    def _on_goal(self, request: Any) -> GoalResponse:
        # every goal is accepted so that a refusal can carry its reason in the result
        return GoalResponse.ACCEPT

    def _on_cancel(self, goal_handle: Any) -> CancelResponse:
        self.get_logger().info('cancel requested: the arm holds')
        self.arm.hold()
        return CancelResponse.ACCEPT

    def _refuse(self, goal_handle: Any, reason: str) -> Any:
        self.rejected_goals += 1
        self.get_logger().warning('execute_task refused: %s' % reason)
        goal_handle.abort()
        return ExecuteTask.Result(success=False, reason=reason, optimal_moves=-1)

    def _execute(self, goal_handle: Any) -> Any:
        try:
            request = goal_handle.request
            instruction = str(request.instruction).strip()
            goal = messages.goal_from_msg(request.goal[0]) if request.goal else None
            if not instruction and goal is None:
                raise ValidationError('the goal has neither an instruction nor goal facts')
        except Exception as exc:  # noqa: BLE001 - outside input: refuse with the reason
            return self._refuse(goal_handle, 'bad goal: %s' % exc)
        with self._lock:
            if self._running is not None:
                busy = self._running
            else:
                busy = None
                episode_id = 'ep%d-%d' % (next(self._episodes), int(time.time()))
                self._running = episode_id
                self._cancel.clear()
        if busy is not None:
            return self._refuse(goal_handle, 'busy: episode %s is running (one goal at a time)'
                                % busy)
        try:
            return self._run_episode(goal_handle, episode_id, instruction, goal)
        except Exception as exc:  # noqa: BLE001 - a bug in one episode must not kill the node
            self.get_logger().error('episode %s raised %s: %s'
                                    % (episode_id, type(exc).__name__, exc))
            self.arm.hold()
            return self._refuse(goal_handle, 'internal error: %s: %s'
                                % (type(exc).__name__, exc))
        finally:
            with self._lock:
                self._running = None

    def _run_episode(self, goal_handle: Any, episode_id: str, instruction: str,
                     goal: Optional[Goal]) -> Any:
        def cancelled() -> bool:
            return goal_handle.is_cancel_requested or self._shutting_down

        self.get_logger().info('episode %s: %s' % (episode_id, instruction or goal))
        start = self.core.observe()
        if not start.known:
            return self._refuse(goal_handle, 'cannot see the start state: %s' % start.reason)
        plan, plan_msg = self.planner.request(instruction, goal, start)
        if not plan.ok:
            return self._refuse(goal_handle, 'planner: %s: %s' % (plan.status, plan.reason))
        try:
            goal = messages.goal_from_msg(plan_msg.goal, start.num_blocks, start.num_pegs)
        except ValidationError as exc:
            return self._refuse(goal_handle, 'the planner answered an unusable goal: %s' % exc)

        def status(event: Dict[str, Any]) -> None:
            self._publish_event(event, goal_handle)

        result = self.core.run(goal, episode_id, status, initial_plan=plan,
                               cancelled=cancelled)
        out = ExecuteTask.Result(
            success=result.solved, reason=result.reason, episode_id=episode_id,
            moves=result.moves, replans=result.replans, recoveries=result.recoveries,
            optimal_moves=result.optimal_moves if result.optimal_moves is not None else -1,
            wall_s=result.wall_s)
        if result.solved:
            self.get_logger().info('episode %s solved: %d moves, %d replans'
                                   % (episode_id, result.moves, result.replans))
            goal_handle.succeed()
        elif goal_handle.is_cancel_requested:
            self.get_logger().warning('episode %s cancelled after %d moves'
                                      % (episode_id, result.moves))
            goal_handle.canceled()
        else:
            self.get_logger().warning('episode %s FAILED after %d moves, %d replans: %s'
                                      % (episode_id, result.moves, result.replans,
                                         result.reason))
            goal_handle.abort()
        return out

    def _publish_event(self, event: Dict[str, Any], goal_handle: Any) -> None:
        if self._shutting_down:
            return
        try:
            msg = messages.event_to_msg(event)
        except NsvlaError as exc:
            self.get_logger().error('episode event not publishable: %s' % exc)
            return
        self._status_pub.publish(msg)
        if event.get('event') in FEEDBACK_EVENTS:
            goal_handle.publish_feedback(ExecuteTask.Feedback(event=msg))

    def destroy_node(self) -> None:
        """Stop a running episode (it checks the cancel flag) before the node goes away."""
        self._shutting_down = True
        for part in ('arm', 'eyes'):
            if hasattr(self, part):
                getattr(self, part).stop.set()
        super().destroy_node()


def main(args: List[str] = None) -> int:
    """Run the executor node until Ctrl-C; exit 2 when it cannot start."""
    return run_node(ExecutorNode, 'executor', args, threads=6)


if __name__ == '__main__':
    sys.exit(main())

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
ROS 2 node ``sim``: the embedded MuJoCo world behind the interfaces of a ros2_control arm.

Publishes ``camera/image_raw`` (rgb8) + ``camera/camera_info`` at ``camera_rate``,
``joint_states``, ``/clock`` (sim time; absolute, also in a namespace: it is where every node's
``use_sim_time`` listens), ``~/ground_truth`` (nsvla_interfaces/SymbolicState,
frame ``world``, stamped with the sim time it was read at) and ``~/events``
(nsvla_interfaces/SimEvent: trajectory_accepted / trajectory_rejected (with the reason) /
stopped, lift, release, drop_injected, weld_on / weld_off, fell_off_table, reset),
``robot_description``
(latched Panda URDF, :mod:`nsvla_sim.robot_model`) and, where tf2_msgs exists, the camera
frame on ``/tf_static``; subscribes
``arm_controller/joint_trajectory`` and ``gripper_controller/joint_trajectory``
(trajectory_msgs/JointTrajectory, followed as joint_trajectory_controller does; arm trajectories
over the Panda's velocity or acceleration limits are refused and stop the arm); serves
``~/reset`` (std_srvs/Trigger; ``message`` holds the new ground truth as JSON, for people).

All world logic lives in :mod:`nsvla_sim.world`; this module only converts messages. Whatever
arrives malformed is a logged, counted rejection (``rejections``), never a dead node. Physics
runs in a timer, a few milliseconds per tick, paced against the wall clock by
``real_time_factor``; stamps are sim time (run other nodes with ``use_sim_time``).
"""

import sys
import time
from typing import Any, Dict, List, Optional

from nsvla_interfaces.msg import SimEvent, SymbolicState as SymbolicStateMsg
from rclpy.clock import Clock as RosClock, ClockType
from rclpy.node import Node
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.time_source import CLOCK_TOPIC
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_common.spin import run_node
from nsvla_common.topics import ARM_COMMAND, GRIPPER_COMMAND
from nsvla_planner.messages import stamp_to_time, state_to_msg, WORLD_FRAME
from nsvla_sim.robot_model import RobotModelPublisher
from nsvla_sim.scene import load_scene, start_spec_from_text
from nsvla_sim.trajectory import RawPoint
from nsvla_sim.world import HanoiWorld

MAX_TICK_SIM = 0.05      # s of sim time a tick may advance at least (keeps callbacks short)
MAX_LAG = 0.5            # s of sim time the physics may fall behind before it stops catching up
REJECT_LOG_PERIOD = 1.0  # s between warnings about rejected input (each one is still counted)


def sim_event_msg(body: Dict[str, Any], sim_time: float) -> SimEvent:
    """
    Build a SimEvent from an event dict of the world or the node (``event``, ``controller``...).

    Keys without a field of their own (a lift's ``drop_at``, a reset's ``seed`` and
    ``num_blocks``) are written into ``reason`` as ``key=value`` when it is empty.
    """
    t = float(body.get('time', sim_time))
    msg = SimEvent(event=str(body.get('event', '')), controller=str(body.get('controller', '')),
                   block=str(body.get('block') or ''), reason=str(body.get('reason', '')),
                   points=int(body.get('points', 0)), duration=float(body.get('duration', 0.0)),
                   sim_time=t)
    msg.header.stamp = stamp_to_time(t)
    extra = ['%s=%s' % (k, v) for k, v in sorted(body.items()) if v is not None and k not in
             ('time', 'event', 'controller', 'block', 'reason', 'points', 'duration')]
    if extra and not msg.reason:
        msg.reason = ' '.join(extra)
    return msg


def _descriptor(description: str, kind: int, low: Optional[float] = None,
                high: Optional[float] = None, step: float = 0.0,
                read_only: bool = False) -> ParameterDescriptor:
    desc = ParameterDescriptor(description=description, type=kind, read_only=read_only)
    if kind == ParameterType.PARAMETER_DOUBLE and low is not None:
        desc.floating_point_range = [FloatingPointRange(from_value=float(low),
                                                        to_value=float(high), step=step)]
    elif kind == ParameterType.PARAMETER_INTEGER and low is not None:
        desc.integer_range = [IntegerRange(from_value=int(low), to_value=int(high),
                                           step=int(step))]
    return desc


D, I, S, B = (ParameterType.PARAMETER_DOUBLE, ParameterType.PARAMETER_INTEGER,
              ParameterType.PARAMETER_STRING, ParameterType.PARAMETER_BOOL)

# name: (default, descriptor)
PARAMETERS = {
    'scene': ('scene_default.yaml', _descriptor(
        'Scene specification YAML: a file in config/ or a path. Applied at start and on ~/reset.',
        S)),
    'num_blocks': (3, _descriptor('Number of blocks b1..bN. Applied on ~/reset.', I, 1, 16, 1)),
    'seed': (0, _descriptor('Seed of the start configuration, randomisation and fault '
                            'injection. Applied on ~/reset.', I, 0, 2 ** 31 - 1, 1)),
    'start': ('tower', _descriptor(
        'Start configuration: "tower" (all on p1), "tower:K", "random" (seeded legal '
        'configuration) or JSON stacks {"p1": ["b3", "b2", "b1"]}. Applied on ~/reset.', S)),
    'randomise': (False, _descriptor('Domain randomisation (block offsets and colours, light, '
                                     'camera pose), seeded. Applied on ~/reset.', B)),
    'weld_assist': (False, _descriptor('Weld a block to the hand while the fingers grip it '
                                       '(off: friction alone holds it). Applied on ~/reset.',
                                       B)),
    'drop_probability': (0.0, _descriptor('Probability that a grasped block slips out '
                                          'mid-transport (fault injection). Applied on '
                                          '~/reset.', D, 0.0, 1.0)),
    'drop_grasps': ('', _descriptor('Comma-separated lift numbers (1 = the first grasp of an '
                                    'episode) that always slip: reproducible fault tests. '
                                    'Applied on ~/reset.', S)),
    'real_time_factor': (1.0, _descriptor('Simulated seconds per wall-clock second; applies '
                                          'at once.', D, 0.01, 50.0)),
    'physics_rate': (100.0, _descriptor('Hz of the physics timer (each tick advances '
                                        'wall time x real_time_factor).', D, 10.0, 1000.0,
                                        read_only=True)),
    'camera_rate': (10.0, _descriptor('Hz of camera/image_raw and camera_info (rendered only '
                                      'while either has a subscriber); 0 switches the '
                                      'camera off.', D, 0.0, 60.0, read_only=True)),
    'image_width': (0, _descriptor('Image width in pixels; 0 = the scene camera width.', I,
                                   0, 1280, 1, read_only=True)),
    'image_height': (0, _descriptor('Image height in pixels; 0 = the scene camera height.', I,
                                    0, 960, 1, read_only=True)),
    'joint_state_rate': (50.0, _descriptor('Hz of joint_states.', D, 1.0, 500.0,
                                           read_only=True)),
    'ground_truth_rate': (5.0, _descriptor('Hz of ~/ground_truth; 0 publishes only on reset.',
                                           D, 0.0, 100.0, read_only=True)),
}


class SimNode(Node):
    """Thin ROS wrapper around :class:`nsvla_sim.world.HanoiWorld`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('sim', **kwargs)
        for name, (default, desc) in PARAMETERS.items():
            self.declare_parameter(name, default, desc)
        self._rtf = float(self.get_parameter('real_time_factor').value)
        self._physics_rate = float(self.get_parameter('physics_rate').value)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.world = None
        self.rejections = 0   # malformed or refused inputs so far (trajectories, resets)
        self._scene_name = ''
        self._build_world()
        p = self.get_parameter
        cam_w = int(p('image_width').value) or self.world.spec.camera.width
        cam_h = int(p('image_height').value) or self.world.spec.camera.height
        self._image_size = (cam_w, cam_h)
        if float(p('camera_rate').value) > 0:
            self.world.render(cam_w, cam_h)  # fail at start-up, not in a timer, on a bad size

        reliable2 = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE)
        self.pub_image = self.create_publisher(Image, 'camera/image_raw', reliable2)
        self.pub_info = self.create_publisher(CameraInfo, 'camera/camera_info', reliable2)
        self.pub_joints = self.create_publisher(JointState, 'joint_states', 10)
        # absolute: every node's use_sim_time listens on /clock, namespaced or not
        self.pub_clock = self.create_publisher(Clock, CLOCK_TOPIC, QoSProfile(depth=1))
        self.pub_truth = self.create_publisher(SymbolicStateMsg, '~/ground_truth', 10)
        self.pub_events = self.create_publisher(SimEvent, '~/events', 50)
        self.create_subscription(JointTrajectory, ARM_COMMAND,
                                 lambda msg: self._on_trajectory('arm', msg), 10)
        self.create_subscription(JointTrajectory, GRIPPER_COMMAND,
                                 lambda msg: self._on_trajectory('gripper', msg), 10)
        self.create_service(Trigger, '~/reset', self._on_reset)
        # robot_description (latched) + the camera on /tf_static where tf2_msgs exists
        self.robot_model = RobotModelPublisher(self, self.world.spec.robot_base)

        self._wall0 = time.monotonic()
        self._sim0 = self.world.time
        # The node is the clock source: its timers run on the steady clock, also when it is
        # started with use_sim_time (as the other nodes of a graph are).
        steady = RosClock(clock_type=ClockType.STEADY_TIME)
        timers = [('physics_rate', self._on_physics), ('joint_state_rate', self._publish_joints),
                  ('camera_rate', self._publish_camera),
                  ('ground_truth_rate', self._publish_ground_truth)]
        for rate_name, callback in timers:
            rate = float(p(rate_name).value)
            if rate > 0:
                self.create_timer(1.0 / rate, callback, clock=steady)
        self._publish_ground_truth()
        self.robot_model.publish_camera(self.world)
        self.get_logger().info(
            'sim ready: %d blocks, %d pegs, seed %d, start %s, camera %dx%d at %.1f Hz, '
            'real-time factor %.2f' % (self.world.num_blocks, self.world.num_pegs,
                                       self.world.seed, self.get_parameter('start').value,
                                       cam_w, cam_h, float(p('camera_rate').value), self._rtf))

    # ------------------------------------------------------------------ world
    def _world_args(self) -> Dict[str, Any]:
        p = self.get_parameter
        return {'num_blocks': int(p('num_blocks').value), 'seed': int(p('seed').value),
                'start': start_spec_from_text(str(p('start').value)),
                'randomise': bool(p('randomise').value)}

    def _build_world(self) -> None:
        """Make the world from the parameters (new scene: new world; else a reset)."""
        p = self.get_parameter
        args = self._world_args()
        scene = str(p('scene').value)
        weld = bool(p('weld_assist').value)
        drop = float(p('drop_probability').value)
        try:
            forced = tuple(int(g) for g in str(p('drop_grasps').value).split(',') if g.strip())
        except ValueError:
            raise ValidationError('drop_grasps must be comma-separated integers, got %r'
                                  % p('drop_grasps').value) from None
        if self.world is None or scene != self._scene_name:
            spec = load_scene(scene)
            old = self.world
            # A new scene starts where the old clock stopped: /clock never runs backwards.
            self.world = HanoiWorld(spec, weld_assist=weld, drop_probability=drop,
                                    drop_grasps=forced,
                                    start_time=old.time if old is not None else 0.0, **args)
            if old is not None:
                old.close()
            self._scene_name = scene
            self._events_seen = 0
        else:
            self.world.weld_assist = weld
            self.world.drop_probability = drop
            self.world.drop_grasps = forced
            self.world.reset(**args)

    def _on_set_parameters(self, params: List[Any]) -> SetParametersResult:
        for prm in params:
            if prm.name == 'real_time_factor':
                self._rtf = float(prm.value)
                self._wall0 = time.monotonic()
                self._sim0 = self.world.time if self.world is not None else 0.0
            elif prm.name == 'start':
                try:
                    start_spec_from_text(str(prm.value))
                except NsvlaError as exc:
                    return SetParametersResult(successful=False, reason=str(exc))
                except Exception as exc:  # noqa: BLE001 - outside input: refuse, stay up
                    return SetParametersResult(successful=False, reason='%s: %s'
                                               % (type(exc).__name__, exc))
        return SetParametersResult(successful=True)

    # ------------------------------------------------------------------ callbacks
    def _on_physics(self) -> None:
        target = self._sim0 + self._rtf * (time.monotonic() - self._wall0)
        lag = target - self.world.time
        # One tick advances at most two ticks' worth of sim time (more when running fast).
        max_tick = max(MAX_TICK_SIM, 2.0 * self._rtf / self._physics_rate)
        if lag > max(MAX_LAG, 2 * max_tick):
            self.get_logger().warning(
                'physics is %.2f s behind real time x %.2f; slowing the clock down'
                % (lag, self._rtf), throttle_duration_sec=10.0)
            self._sim0 -= lag - max_tick   # drop the backlog: the sim clock falls behind
            lag = max_tick
        if lag > 0:
            self.world.advance(min(lag, max_tick))
        self.pub_clock.publish(Clock(clock=stamp_to_time(self.world.time)))
        self._forward_world_events()

    def _forward_world_events(self) -> None:
        events, self._events_seen = self.world.events_since(self._events_seen)
        for ev in events:
            self._publish_event(dict(ev))
            if ev['event'] == 'drop_injected':
                self.get_logger().info('fault injection: %s slips out of the gripper'
                                       % ev['block'])
            elif ev['event'] == 'fell_off_table':
                self.get_logger().warning(
                    '%s fell off the table (last seen over x %.2f, y %.2f m): no camera frame '
                    'will show it again until the world is reset' % (ev['block'], ev['x'],
                                                                     ev['y']))

    def _publish_event(self, body: Dict[str, Any]) -> None:
        self.pub_events.publish(sim_event_msg(body, self.world.time))

    def _reject(self, what: str, reason: str) -> None:
        """Count and log (throttled) one refused input."""
        self.rejections += 1
        self.get_logger().warning('%s (%d so far): %s' % (what, self.rejections, reason),
                                  throttle_duration_sec=REJECT_LOG_PERIOD)

    def _reject_trajectory(self, name: str, msg: JointTrajectory, reason: str) -> None:
        self._reject('%s: rejected trajectory' % name, reason)
        self._publish_event({'event': 'trajectory_rejected', 'controller': name,
                             'reason': reason, 'points': len(msg.points)})

    def _on_trajectory(self, controller: str, msg: JointTrajectory) -> None:
        name = '%s_controller' % controller
        try:
            points = [RawPoint(p.time_from_start.sec + p.time_from_start.nanosec * 1e-9,
                               list(p.positions), list(p.velocities)) for p in msg.points]
            traj = self.world.set_trajectory(controller, list(msg.joint_names), points)
        except NsvlaError as exc:   # malformed, or beyond what the arm can do (it stops)
            self._reject_trajectory(name, msg, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - outside input: any failure is a rejection
            self._reject_trajectory(name, msg, '%s: malformed trajectory: %s: %s'
                                    % (name, type(exc).__name__, exc))
            return
        self.get_logger().debug('%s: following %d points over %.2f s'
                                % (name, len(traj.points), traj.duration))
        self._publish_event({'event': 'trajectory_accepted' if traj.points else 'stopped',
                             'controller': name, 'points': len(traj.points),
                             'duration': round(traj.duration, 4)})

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        refused: Optional[str] = None
        try:
            self._build_world()
        except NsvlaError as exc:
            refused = str(exc)
        except Exception as exc:  # noqa: BLE001 - parameters are outside input: refuse, stay up
            refused = '%s: %s' % (type(exc).__name__, exc)
        if refused is not None:
            response.success = False
            response.message = 'reset refused: %s' % refused
            self._reject('reset', response.message)
            return response
        self._wall0 = time.monotonic()
        self._sim0 = self.world.time
        state = self.world.ground_truth()
        response.success = True
        response.message = state.to_json()
        self._publish_event({'event': 'reset', 'seed': self.world.seed,
                             'num_blocks': self.world.num_blocks})
        self._publish_ground_truth()
        self.robot_model.publish_camera(self.world)   # a randomised camera moves
        self.get_logger().info('reset: %d blocks, seed %d: %r'
                               % (self.world.num_blocks, self.world.seed, state))
        return response

    def _publish_joints(self) -> None:
        names, pos, vel, eff = self.world.joint_state()
        msg = JointState()
        msg.header.stamp = stamp_to_time(self.world.time)
        msg.name = names
        msg.position = [float(v) for v in pos]
        msg.velocity = [float(v) for v in vel]
        msg.effort = [float(v) for v in eff]
        self.pub_joints.publish(msg)

    def _publish_camera(self) -> None:
        if self.pub_image.get_subscription_count() == 0 \
                and self.pub_info.get_subscription_count() == 0:
            return     # nobody looks: no frame is rendered (20-65 ms each)
        w, h = self._image_size
        rgb = self.world.render(w, h)
        stamp = stamp_to_time(self.world.time)
        frame = self.world.spec.camera.frame_id
        img = Image()
        img.header.stamp = stamp
        img.header.frame_id = frame
        img.height, img.width = int(rgb.shape[0]), int(rgb.shape[1])
        img.encoding = 'rgb8'
        img.is_bigendian = 0
        img.step = img.width * 3
        img.data = rgb.tobytes()
        self.pub_image.publish(img)
        info = self.world.camera_info(w, h)
        cam = CameraInfo()
        cam.header.stamp = stamp
        cam.header.frame_id = frame
        cam.width, cam.height = info['width'], info['height']
        cam.distortion_model = info['distortion_model']
        cam.d = info['d']
        cam.k = info['k']
        cam.r = info['r']
        cam.p = info['p']
        self.pub_info.publish(cam)

    def _publish_ground_truth(self) -> None:
        # the state's stamp is the sim time it was read at: the header stamp
        self.pub_truth.publish(state_to_msg(self.world.ground_truth(), frame_id=WORLD_FRAME))

    def destroy_node(self) -> None:
        if getattr(self, 'world', None) is not None:
            self.world.close()
        super().destroy_node()


def main(args: Optional[List[str]] = None) -> int:
    """Run the sim node until Ctrl-C / shutdown; exit 2 when the parameters are refused."""
    return run_node(SimNode, 'sim', args)


if __name__ == '__main__':
    sys.exit(main())

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Perception node: ``camera/image_raw`` -> ``symbolic_state``, debug overlay, markers.

Subscribes ``camera/image_raw`` (sensor_msgs/Image, rgb8 or bgr8, the scene camera's size) and
publishes, per processed frame, ``symbolic_state`` (nsvla_interfaces/SymbolicState: the temporal
filter's output, ``header.stamp`` the image's stamp, or the node clock's time when the image has
none, ``header.frame_id`` the ``world_frame`` parameter, ``remembered`` true whenever the state
is repeated from earlier frames rather than read from this one, e.g. held while blocks are
hidden), ``~/debug_image`` (sensor_msgs/Image rgb8, only while someone subscribes) and
``~/markers`` (visualization_msgs/MarkerArray, one cylinder per block seen on a peg). The filter's
per-frame figures (stable and held frames, latency) go to a throttled debug log.

``camera/camera_info`` (sensor_msgs/CameraInfo) gives the camera's image size, K and D: when
they differ from the rig file's camera (``scene_config``), the perceiver is rebuilt once with
them (the pose stays the rig file's) and the difference is logged; a message no pinhole camera
sends (K all zeros, skew, an unknown distortion model) is logged and ignored. camera_info is read
with the frames that are perceived (and with a frame whose size is not the perceiver's), not
each time it comes: it is taken from the middleware's queue, the newest one counts.

Frames are perceived when something can have changed (:mod:`nsvla_perception.schedule`):
every frame (up to ``max_rate_hz``) from start-up, after the arm's commanded motion ends (seen on
``arm_controller/joint_trajectory`` and ``gripper_controller/joint_trajectory``), on a
``look_request`` (std_msgs/Header, sent by the executor before it waits for a fresh state) and
when an idle frame disagrees with what was published, until a fresh stable state is out; at
``idle_rate_hz`` otherwise. ``schedule: every_frame`` perceives every frame. A frame not
perceived publishes nothing: nothing remembered is ever sent for it. Frames that the schedule
will not want for a while (the rest of a commanded motion, an idle period; at most
``schedule.QUIET_MAX_S``) are not even taken from the middleware (a depth-1 queue): taking a
640x480 frame cost 2.8-3.0 ms of CPU, leaving it 0.2 ms. A look request or a controller command
takes the next frame at once.

The gripper commands also say when the hand is empty: after one wider than every block of the
problem (``nsvla_perception.backend.hand_empty_after``) a ring seen above its stack in a peg's
column rests across the tip, tilted, and is read loose there; without gripper commands on that
topic (a gripper driven another way) the hand is unknown and such a ring is not placed.

Any failure on a frame (a wrong encoding, a wrong size, empty or truncated data, a perceiver
exception) is logged (throttled) and counted as a skipped frame; the node keeps running.
"""

import math
import sys
import time
from dataclasses import replace
from typing import Any, Optional

from geometry_msgs.msg import Point, Quaternion, Vector3
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray
from std_msgs.msg import Header
from trajectory_msgs.msg import JointTrajectory

from nsvla_common.camera import camera_from_info, intrinsics_change
from nsvla_common.errors import NsvlaError
from nsvla_common.ondemand import Gate, OnDemand, take_queued
from nsvla_common.rig import load_scene
from nsvla_common.spin import run_node
from nsvla_interfaces.msg import SymbolicState as SymbolicStateMsg
from nsvla_perception.backend import BACKENDS, hand_empty_after, make_perceiver
from nsvla_perception.filter import TemporalFilter
from nsvla_perception.image import image_from_fields
from nsvla_perception.overlay import draw_overlay
from nsvla_perception.schedule import FrameSchedule, QUIET_MAX_S
from nsvla_common.params import declare, Param
from nsvla_common.topics import ARM_COMMAND, GRIPPER_COMMAND, LOOK_REQUEST
from nsvla_perception.settings import load_settings
from nsvla_planner.messages import state_to_msg, time_to_stamp

S = ParameterType.PARAMETER_STRING
I = ParameterType.PARAMETER_INTEGER  # noqa: E741 - the ROS type letter
D = ParameterType.PARAMETER_DOUBLE
B = ParameterType.PARAMETER_BOOL


def _descriptor(text: str, kind: int, low: Optional[float] = None,
                high: Optional[float] = None, read_only: bool = False) -> ParameterDescriptor:
    desc = ParameterDescriptor(description=text, type=kind, read_only=read_only)
    if kind == I and low is not None:
        desc.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
    if kind == D and low is not None:
        desc.floating_point_range = [FloatingPointRange(from_value=float(low),
                                                        to_value=float(high))]
    return desc


PARAMETERS = {
    'backend': ('classic', _descriptor(
        'Perception backend: %s.' % ' or '.join(BACKENDS), S, read_only=True)),
    'num_blocks': (3, _descriptor('Blocks in the scene (b1..bN).', I, 1, 16, read_only=True)),
    'scene_config': ('scene_default.yaml', _descriptor(
        'Scene YAML (camera, pegs, block sizes and colours): a file in config/ or a path.',
        S, read_only=True)),
    'perception_config': ('perception.yaml', _descriptor(
        'Perception settings YAML (thresholds, crop geometry); empty for the built-in '
        'defaults.', S, read_only=True)),
    'model_path': ('perception_cnn.pt', _descriptor(
        'Weights of the learned backend: a file in models/ or a path.', S, read_only=True)),
    'stability_frames': (3, _descriptor(
        'Consecutive agreeing frames before a new state is published.', I, 1, 100)),
    'min_confidence': (0.5, _descriptor(
        'A state whose least confident block is below this is published as unknown.',
        D, 0.0, 1.0)),
    'max_hold_frames': (0, _descriptor(
        'Frames the last confident state is held while blocks are hidden; 0 = no limit.',
        I, 0, 1000000)),
    'max_rate_hz': (15.0, _descriptor(
        'Process at most this many frames per second (others are skipped); 0 = every frame.',
        D, 0.0, 240.0)),
    'image_qos': ('best_effort', _descriptor(
        'Reliability of the image subscription: best_effort (matches every publisher) or '
        'reliable.', S, read_only=True)),
    'world_frame': ('world', _descriptor(
        'frame_id of symbolic_state and the markers (the scene world frame).', S,
        read_only=True)),
}
SCHEDULES = ('on_demand', 'every_frame')
SCHEDULE_PARAMETERS = (
    Param('schedule', 'on_demand', 'Which frames are perceived: on_demand (every frame while '
          'something can have changed: start-up, end of an arm motion, a look_request, an idle '
          'frame that disagrees; idle_rate_hz otherwise) or every_frame (up to max_rate_hz).',
          choices=SCHEDULES),
    Param('idle_rate_hz', 0.2, 'Frames per second perceived while nothing can have changed '
          '(schedule on_demand); 0 = none.', 0.0, 240.0),
    Param('settle_s', 0.3, 'Seconds (image stamps) after the arm\'s commanded motion ends '
          'before its frames are perceived (schedule on_demand): a new command in that time '
          '(the next segment of a move) starts a new motion, not a look.', 0.0, 10.0),
)


class PerceptionNode(Node):
    """Thin ROS wrapper around a perceiver and the temporal filter."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('perception', **kwargs)
        for name, (default, desc) in PARAMETERS.items():
            self.declare_parameter(name, default, desc)
        p = self.get_parameter
        qos_name = p('image_qos').value
        if qos_name not in ('best_effort', 'reliable'):
            self._refuse('image_qos must be best_effort or reliable, got %r' % qos_name)
        try:
            self.spec = load_scene(p('scene_config').value)
            self.perceiver = self._build_perceiver(self.spec)
        except NsvlaError as exc:
            self._refuse(str(exc))
        self.filter = TemporalFilter(int(p('stability_frames').value),
                                     int(p('max_hold_frames').value))
        try:
            self._sched_params = declare(self, SCHEDULE_PARAMETERS)
        except NsvlaError as exc:
            self._refuse(str(exc))
        # after a motion or a surprise: a stable state's frames, and two more for the change
        self.schedule = FrameSchedule(burst_frames=self.filter.stability_frames + 2,
                                      settle_s=self._sched_params['settle_s'])
        self._set_rate(float(p('max_rate_hz').value))
        self._frames = 0
        self._taken = 0    # frames taken from the middleware (the rest were left in its queue)
        self._skipped = 0
        self._world_frame = p('world_frame').value
        self.add_on_set_parameters_callback(self._on_set_parameters)
        reliability = (ReliabilityPolicy.RELIABLE if qos_name == 'reliable'
                       else ReliabilityPolicy.BEST_EFFORT)
        self.pub_state = self.create_publisher(SymbolicStateMsg, 'symbolic_state', 10)
        self.pub_debug = self.create_publisher(Image, '~/debug_image', 2)
        self.pub_markers = self.create_publisher(MarkerArray, '~/markers', 2)
        # frames nobody will want for a while (the arm is moving, nothing has changed) are
        # left in the middleware's queue: the image subscription's gate closes until then,
        # or until a look request or a controller command comes (see _gate_frames)
        self._gate = Gate()
        self._gate_timer = self.create_timer(QUIET_MAX_S, self._open_gate, autostart=False,
                                             clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._gate_closed = 0
        self.create_subscription(Image, 'camera/image_raw', self._on_image,
                                 QoSProfile(depth=1, reliability=reliability),
                                 callback_group=self._gate)
        self.create_subscription(Header, LOOK_REQUEST, self._on_look_request, 5)
        self.create_subscription(JointTrajectory, ARM_COMMAND, self._on_command, 10)
        self.create_subscription(JointTrajectory, GRIPPER_COMMAND, self._on_gripper_command, 10)
        self._camera_seen: Optional[Any] = None   # the last camera_info's camera, as a spec
        # camera_info comes with every frame; it is read with the frames perceived, not woken
        # for (half of this node's wake-ups were for camera_info, 10 a second in the sim)
        self._camera_info_sub = self.create_subscription(
            CameraInfo, 'camera/camera_info', self._on_camera_info,
            QoSProfile(depth=2, reliability=reliability), callback_group=OnDemand())
        self.get_logger().info('perception ready: %s; image %dx%d; %d stable frames'
                               % (self.perceiver.describe(), *self.perceiver.image_size,
                                  self.filter.stability_frames))

    def _build_perceiver(self, spec: Any) -> Any:
        p = self.get_parameter
        return make_perceiver(p('backend').value, spec, int(p('num_blocks').value),
                              float(p('min_confidence').value), p('model_path').value,
                              load_settings(p('perception_config').value))

    def _refuse(self, reason: str) -> None:
        self.get_logger().fatal('cannot start: %s' % reason)
        raise SystemExit(2)

    # ----------------------------------------------------------------- parameters
    def _set_rate(self, hz: float) -> None:
        self.schedule.set_rates(hz, self._sched_params['idle_rate_hz'],
                                self._sched_params['schedule'] == 'on_demand')
        self._max_rate = hz

    def _on_set_parameters(self, params: Any) -> SetParametersResult:
        values = {q.name: q.value for q in params}
        stab = int(values.get('stability_frames', self.filter.stability_frames))
        hold = int(values.get('max_hold_frames', self.filter.max_hold_frames))
        if 'stability_frames' in values or 'max_hold_frames' in values:
            self.filter = TemporalFilter(stab, hold)
            self.schedule.burst_frames = stab + 2
        if 'min_confidence' in values:
            self.perceiver.min_confidence = float(values['min_confidence'])
        try:
            checked = {q.name: q.check(values[q.name]) for q in SCHEDULE_PARAMETERS
                       if q.name in values}
        except NsvlaError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self._sched_params.update(checked)
        self.schedule.settle_s = self._sched_params['settle_s']
        if 'max_rate_hz' in values or checked:
            self._set_rate(float(values.get('max_rate_hz', self._max_rate)))
        self._open_gate()
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- what can have changed
    def _on_look_request(self, msg: Header) -> None:
        """Perceive every frame until a fresh stable state is published."""
        self.schedule.look_requested()
        self._open_gate()

    def _on_command(self, msg: JointTrajectory) -> None:
        """Note an arm or gripper command: frames are idle until its motion has ended."""
        try:
            stamp = msg.header.stamp
            if stamp.sec or stamp.nanosec:
                start: Optional[float] = stamp.sec + stamp.nanosec * 1e-9
            else:
                start = self.schedule.camera_now(time.monotonic())   # now, camera clock
            end = msg.points[-1].time_from_start if msg.points else None
            duration = end.sec + end.nanosec * 1e-9 if end is not None else 0.0
        except Exception as exc:  # noqa: BLE001 - outside input: a bad command must not stop us
            self.get_logger().warning('ignored a controller command: %s' % exc,
                                      throttle_duration_sec=10.0)
            return
        self.schedule.arm_command(start, duration)
        self._open_gate()
        now = self.schedule.camera_now(time.monotonic())
        if now is not None:   # how long it stays quiet now, from the camera clock
            self._gate_frames(self.schedule.quiet_s(now, self.get_clock().now().nanoseconds
                                                    * 1e-9))

    def _on_gripper_command(self, msg: JointTrajectory) -> None:
        """Note a gripper command: its motion, and whether the hand can hold a block after it."""
        self._on_command(msg)
        try:
            opening = float(msg.points[-1].positions[0]) if msg.points else None
        except (IndexError, TypeError, ValueError):
            opening = None
        if opening is not None and math.isfinite(opening):
            self.perceiver.hand_empty = hand_empty_after(opening, self.perceiver.spec,
                                                         self.perceiver.num_blocks)

    # ----------------------------------------------------------------- camera_info
    def _on_camera_info(self, msg: CameraInfo) -> None:
        """Take K and D from camera_info; new intrinsics rebuild the perceiver (once each)."""
        try:
            camera = camera_from_info(self.spec.camera, msg.width, msg.height, msg.k, msg.d,
                                      msg.distortion_model)
        except Exception as exc:  # noqa: BLE001 - outside input: a bad message must not stop us
            self.get_logger().warning('ignored camera/camera_info: %s; the camera stays %s'
                                      % (exc, self.spec.camera.intrinsics),
                                      throttle_duration_sec=10.0)
            return
        first = self._camera_seen is None
        if not first and not intrinsics_change(self._camera_seen, camera):
            return   # the same message again (accepted or refused before)
        self._camera_seen = camera
        change = intrinsics_change(self.spec.camera, camera)
        if not change:
            if first:
                self.get_logger().info('camera_info agrees with the rig file\'s camera')
            return
        try:
            spec = replace(self.spec, camera=camera)
            hand = self.perceiver.hand_empty
            self.perceiver = self._build_perceiver(spec)
            self.perceiver.hand_empty = hand
            self.spec = spec
        except Exception as exc:  # noqa: BLE001 - the old camera keeps working
            self.get_logger().error('camera_info (%s) cannot be used: %s; perception keeps the '
                                    'camera it had' % (change, exc))
            return
        self.get_logger().warning('camera_info differs from the %s camera: %s; perception now '
                                  'uses the camera\'s intrinsics' % (
                                      'rig file\'s' if first else 'last', change))

    # ----------------------------------------------------------------- frames
    def _on_image(self, msg: Image) -> None:
        """Process one camera frame; any failure on it is a logged, counted skip."""
        self._taken += 1
        try:
            self._process(msg)
        except NsvlaError as exc:   # a bad image (encoding, size, data), named by the check
            self._skipped += 1
            self.get_logger().warning('skipped camera/image_raw frame: %s (%d skipped so far)'
                                      % (exc, self._skipped), throttle_duration_sec=5.0)
        except Exception as exc:  # noqa: BLE001 - outside input: a bad frame must not stop us
            self._skipped += 1
            self.get_logger().error('skipped camera/image_raw frame, perception failed: %s: %s '
                                    '(%d skipped so far)' % (type(exc).__name__, exc,
                                                             self._skipped),
                                    throttle_duration_sec=5.0)

    def _read_camera_info(self) -> None:
        """Take the camera_info messages queued since the last read; the newest one counts."""
        for info in take_queued(self._camera_info_sub, 2)[-1:]:
            self._on_camera_info(info)

    def _process(self, msg: Image) -> None:
        now = self.get_clock().now()
        if (msg.width, msg.height) != tuple(self.perceiver.image_size):
            self._read_camera_info()   # a camera that changed its size says so in camera_info
        t = now.nanoseconds * 1e-9
        rgb = image_from_fields(msg.encoding, msg.width, msg.height, msg.step, msg.data,
                                self.perceiver.image_size)   # every frame: bad ones are logged
        stamp = msg.header.stamp
        if stamp.sec == 0 and stamp.nanosec == 0:
            stamp = now.to_msg()   # an unstamped image: the time it arrived
        seconds = stamp.sec + stamp.nanosec * 1e-9
        self.schedule.frame_arrived(seconds, time.monotonic())
        if self.schedule.want(seconds, t):
            self._perceive(msg, rgb, stamp)
        self._gate_frames(self.schedule.quiet_s(seconds, t))

    def _gate_frames(self, quiet_s: float) -> None:
        """Leave the frames of the next ``quiet_s`` wall seconds untaken (0: take the next)."""
        if quiet_s <= 0.0:
            return
        self._gate.is_open = False
        self._gate_closed += 1
        self._gate_timer.timer_period_ns = int(quiet_s * 1e9)
        self._gate_timer.reset()

    def _open_gate(self) -> None:
        """Take frames again, from the newest one queued."""
        self._gate.is_open = True
        self._gate_timer.cancel()

    def _perceive(self, msg: Image, rgb: Any, stamp: Any) -> None:
        """Perceive a wanted frame; publish the filter's state, markers and the overlay."""
        self._read_camera_info()
        perception = self.perceiver.perceive(rgb, stamp=time_to_stamp(stamp))
        out = self.filter.update(perception)
        self.schedule.published(not out.remembered
                                and out.stable_frames >= self.filter.stability_frames)
        self._frames += 1
        state_msg = state_to_msg(out.state, self._world_frame, remembered=out.remembered)
        state_msg.header.stamp = stamp   # exactly the image's, not a float round trip
        self.pub_state.publish(state_msg)
        if out.changed:
            self.get_logger().info('symbolic_state: %s%s' % (
                out.state, ' (held)' if out.held else ''))
        self.get_logger().debug(
            'frame %d: %s%s; latest frame %s%s, %d stable, held %d frames; %.1f ms; %d skipped, '
            '%d not needed, %d quiet spells untaken' % (
                self._frames, out.state.status, ' (remembered)' if out.remembered else '',
                out.candidate_kind,
                ' (%s)' % out.candidate_reason if out.candidate_reason else '',
                out.stable_frames, out.held_frames, perception.seconds * 1000.0,
                self._skipped, self.schedule.skipped, self._gate_closed),
            throttle_duration_sec=2.0)
        if self.pub_markers.get_subscription_count() > 0:
            self._publish_markers(stamp, perception)
        if self.pub_debug.get_subscription_count() > 0:
            boxes = getattr(self.perceiver, 'boxes', None)
            overlay = draw_overlay(rgb, perception, out.remembered and out.state.known, boxes)
            self.pub_debug.publish(Image(
                header=msg.header, height=overlay.shape[0], width=overlay.shape[1],
                encoding='rgb8', is_bigendian=0, step=overlay.shape[1] * 3,
                data=overlay.tobytes()))

    def destroy_node(self) -> None:
        """Log what became of the frames, then destroy the node."""
        self.get_logger().info(
            'frames: %d taken (%d quiet spells left the others untaken), %d perceived, '
            '%d not needed, %d skipped as bad' % (
                self._taken, self._gate_closed, self._frames, self.schedule.skipped,
                self._skipped))
        super().destroy_node()

    def _publish_markers(self, stamp: Any, perception: Any) -> None:
        spec = self.perceiver.spec
        apothems = spec.block_apothems(self.perceiver.num_blocks)
        markers = MarkerArray()
        clear = Marker(action=Marker.DELETEALL)
        clear.header.frame_id = self._world_frame
        clear.ns = 'blocks'
        markers.markers.append(clear)
        for name, pos in sorted(perception.positions.items()):
            i = int(name[1:])
            reading = next((r for r in perception.readings if r.name == name), None)
            colour = spec.block_colour(i)
            diameter = 2.0 * apothems[i - 1]
            m = Marker(ns='blocks', id=i, type=Marker.CYLINDER, action=Marker.ADD)
            m.header.stamp = stamp
            m.header.frame_id = self._world_frame
            m.pose.position = Point(x=float(pos[0]), y=float(pos[1]), z=float(pos[2]))
            m.pose.orientation = Quaternion(w=1.0)
            m.scale = Vector3(x=diameter, y=diameter, z=float(spec.block_height))
            alpha = 0.4 + 0.6 * float(reading.confidence if reading else 1.0)
            m.color = ColorRGBA(r=float(colour[0]), g=float(colour[1]), b=float(colour[2]),
                                a=min(1.0, alpha))
            m.text = name
            markers.markers.append(m)
        self.pub_markers.publish(markers)


def main(args: Any = None) -> int:
    """Run the perception node until Ctrl-C; exit 2 when it cannot start."""
    return run_node(PerceptionNode, 'perception', args)


if __name__ == '__main__':
    sys.exit(main())

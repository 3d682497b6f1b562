# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The perception node over DDS: rendered images in, symbolic_state / markers / overlay out."""

import os
import time

import pytest

pytest.importorskip('rclpy')
pytest.importorskip('mujoco')
pytest.importorskip('nsvla_interfaces')

from nsvla_common.paths import model_path  # noqa: E402
from nsvla_perception.render import SceneRenderer  # noqa: E402
from nsvla_planner.messages import state_from_msg  # noqa: E402
from nsvla_sim.scene import load_scene, make_layout  # noqa: E402

SEED = 2_200_000
NODE = 'nsvla_perception.perception_node'
WORLD = 'hanoi_world'
# Image stamps with nanoseconds a float round trip would not keep (1.7e9 s: ~0.2 us steps).
FIRST_SEC, NANOSEC = 1_700_000_000, 123_456_789


def _image_msg(rgb, encoding='rgb8'):
    from sensor_msgs.msg import Image
    msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding=encoding, is_bigendian=0,
                step=rgb.shape[1] * 3, data=rgb.tobytes())
    msg.header.frame_id = 'scene_camera_optical_frame'
    return msg


def _stamp(msg):
    return (msg.header.stamp.sec, msg.header.stamp.nanosec)


@pytest.fixture(scope='module')
def scenes():
    """Two rendered 3-block scenes with their true states, and the first with b1 hidden."""
    spec = load_scene('scene_default.yaml')
    out = []
    with SceneRenderer(spec, 3) as r:
        for j, start in enumerate(({'p1': ['b3', 'b2'], 'p2': [], 'p3': ['b1']},
                                   {'p1': [], 'p2': ['b3'], 'p3': ['b2', 'b1']})):
            layout = make_layout(spec, 3, seed=SEED + j, start=start, randomise=True)
            r.set_layout(layout)
            out.append((r.render(), layout.start_state(spec.num_pegs)))
            if j == 0:   # b1 under the table: out of view, as if the arm hid it
                r.set_layout(layout, block_poses={'b1': ((0.0, 0.0, -1.0), 0.0)})
                hidden = r.render()
    return out + [hidden]


class _Listener:
    def __init__(self, node):
        from nsvla_interfaces.msg import SymbolicState
        from sensor_msgs.msg import Image
        from visualization_msgs.msg import MarkerArray
        self.node = node
        self.states, self.markers, self.debug = [], [], []
        self.sent = set()      # stamps of the images published
        self._n = 0
        node.create_subscription(SymbolicState, 'symbolic_state', self.states.append, 10)
        node.create_subscription(MarkerArray, '/perception/markers',
                                 lambda m: self.markers.append(m), 10)
        node.create_subscription(Image, '/perception/debug_image',
                                 lambda m: self.debug.append(m), 10)
        self.pub = node.create_publisher(Image, 'camera/image_raw', 2)

    def publish(self, msg):
        """Publish ``msg`` with a stamp of its own; return the stamp."""
        self._n += 1
        msg.header.stamp.sec, msg.header.stamp.nanosec = FIRST_SEC + self._n, NANOSEC
        self.sent.add(_stamp(msg))
        self.pub.publish(msg)
        return _stamp(msg)

    def feed_until(self, msg, condition, timeout=20.0):
        """Publish ``msg`` every 0.1 s until ``condition()`` holds; return the stamps sent."""
        stamps = set()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            stamps.add(self.publish(msg))
            if self.node.spin_until(condition, timeout=0.1):
                return stamps
        assert condition(), 'timed out'
        return stamps


def _known_as(states, truth, source):
    for msg in reversed(states):
        if msg.status == 'known' and not msg.remembered and msg.source == source:
            return state_from_msg(msg) == truth
    return False


def test_classic_node_publishes_state_markers_and_overlay(node_process, ros_node, scenes):
    proc = node_process(NODE, ['-p', 'backend:=classic', '-p', 'num_blocks:=3',
                               '-p', 'stability_frames:=2', '-p', 'max_rate_hz:=0.0',
                               '-p', 'world_frame:=%s' % WORLD])
    listen = _Listener(ros_node)
    (img_a, truth_a), (img_b, truth_b), img_a_hidden = scenes
    listen.feed_until(_image_msg(img_a), lambda: _known_as(listen.states, truth_a, 'classic')
                      and listen.debug and listen.markers)
    assert proc.alive(), proc.log()
    last = listen.states[-1]
    assert last.header.frame_id == WORLD and not last.remembered
    assert state_from_msg(last).stacks() == truth_a.stacks()
    assert all(0.5 <= f.confidence <= 1.0 for f in last.facts)
    # every state carries the exact stamp of the image it was read from
    assert all(_stamp(m) in listen.sent for m in listen.states)
    assert all(m.header.frame_id == WORLD for m in listen.states)
    cylinders = [m for m in listen.markers[-1].markers if m.action == 0]
    assert sorted(m.text for m in cylinders) == ['b1', 'b2', 'b3']
    assert all(m.header.frame_id == WORLD and _stamp(m) in listen.sent for m in cylinders)
    b1 = next(m for m in cylinders if m.text == 'b1')
    assert b1.pose.position.y == pytest.approx(0.17, abs=0.01)   # b1 on p3
    assert listen.debug[-1].encoding == 'rgb8' and listen.debug[-1].width == img_a.shape[1]

    # b1 hidden: the last confident state is repeated, and every such message says it is
    # remembered, not a fresh look at the image it is stamped with
    hidden = listen.feed_until(_image_msg(img_a_hidden), lambda: any(
        _stamp(m) in listen.sent and m.reason.startswith('held:') for m in listen.states[-3:]))
    on_hidden = [m for m in listen.states if _stamp(m) in hidden]
    assert on_hidden, proc.log()
    for m in on_hidden:
        assert m.status == 'known' and m.remembered, (m.status, m.remembered, m.reason)
        assert state_from_msg(m) == truth_a
    held = [m for m in on_hidden if m.reason.startswith('held:')]
    assert held and 'b1' in held[-1].reason and held[-1].header.frame_id == WORLD
    # ... until the blocks are seen again
    listen.feed_until(_image_msg(img_a), lambda: _known_as(listen.states[-1:], truth_a,
                                                           'classic'))

    # malformed frames are logged, counted and skipped; the node keeps running. The node has
    # a fresh stable state: asked for a look, it takes every frame until the next one
    from std_msgs.msg import Header
    ros_node.create_publisher(Header, 'look_request', 5).publish(Header())
    ros_node.spin_until(lambda: False, timeout=0.2)
    n_states = len(listen.states)
    truncated = _image_msg(img_a)
    truncated.data = img_a.tobytes()[:img_a.size // 2]
    short_step = _image_msg(img_a)
    short_step.step = img_a.shape[1]
    bad = [_image_msg(img_a[:, :, 0:3].copy(), encoding='mono8'),
           _image_msg(img_a, encoding='16UC1'),
           _image_msg(img_a[:240, :320].copy()),
           _image_msg(img_a[:0, :0].copy()),
           truncated, short_step]
    for msg in bad * 2:
        listen.publish(msg)
        ros_node.spin_until(lambda: False, timeout=0.2)
    assert proc.alive(), proc.log()
    assert len(listen.states) == n_states     # nothing published for bad frames
    log = proc.log()
    assert 'skipped camera/image_raw frame' in log and 'encoding' in log
    assert 'skipped so far' in log

    # bgr8 is accepted; a new scene replaces the state once stable
    listen.feed_until(_image_msg(img_b[:, :, ::-1].copy(), encoding='bgr8'),
                      lambda: _known_as(listen.states, truth_b, 'classic'))
    assert proc.alive(), proc.log()


def test_any_failure_on_a_frame_is_a_counted_skip(ros_node, scenes):
    """In process: a perceiver exception and bad images are skipped, each site at one level."""
    from nsvla_common.errors import ValidationError
    from rclpy.parameter import Parameter
    from nsvla_perception.perception_node import PerceptionNode
    node = PerceptionNode(context=ros_node.context,
                          parameter_overrides=[Parameter('max_rate_hz', value=0.0)])
    try:
        img, truth = scenes[0]
        good = _image_msg(img)
        good.header.stamp.sec, good.header.stamp.nanosec = FIRST_SEC, NANOSEC
        sent = []
        node.pub_state.publish = sent.append

        def broken(*args, **kwargs):
            raise RuntimeError('the model fell over')

        def refusing(*args, **kwargs):
            raise ValidationError('a perceiver refusal')

        real = node.perceiver.perceive
        # alternate the failures so each log site is hit again after the others
        for perceive in (broken, refusing, broken, refusing):
            node.perceiver.perceive = perceive
            node._on_image(good)
            node._on_image(_image_msg(img, encoding='mono8'))
        assert node._skipped == 8 and not sent
        node.perceiver.perceive = real
        node._on_image(good)
        assert node._skipped == 8 and len(sent) == 1
        assert _stamp(sent[0]) == (FIRST_SEC, NANOSEC) and sent[0].header.frame_id == 'world'
        assert sent[0].status == 'unknown' and not sent[0].remembered   # waiting: 1 of 3
    finally:
        node.destroy_node()


def _camera_info(width, height, k, d=()):
    from sensor_msgs.msg import CameraInfo
    return CameraInfo(width=width, height=height, k=[float(v) for v in k],
                      d=[float(v) for v in d], distortion_model='plumb_bob')


def test_the_node_takes_k_and_d_from_camera_info(ros_node):
    """In process: the rig's K changes nothing; another camera's K rebuilds the perceiver once."""
    from rclpy.parameter import Parameter
    from nsvla_common.camera import camera_from_spec
    from nsvla_perception.perception_node import PerceptionNode
    spec = load_scene('scene_default.yaml')
    node = PerceptionNode(context=ros_node.context,
                          parameter_overrides=[Parameter('max_rate_hz', value=0.0),
                                               Parameter('stability_frames', value=1)])
    try:
        rig = node.perceiver
        node._on_camera_info(_camera_info(640, 480, camera_from_spec(spec).k))
        assert node.perceiver is rig and node.spec.camera == spec.camera
        node._on_camera_info(_camera_info(640, 480, [0.0] * 9))   # uncalibrated: ignored
        assert node.perceiver is rig
        # a camera publishing half-size images, as its camera_info says
        half = camera_from_spec(spec).scaled(320, 240)
        node._on_camera_info(_camera_info(320, 240, half.k))
        rebuilt = node.perceiver
        assert rebuilt is not rig and rebuilt.image_size == (320, 240)
        assert node.spec.camera.intrinsics == pytest.approx(half.intrinsics)
        node._on_camera_info(_camera_info(320, 240, half.k))        # the same again: kept
        assert node.perceiver is rebuilt
        layout = make_layout(spec, 3, seed=SEED, start='random', randomise=True)
        with SceneRenderer(spec, 3, 320, 240) as r:
            r.set_layout(layout)
            img = r.render()
        sent = []
        node.pub_state.publish = sent.append
        node._on_image(_image_msg(img))
        assert sent and state_from_msg(sent[-1]) == layout.start_state(spec.num_pegs)
    finally:
        node.destroy_node()


def test_camera_info_on_the_topic_is_read_with_the_frames(ros_node):
    """Over DDS: camera_info is not woken for, it is read with a frame (here a new size)."""
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import CameraInfo, Image
    from nsvla_common.camera import camera_from_spec
    from nsvla_interfaces.msg import SymbolicState
    from nsvla_perception.perception_node import PerceptionNode
    spec = load_scene('scene_default.yaml')
    node = PerceptionNode(context=ros_node.context,
                          parameter_overrides=[Parameter('max_rate_hz', value=0.0),
                                               Parameter('stability_frames', value=1)])
    ros_node.executor.add_node(node)
    try:
        rig = node.perceiver
        states = []
        ros_node.create_subscription(SymbolicState, 'symbolic_state', states.append, 10)
        info_pub = ros_node.create_publisher(CameraInfo, 'camera/camera_info', QoSProfile(depth=2))
        image_pub = ros_node.create_publisher(Image, 'camera/image_raw', QoSProfile(depth=2))
        assert ros_node.spin_until(lambda: info_pub.get_subscription_count() > 0
                                   and image_pub.get_subscription_count() > 0, 20.0)
        half = camera_from_spec(spec).scaled(320, 240)
        for _ in range(3):
            info_pub.publish(_camera_info(320, 240, half.k))
            ros_node.spin_until(lambda: False, 0.1)
        assert node.perceiver is rig          # nothing read yet: no frame has come
        layout = make_layout(spec, 3, seed=SEED + 7, start='random', randomise=True)
        with SceneRenderer(spec, 3, 320, 240) as r:
            r.set_layout(layout)
            img = r.render()
        truth = layout.start_state(spec.num_pegs)
        end = time.monotonic() + 20.0
        while time.monotonic() < end and not any(
                state_from_msg(m) == truth for m in states):
            image_pub.publish(_image_msg(img))
            ros_node.spin_until(lambda: False, 0.2)
        assert node.perceiver is not rig and node.perceiver.image_size == (320, 240)
        seen = [state_from_msg(m) for m in states]
        assert truth in seen, seen[-3:]
    finally:
        ros_node.executor.remove_node(node)
        node.destroy_node()


@pytest.mark.skipif(not os.path.isfile(model_path('perception_cnn.pt')),
                    reason='no trained model in models/')
def test_learned_node_publishes_the_state(node_process, ros_node, scenes):
    proc = node_process(NODE, ['-p', 'backend:=learned', '-p', 'num_blocks:=3',
                               '-p', 'stability_frames:=2', '-p', 'max_rate_hz:=0.0'])
    listen = _Listener(ros_node)
    img, truth = scenes[1]
    listen.feed_until(_image_msg(img), lambda: _known_as(listen.states, truth, 'learned'),
                      timeout=30.0)
    assert proc.alive(), proc.log()


def test_bad_parameters_refuse_to_start(node_process):
    proc = node_process(NODE, ['-p', 'backend:=learned', '-p', 'num_blocks:=3',
                               '-p', 'model_path:=/nonexistent/model.pt'])
    end = time.monotonic() + 20.0
    while proc.alive() and time.monotonic() < end:
        time.sleep(0.1)
    assert not proc.alive()
    assert 'cannot start' in proc.log() and 'not found' in proc.log()


def test_frames_are_perceived_when_something_can_have_changed(ros_node, scenes):
    """In process: idle after a fresh stable state; a look or the end of a motion wakes it."""
    from rclpy.parameter import Parameter
    from std_msgs.msg import Header
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
    from nsvla_perception.perception_node import PerceptionNode
    node = PerceptionNode(context=ros_node.context, parameter_overrides=[
        Parameter('max_rate_hz', value=0.0), Parameter('idle_rate_hz', value=0.0)])
    try:
        (img, truth), (img_b, truth_b), hidden = scenes
        sent = []
        node.pub_state.publish = sent.append

        def frame(t, image=img):
            msg = _image_msg(image)
            msg.header.stamp.sec, msg.header.stamp.nanosec = FIRST_SEC + t, 0
            n = len(sent)
            node._on_image(msg)
            return sent[n:]

        for t in range(3):       # start-up: every frame until a fresh stable state
            assert len(frame(t)) == 1
        assert sent[-1].status == 'known' and not sent[-1].remembered
        assert frame(3) == [] and frame(4) == []        # nothing can have changed: idle
        assert not node._gate.is_open      # ... and the next frames are not even taken
        node._on_look_request(Header())
        assert node._gate.is_open
        out = frame(5)
        assert len(out) == 1 and out[0].status == 'known' and not out[0].remembered
        assert state_from_msg(out[0]) == truth and frame(6) == []
        # an arm command from t = 6 for 3 s: frames until t = 9 are idle, then every one
        move = JointTrajectory(joint_names=['panda_joint1'])
        move.points = [JointTrajectoryPoint(positions=[0.0]), JointTrajectoryPoint(
            positions=[1.0])]
        move.points[-1].time_from_start.sec = 3
        move.header.stamp.sec = FIRST_SEC + 6
        node._on_command(move)
        assert not node._gate.is_open      # frames of the motion are not taken
        node._open_gate()                  # (here they are handed in, not taken)
        assert frame(7, hidden) == [] and frame(8, hidden) == []
        # ... and settle_s (0.3 s) more; the blocks now stand elsewhere: three frames to a
        # fresh stable state
        assert frame(9, img_b) == []
        after = frame(10, img_b) + frame(11, img_b) + frame(12, img_b)
        assert [m.remembered for m in after] == [True, True, False]
        assert state_from_msg(after[-1]) == truth_b and frame(13, img_b) == []
        # every_frame perceives every frame whatever happened
        node.set_parameters([Parameter('schedule', value='every_frame')])
        assert len(frame(14)) == 1 and len(frame(15)) == 1
        result = node.set_parameters([Parameter('schedule', value='sometimes')])[0]
        assert not result.successful and 'choose one of' in result.reason
    finally:
        node.destroy_node()


def test_frames_left_untaken_in_a_quiet_spell_are_taken_again_after_it(ros_node):
    """In process, spun: a closed gate opens by its timer, at most QUIET_MAX_S later."""
    from rclpy.parameter import Parameter
    from nsvla_perception.perception_node import PerceptionNode
    from nsvla_perception.schedule import QUIET_MAX_S
    node = PerceptionNode(context=ros_node.context,
                          parameter_overrides=[Parameter('max_rate_hz', value=0.0)])
    ros_node.executor.add_node(node)
    try:
        assert node._gate.is_open
        t0 = time.monotonic()
        node._gate_frames(0.3)
        assert not node._gate.is_open
        assert ros_node.spin_until(lambda: node._gate.is_open, timeout=QUIET_MAX_S + 2.0)
        assert 0.25 <= time.monotonic() - t0 < QUIET_MAX_S + 1.0
        node._gate_frames(QUIET_MAX_S)
        node._on_look_request(None)        # a look wants the next frame: no waiting
        assert node._gate.is_open
        ros_node.spin_until(lambda: False, timeout=QUIET_MAX_S + 0.3)
        assert node._gate.is_open          # the cancelled timer does not fire later
    finally:
        ros_node.executor.remove_node(node)
        node.destroy_node()

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The perception node over DDS: rendered images in, symbolic_state / markers / overlay out."""

import json
import os
import time

import pytest

pytest.importorskip('rclpy')
pytest.importorskip('mujoco')

from nsvla_common.paths import model_path  # noqa: E402
from nsvla_perception.render import SceneRenderer  # noqa: E402
from nsvla_planner.state import SymbolicState  # noqa: E402
from nsvla_sim.scene import load_scene, make_layout  # noqa: E402

SEED = 2_200_000
NODE = 'nsvla_perception.perception_node'


def _image_msg(rgb, encoding='rgb8'):
    from sensor_msgs.msg import Image
    msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding=encoding, is_bigendian=0,
                step=rgb.shape[1] * 3, data=rgb.tobytes())
    msg.header.frame_id = 'scene_camera_optical_frame'
    return msg


@pytest.fixture(scope='module')
def scenes():
    """Two rendered 3-block scenes with their true states."""
    spec = load_scene('scene_default.yaml')
    out = []
    with SceneRenderer(spec, 3) as r:
        for j, start in enumerate(({'p1': ['b3', 'b2'], 'p2': [], 'p3': ['b1']},
                                   {'p1': [], 'p2': ['b3'], 'p3': ['b2', 'b1']})):
            layout = make_layout(spec, 3, seed=SEED + j, start=start, randomise=True)
            r.set_layout(layout)
            out.append((r.render(), layout.start_state(spec.num_pegs)))
    return out


class _Listener:
    def __init__(self, node):
        from sensor_msgs.msg import Image
        from std_msgs.msg import String
        from visualization_msgs.msg import MarkerArray
        self.node = node
        self.states, self.markers, self.debug = [], [], []
        node.create_subscription(String, 'symbolic_state',
                                 lambda m: self.states.append(json.loads(m.data)), 10)
        node.create_subscription(MarkerArray, '/perception/markers',
                                 lambda m: self.markers.append(m), 10)
        node.create_subscription(Image, '/perception/debug_image',
                                 lambda m: self.debug.append(m), 10)
        self.pub = node.create_publisher(Image, 'camera/image_raw', 2)

    def feed_until(self, msg, condition, timeout=20.0):
        """Publish ``msg`` every 0.1 s until ``condition()`` holds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pub.publish(msg)
            if self.node.spin_until(condition, timeout=0.1):
                return True
        return condition()


def _known_as(states, truth, source):
    for data in reversed(states):
        if data['status'] == 'known' and not data['held'] and data['source'] == source:
            return SymbolicState.from_json(data) == truth
    return False


def test_classic_node_publishes_state_markers_and_overlay(node_process, ros_node, scenes):
    proc = node_process(NODE, ['-p', 'backend:=classic', '-p', 'num_blocks:=3',
                               '-p', 'stability_frames:=2', '-p', 'max_rate_hz:=0.0'])
    listen = _Listener(ros_node)
    (img_a, truth_a), (img_b, truth_b) = scenes
    assert listen.feed_until(_image_msg(img_a),
                             lambda: _known_as(listen.states, truth_a, 'classic')
                             and listen.debug and listen.markers), proc.log()
    last = listen.states[-1]
    assert last['schema'] == 'nsvla/symbolic_state/1' and last['stable_frames'] >= 2
    assert last['stacks'] == truth_a.stacks()
    assert all(0.5 <= f['confidence'] <= 1.0 for f in last['facts'])
    cylinders = [m for m in listen.markers[-1].markers if m.action == 0]
    assert sorted(m.text for m in cylinders) == ['b1', 'b2', 'b3']
    b1 = next(m for m in cylinders if m.text == 'b1')
    assert b1.pose.position.y == pytest.approx(0.17, abs=0.01)   # b1 on p3
    assert listen.debug[-1].encoding == 'rgb8' and listen.debug[-1].width == img_a.shape[1]

    # malformed frames are logged and skipped; the node keeps running and keeps its state
    n_states = len(listen.states)
    for bad in (_image_msg(img_a[:, :, 0:3].copy(), encoding='mono8'),
                _image_msg(img_a[:240, :320].copy()),
                _image_msg(img_a[:0, :0].copy())):
        listen.pub.publish(bad)
        ros_node.spin_until(lambda: False, timeout=0.3)
    assert proc.alive(), proc.log()
    assert len(listen.states) == n_states     # nothing published for bad frames
    log = proc.log()
    assert 'skipped camera/image_raw frame' in log and 'encoding' in log

    # bgr8 is accepted; a new scene replaces the state once stable
    assert listen.feed_until(_image_msg(img_b[:, :, ::-1].copy(), encoding='bgr8'),
                             lambda: _known_as(listen.states, truth_b, 'classic')), proc.log()


@pytest.mark.skipif(not os.path.isfile(model_path('perception_cnn.pt')),
                    reason='no trained model in models/')
def test_learned_node_publishes_the_state(node_process, ros_node, scenes):
    proc = node_process(NODE, ['-p', 'backend:=learned', '-p', 'num_blocks:=3',
                               '-p', 'stability_frames:=2', '-p', 'max_rate_hz:=0.0'])
    listen = _Listener(ros_node)
    img, truth = scenes[1]
    assert listen.feed_until(_image_msg(img),
                             lambda: _known_as(listen.states, truth, 'learned'),
                             timeout=30.0), proc.log()


def test_bad_parameters_refuse_to_start(node_process):
    proc = node_process(NODE, ['-p', 'backend:=learned', '-p', 'num_blocks:=3',
                               '-p', 'model_path:=/nonexistent/model.pt'])
    end = time.monotonic() + 20.0
    while proc.alive() and time.monotonic() < end:
        time.sleep(0.1)
    assert not proc.alive()
    assert 'cannot start' in proc.log() and 'not found' in proc.log()

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""``nsvla calibrate --topic``: the live path, from a camera topic over loopback DDS."""

import json
import math
import os
import subprocess
import sys
import threading
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip('rclpy')
pytest.importorskip('mujoco')

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _board_frame(world, blocks):
    from nsvla_perception.render import SceneRenderer
    from nsvla_sim.scene import make_layout
    with SceneRenderer(world, blocks, board=True) as renderer:
        renderer.set_layout(make_layout(world, blocks, seed=0, start='tower', randomise=False))
        return renderer.render()


def _calibrate_live(ros_node, tmp_path, image, info, name):
    """Run ``nsvla calibrate --topic`` while the test publishes ``image`` and ``info``."""
    from sensor_msgs.msg import CameraInfo, Image
    from nsvla_common.rig import load_scene
    image_pub = ros_node.create_publisher(Image, 'camera/image_raw', 10)
    info_pub = ros_node.create_publisher(CameraInfo, 'camera/camera_info', 10)
    out = str(tmp_path / name)
    proc = subprocess.Popen(
        [sys.executable, '-m', 'nsvla_common.cli', 'calibrate', '--topic', 'camera/image_raw',
         '--frames', '2', '--tower-image', 'board', '--blocks', '3', '--output', out,
         '--timeout', '60', '--json'],
        cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    stop = threading.Event()

    def publish():
        while not stop.wait(0.2):          # a camera at 5 Hz
            info_pub.publish(info)
            image_pub.publish(image)
    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    try:
        stdout, stderr = proc.communicate(timeout=150)
    finally:
        stop.set()
        thread.join(2.0)
        if proc.poll() is None:
            proc.kill()
        ros_node.destroy_publisher(image_pub)
        ros_node.destroy_publisher(info_pub)
    assert proc.returncode == 0, stderr[-2000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report['images'] == 2
    return load_scene(out).camera


def test_calibrate_from_a_live_image_topic_and_its_camera_info(ros_node, tmp_path):
    """
    Calibrate a camera moved 3 cm and tilted 3 degrees from its live topic.

    Seen on ``camera/image_raw`` (bgr8, as many drivers send) with ``camera/camera_info``: the
    rig written from the live frames has the camera where it is. The pose is solved with
    camera_info's K: a K 10 % off puts it centimetres away, so the intrinsics are those of the
    topic, not the rig file's.
    """
    from sensor_msgs.msg import CameraInfo, Image
    from nsvla_common.camera import look_at_rotation
    from nsvla_common.rig import load_scene
    from nsvla_perception.calibrate_check import moved_camera
    from nsvla_perception.calibration import rotation_error_deg
    spec = load_scene()
    pos, at = moved_camera(spec.camera.position, spec.camera.look_at, (0.03, -0.02, 0.0), 3.0)
    world = replace(spec, camera=replace(spec.camera, position=pos, look_at=at))
    bgr = np.ascontiguousarray(_board_frame(world, 3)[:, :, ::-1])
    h, w = bgr.shape[:2]
    image = Image(height=h, width=w, encoding='bgr8', step=3 * w, data=bgr.tobytes())
    f = 0.5 * h / math.tan(math.radians(spec.camera.fovy_deg) / 2)

    def info(focal):
        return CameraInfo(height=h, width=w, distortion_model='plumb_bob',
                          k=[focal, 0.0, w / 2, 0.0, focal, h / 2, 0.0, 0.0, 1.0], d=[0.0] * 5)
    errors = []
    for name, focal in (('right.yaml', f), ('wrong_k.yaml', 1.1 * f)):
        cam = _calibrate_live(ros_node, tmp_path, image, info(focal), name)
        errors.append((float(np.linalg.norm(np.asarray(cam.position) - np.asarray(pos))),
                       rotation_error_deg(look_at_rotation(cam.position, cam.look_at),
                                          look_at_rotation(pos, at))))
    (err, rot), (wrong_err, _) = errors
    assert err < 0.005 and rot < 0.5, errors
    assert wrong_err > 0.02, errors

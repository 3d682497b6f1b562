# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla calibrate``: camera pose, white balance and block colours of a rig, into a new rig file.

Lay the printed board of the rig file's ``calibration_board`` section where that section says,
build the start tower (all blocks on p1) and take images, from files or a live topic::

    nsvla calibrate --rig my_rig.yaml --images board.png --tower-image tower.png --blocks 4
    nsvla calibrate --rig my_rig.yaml --topic camera/image_raw --tower-image board --blocks 4

(``--tower-image board``: the board images show the tower too.) The new rig file is the old one
with ``camera.position``, ``camera.look_at``, ``camera.white_balance`` and ``blocks.colours``
replaced (comments are not kept); what changed is printed, one line each, or as one JSON line
with ``--json``. The steps are those of ``nsvla_perception.calibration``.
"""

import argparse
import datetime
import json
import os
import sys
import time
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import yaml

from nsvla_common.errors import ConfigError

TOWER_FROM_BOARD = 'board'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``nsvla calibrate``."""
    parser.add_argument('--rig', default='scene_default.yaml',
                        help='rig (scene) file to calibrate (config/ name or path)')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--images', nargs='+', metavar='FILE', help='images of the board')
    src.add_argument('--topic', help='live image topic (sensor_msgs/Image, rgb8 or bgr8)')
    parser.add_argument('--frames', type=int, default=5, help='frames taken from --topic')
    parser.add_argument('--camera-info', default='camera/camera_info',
                        help='camera_info topic giving the intrinsics with --topic (if any)')
    parser.add_argument('--timeout', type=float, default=10.0,
                        help='seconds to wait for --topic frames')
    parser.add_argument('--tower-image', metavar='FILE',
                        help='image of the start tower on p1 (white balance, block colours); '
                             '"board": the first board image')
    parser.add_argument('--blocks', type=int, default=0, help='blocks in the tower image')
    parser.add_argument('--output', help='new rig file (default: RIG_calibrated.yaml here)')
    parser.add_argument('--json', action='store_true', help='print one JSON line')


def read_image(path: str) -> np.ndarray:
    """Return the RGB uint8 image of a file; ConfigError when it cannot be read."""
    import cv2
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ConfigError('cannot read image %s' % path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def default_output(rig: str) -> str:
    """Return ``<rig name>_calibrated.yaml`` in the working directory."""
    stem = os.path.splitext(os.path.basename(rig))[0]
    return os.path.abspath('%s_calibrated.yaml' % stem)


def calibrate_images(rig: str, board_images: Sequence[np.ndarray],
                     tower_image: Optional[np.ndarray], blocks: int, output: str,
                     camera=None) -> Dict[str, Any]:
    """
    Calibrate ``rig`` from images, write the new rig file to ``output``; return the report.

    The report holds the calibration summary, ``changes`` (lines) and ``output``.
    """
    from nsvla_common.paths import config_path
    from nsvla_common.rig import load_scene, scene_from_dict
    from nsvla_perception.calibration import calibrate, calibrated_rig, rig_changes

    spec = load_scene(rig)
    path = config_path(rig)
    with open(path) as f:
        data = yaml.safe_load(f)
    t0 = time.perf_counter()
    result = calibrate(spec, list(board_images), tower_image, blocks, camera)
    seconds = time.perf_counter() - t0
    new_data = calibrated_rig(data, result)
    new_spec = scene_from_dict(new_data, source=output)       # refuse before writing
    header = ('# Calibrated by `nsvla calibrate` from %s on %s (%d board corners, %.2f px RMS).\n'
              % (path, datetime.date.today().isoformat(), result.pose.corners,
                 result.pose.reprojection_px))
    folder = os.path.dirname(os.path.abspath(output))
    os.makedirs(folder, exist_ok=True)
    with open(output, 'w') as f:
        f.write(header)
        yaml.safe_dump(new_data, f, sort_keys=False, default_flow_style=None)
    report = result.summary()
    report.update(changes=rig_changes(spec, new_spec), output=os.path.abspath(output),
                  seconds=round(seconds, 3))
    return report


def calibrate_files(rig: str, images: Sequence[str], tower_image: Optional[str], blocks: int,
                    output: str) -> Dict[str, Any]:
    """Calibrate from image files (what ``nsvla calibrate --images`` runs)."""
    boards = [read_image(p) for p in images]
    tower = None
    if tower_image:
        tower = boards[0] if tower_image == TOWER_FROM_BOARD else read_image(tower_image)
    return calibrate_images(rig, boards, tower, blocks, output)


def grab_frames(topic: str, count: int, info_topic: str, timeout: float, spec):
    """Return ``count`` RGB frames of a live topic and the camera of its camera_info (or None)."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, Image

    from nsvla_common.camera import camera_from_info, camera_from_spec
    from nsvla_perception.image import image_from_fields

    frames: List[np.ndarray] = []
    infos: List[Any] = []
    rclpy.init()
    node = rclpy.create_node('nsvla_calibrate')
    try:
        def on_image(msg) -> None:
            if len(frames) < count:
                frames.append(image_from_fields(msg.encoding, msg.width, msg.height, msg.step,
                                                msg.data))

        def on_info(msg) -> None:
            infos[:] = [msg]

        node.create_subscription(Image, topic, on_image, qos_profile_sensor_data)
        node.create_subscription(CameraInfo, info_topic, on_info, qos_profile_sensor_data)
        end = time.monotonic() + timeout
        while len(frames) < count and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    if len(frames) < count:
        raise ConfigError('only %d of %d frames from %s in %.0f s'
                          % (len(frames), count, topic, timeout))
    camera = None
    if infos:
        msg = infos[0]
        cam = camera_from_info(spec.camera, msg.width, msg.height, msg.k, msg.d,
                               msg.distortion_model)
        camera = camera_from_spec(replace(spec, camera=cam))
    return frames, camera


def run(args: argparse.Namespace) -> int:
    """Calibrate and print what changed; return 0."""
    from nsvla_common.rig import load_scene
    if args.tower_image and args.blocks < 1:
        raise ConfigError('--tower-image needs --blocks (the blocks in the start tower)')
    output = args.output or default_output(args.rig)
    if args.images:
        report = calibrate_files(args.rig, args.images, args.tower_image, args.blocks, output)
    else:
        if args.frames < 1:
            raise ConfigError('--frames must be at least 1')
        spec = load_scene(args.rig)
        frames, camera = grab_frames(args.topic, args.frames, args.camera_info, args.timeout,
                                     spec)
        tower = None
        if args.tower_image:
            tower = (frames[0] if args.tower_image == TOWER_FROM_BOARD
                     else read_image(args.tower_image))
        report = calibrate_images(args.rig, frames, tower, args.blocks, output, camera)
    if args.json:
        print(json.dumps(report))
        return 0
    print('calibrated %s from %d image(s): %d board corners, %.2f px RMS, roll %.2f deg (not '
          'kept: a look-at pose has none)' % (args.rig, report['images'], report['corners'],
                                              report['reprojection_px'], report['roll_deg']))
    for line in report['changes'] or ['nothing changed']:
        print('  ' + line)
    print('wrote %s' % report['output'])
    sys.stdout.flush()
    return 0

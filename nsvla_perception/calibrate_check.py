# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
``nsvla calibrate-check``: move the simulated camera, tint the light, calibrate as a user would.

The world rendered is the rig file's with the camera moved by ``--camera-offset`` (m, world
frame; the look-at point moves with it) and tilted down by ``--camera-tilt`` degrees (about its
own horizontal axis), and every light tinted ``--light`` (R, G, B). The user's rig file still
says the old pose and knows nothing of the light. Then:

1. render the calibration board lying where the rig file says, with the start tower of
   ``--blocks`` on p1 (no randomisation: one photograph), and save it as a PNG;
2. run ``nsvla calibrate --images that.png --tower-image board`` (the same function on the
   same file) into a new rig file;
3. measure the camera pose error of the new rig file against the rendered camera, and each
   ``--backend``'s accuracy (``nsvla_perception.evaluation``) over ``--scenes`` fresh random
   scenes of the moved, tinted world, read with the old rig file (before) and the new (after).
   The learned backend reads with the model in models/ as it is (not retrained): it follows
   the moved camera with the classical reader's camera fit, and balances a calibrated rig's
   white balance out of the image before the network sees it.

Prints one JSON line with ``--json``: ``position_error_m``, ``rotation_error_deg``,
``state_accuracy_before``, ``state_accuracy_after``, ``wrong_before``, ``wrong_after``,
``unknown_after``, the calibration report and the settings.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any, Dict, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError
from nsvla_perception.backend import BACKENDS


def _triple(text: str) -> Tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError('expected three numbers A,B,C, got %r' % text) from None
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError('expected three numbers A,B,C, got %r' % text)
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``nsvla calibrate-check``."""
    from nsvla_perception.training import EVAL_SEED_DEFAULT
    parser.add_argument('--camera-offset', type=_triple, default=(0.0, 0.0, 0.0),
                        metavar='DX,DY,DZ',
                        help='camera move in the world frame (m); a negative first value needs '
                             '"=": --camera-offset=-0.05,0,0')
    parser.add_argument('--camera-tilt', type=float, default=0.0, metavar='DEG',
                        help='camera tilted down by this much (degrees; negative: up)')
    parser.add_argument('--light', type=_triple, default=(1.0, 1.0, 1.0), metavar='R,G,B',
                        help='colour of every light, each in [0, 1] (default white)')
    parser.add_argument('--blocks', type=int, default=4, help='blocks (default 4)')
    parser.add_argument('--scenes', type=int, default=50,
                        help='fresh random scenes per accuracy (default 50)')
    parser.add_argument('--seed', type=int, default=EVAL_SEED_DEFAULT,
                        help='first scene seed (default %(default)s)')
    parser.add_argument('--rig', default='scene_default.yaml',
                        help='the user\'s rig file (config/ name or path)')
    parser.add_argument('--perception-config', default='perception.yaml')
    parser.add_argument('--backend', default='classic',
                        help='perception backends measured, comma-separated: classic, learned '
                             '(the model in models/, not retrained; default classic)')
    parser.add_argument('--keep', metavar='DIR',
                        help='keep the rendered image and the calibrated rig file here')
    parser.add_argument('--json', action='store_true', help='print one JSON line')


def moved_camera(position: Sequence[float], look_at: Sequence[float], offset: Sequence[float],
                 tilt_deg: float) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """Return the (position, look_at) moved by ``offset`` and tilted down by ``tilt_deg``."""
    pos = np.asarray(position, float) + np.asarray(offset, float)
    fwd = np.asarray(look_at, float) - np.asarray(position, float)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= max(np.linalg.norm(right), 1e-12)
    a = math.radians(-tilt_deg)        # about the right axis: positive turns the view down
    k = right
    fwd = (fwd * math.cos(a) + np.cross(k, fwd) * math.sin(a)
           + k * np.dot(k, fwd) * (1.0 - math.cos(a)))
    return tuple(float(c) for c in pos), tuple(float(c) for c in pos + fwd)


def check(rig: str, offset: Sequence[float], tilt_deg: float, light: Sequence[float],
          blocks: int, scenes: int, seed: int, settings, folder: str,
          backends: Sequence[str] = ('classic',)) -> Dict[str, Any]:
    """
    Run the check of the module docstring in ``folder``; return the JSON fields.

    The top-level accuracies are the first backend's; ``backends`` has each one's.
    """
    import cv2

    from nsvla_common.camera import look_at_rotation
    from nsvla_common.rig import load_scene
    from nsvla_perception.calibrate_cli import calibrate_files, TOWER_FROM_BOARD
    from nsvla_perception.calibration import rotation_error_deg
    from nsvla_perception.backend import make_perceiver
    from nsvla_perception.evaluation import evaluate_backend
    from nsvla_perception.render import SceneRenderer
    from nsvla_sim.scene import make_layout

    nominal = load_scene(rig)
    nominal.check_blocks(blocks)
    if nominal.board is None:
        raise ConfigError('rig %s has no calibration_board section' % rig)
    if not all(0.0 <= c <= 1.0 for c in light) or max(light) <= 0.0:
        raise ConfigError('--light values must be in [0, 1], not all 0, got %r' % (light,))
    pos, at = moved_camera(nominal.camera.position, nominal.camera.look_at, offset, tilt_deg)
    truth = replace(nominal, camera=replace(nominal.camera, position=pos, look_at=at),
                    light_colour=tuple(float(c) for c in light))
    with SceneRenderer(truth, blocks, board=True) as renderer:
        renderer.set_layout(make_layout(truth, blocks, seed=0, start='tower', randomise=False))
        image = renderer.render()
    image_path = os.path.join(folder, 'calibration_board.png')
    cv2.imwrite(image_path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    output = os.path.join(folder, 'rig_calibrated.yaml')
    t0 = time.perf_counter()
    report = calibrate_files(rig, [image_path], TOWER_FROM_BOARD, blocks, output)
    calibrate_s = time.perf_counter() - t0
    calibrated = load_scene(output)
    cam = calibrated.camera
    position_error = float(np.linalg.norm(np.asarray(cam.position) - np.asarray(pos)))
    rotation_error = rotation_error_deg(look_at_rotation(cam.position, cam.look_at),
                                        look_at_rotation(pos, at))
    measured: Dict[str, Dict[str, Any]] = {}
    for backend in backends:
        results = {}
        for name, spec in (('before', nominal), ('after', calibrated)):
            perceiver = make_perceiver(backend, spec, blocks, settings=settings)
            t0 = time.process_time()
            results[name] = evaluate_backend(backend, truth, blocks, scenes, seed,
                                             perceiver=perceiver)
            results[name]['cpu_s'] = round(time.process_time() - t0, 2)
        before, after = results['before'], results['after']
        measured[backend] = {
            'state_accuracy_before': before['exact_state_accuracy'],
            'state_accuracy_after': after['exact_state_accuracy'],
            'wrong_before': before['wrong_rate'], 'wrong_after': after['wrong_rate'],
            'unknown_before': before['unknown_rate'], 'unknown_after': after['unknown_rate'],
            'median_ms_before': before['median_ms'], 'median_ms_after': after['median_ms'],
            'cpu_s_before': before['cpu_s'], 'cpu_s_after': after['cpu_s']}
    first = measured[backends[0]]
    return dict(first, **{
        'position_error_m': round(position_error, 5),
        'rotation_error_deg': round(rotation_error, 3),
        'backends': measured,
        'scenes': scenes, 'blocks': blocks, 'backend': backends[0], 'seed': seed,
        'camera_offset': list(offset), 'camera_tilt_deg': tilt_deg, 'light': list(light),
        'true_position': [round(c, 5) for c in pos], 'true_look_at': [round(c, 5) for c in at],
        'calibration': report, 'calibrate_seconds': round(calibrate_s, 3)})


def run(args: argparse.Namespace) -> int:
    """Run the check and print it; return 0."""
    from nsvla_perception.settings import load_settings
    if args.scenes < 1:
        raise ConfigError('--scenes must be at least 1')
    settings = load_settings(args.perception_config)
    backends = [b.strip() for b in args.backend.split(',') if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if not backends or unknown:
        raise ConfigError('--backend takes %s, got %r' % (' and '.join(BACKENDS), args.backend))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        out = check(args.rig, args.camera_offset, args.camera_tilt, args.light, args.blocks,
                    args.scenes, args.seed, settings, args.keep, backends)
    else:
        with tempfile.TemporaryDirectory(prefix='nsvla_calibrate_check_') as folder:
            out = check(args.rig, args.camera_offset, args.camera_tilt, args.light,
                        args.blocks, args.scenes, args.seed, settings, folder, backends)
    if args.json:
        print(json.dumps(out))
        return 0
    print('camera moved %s m, tilted %g deg, light %s; %d blocks, %d scenes'
          % (list(args.camera_offset), args.camera_tilt, list(args.light), args.blocks,
             args.scenes))
    print('  calibration: position error %.1f mm, rotation error %.2f deg'
          % (1000 * out['position_error_m'], out['rotation_error_deg']))
    for line in out['calibration']['changes']:
        print('    ' + line)
    for backend, m in out['backends'].items():
        print('  %s: state accuracy before %.1f %% (wrong %.1f %%), after %.1f %% (wrong %.1f %%)'
              % (backend, 100 * m['state_accuracy_before'], 100 * m['wrong_before'],
                 100 * m['state_accuracy_after'], 100 * m['wrong_after']))
    sys.stdout.flush()
    return 0

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""``nsvla calibrate``: board pose, white balance and colours, from rendered images of the sim."""

import json
import math
import os
from dataclasses import replace

import numpy as np
import pytest

os.environ.setdefault('MUJOCO_GL', 'egl')

from nsvla_common.camera import look_at_rotation  # noqa: E402
from nsvla_common.errors import ConfigError  # noqa: E402
from nsvla_common.rig import load_scene, scene_from_dict  # noqa: E402
from nsvla_perception import calibration as cal  # noqa: E402
from nsvla_perception.calibrate_check import moved_camera  # noqa: E402

import yaml  # noqa: E402,I100

WARM = (1.0, 0.7, 0.4)
BLUE = (0.45, 0.7, 1.0)


def _raw():
    from nsvla_common.paths import config_path
    with open(config_path('scene_default.yaml')) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def spec():
    return load_scene()


def _world(spec, offset=(0.0, 0.0, 0.0), tilt=0.0, light=(1.0, 1.0, 1.0)):
    pos, at = moved_camera(spec.camera.position, spec.camera.look_at, offset, tilt)
    return replace(spec, camera=replace(spec.camera, position=pos, look_at=at),
                   light_colour=tuple(light))


def _render(world, blocks, board=True, seed=0, start='tower'):
    pytest.importorskip('mujoco')
    from nsvla_perception.render import SceneRenderer
    from nsvla_sim.scene import make_layout
    with SceneRenderer(world, blocks, board=board) as r:
        r.set_layout(make_layout(world, blocks, seed=seed, start=start, randomise=False))
        return r.render()


def _pose_errors(world, position, look_at):
    err = float(np.linalg.norm(np.asarray(position) - np.asarray(world.camera.position)))
    rot = cal.rotation_error_deg(look_at_rotation(position, look_at),
                                 look_at_rotation(world.camera.position, world.camera.look_at))
    return err, rot


# ------------------------------------------------------------------------ rig file, pure logic
def test_rig_reads_board_white_balance_and_light_colour():
    raw = _raw()
    spec = scene_from_dict(raw)
    assert spec.board is not None and spec.board.type == 'charuco'
    assert spec.camera.white_balance == () and spec.light_colour == (1.0, 1.0, 1.0)
    raw['camera']['white_balance'] = [0.8, 1.0, 1.6]
    raw['lighting']['colour'] = list(WARM)
    spec = scene_from_dict(raw)
    assert spec.camera.white_balance == (0.8, 1.0, 1.6) and spec.light_colour == WARM
    del raw['calibration_board']
    assert scene_from_dict(raw).board is None


@pytest.mark.parametrize('key, value', [('type', 'chess'), ('squares', [1, 4]),
                                        ('marker', 0.05), ('sqaure', 0.03)])
def test_rig_refuses_a_bad_board(key, value):
    raw = _raw()
    raw['calibration_board'][key] = value
    with pytest.raises(ConfigError):
        scene_from_dict(raw)


def test_white_balance_multiplies_and_clips():
    rgb = np.array([[[100, 100, 100], [200, 10, 250]]], np.uint8)
    assert cal.apply_white_balance(rgb, ()) is rgb
    out = cal.apply_white_balance(rgb, (0.5, 2.0, 1.0))
    assert out.tolist() == [[[50, 200, 100], [100, 20, 250]]]


def test_board_frame_maps_onto_the_table(spec):
    board = spec.board
    rot, origin = cal.board_to_world(board)
    assert np.allclose(rot.T @ rot, np.eye(3)) and np.isclose(np.linalg.det(rot), 1.0)
    w, h = cal.pattern_size(board)
    centre = rot @ np.array([w / 2, h / 2, 0.0]) + origin
    assert np.allclose(centre, (board.centre[0], board.centre[1], board.z))
    # yaw 90: the printed rows run along +y; the printed top edge is farther from the camera.
    assert np.allclose(rot[:, 0], (0.0, 1.0, 0.0), atol=1e-12)
    assert origin[0] < board.centre[0]


def test_moved_camera_tilts_by_the_angle(spec):
    cam = spec.camera
    same = moved_camera(cam.position, cam.look_at, (0, 0, 0), 0.0)
    assert np.allclose(same, (cam.position, cam.look_at))
    pos, at = moved_camera(cam.position, cam.look_at, (0.01, 0.0, 0.0), 4.0)
    assert np.allclose(pos, np.asarray(cam.position) + (0.01, 0, 0))
    turn = cal.rotation_error_deg(look_at_rotation(cam.position, cam.look_at),
                                  look_at_rotation(pos, at))
    assert turn == pytest.approx(4.0, abs=1e-6)
    assert at[2] < np.asarray(cam.look_at)[2]     # tilted down


# ------------------------------------------------------------------------ rendered
def test_board_is_off_by_default(spec):
    from nsvla_sim.mjcf import BOARD_GEOM, build_mjcf
    from nsvla_sim.scene import make_layout
    layout = make_layout(spec, 3)
    assert BOARD_GEOM not in build_mjcf(spec, layout)
    assert BOARD_GEOM in build_mjcf(spec, layout, board=True)


def test_nominal_camera_calibrates_to_itself(spec):
    img = _render(spec, 4)
    result = cal.calibrate(spec, [img], img, 4)
    err, rot = _pose_errors(spec, result.pose.position, result.look_at)
    assert err < 0.002 and rot < 0.3
    assert result.pose.reprojection_px < 0.5 and abs(result.pose.roll_deg) < 0.2
    assert np.allclose(result.white_balance, 1.0, atol=0.02)
    for i, c in enumerate(result.colours, start=1):
        assert np.allclose(c, spec.block_colour(i), atol=0.03)


def test_no_board_in_view_is_refused(spec):
    img = _render(spec, 3, board=False)
    with pytest.raises(cal.CalibrationError):
        cal.calibrate(spec, [img])


def test_one_row_of_the_board_is_refused(spec):
    # Moved 5 cm closer and tilted up: only the far row of corners is in view (a line).
    img = _render(_world(spec, (-0.05, 0.02, -0.03), -3.0), 3)
    with pytest.raises(cal.CalibrationError, match='one line'):
        cal.calibrate(spec, [img])


@pytest.mark.parametrize('light', [WARM, BLUE])
def test_moved_camera_and_tinted_light_calibrate_from_files(spec, tmp_path, capsys, light):
    from nsvla_common.cli import main
    from nsvla_perception.classic import ClassicPerceiver
    from nsvla_perception.evaluation import evaluate_backend
    import cv2
    world = _world(spec, (0.04, -0.03, 0.02), 4.0, light)
    path = str(tmp_path / 'board.png')
    cv2.imwrite(path, cv2.cvtColor(_render(world, 3), cv2.COLOR_RGB2BGR))
    out = str(tmp_path / 'rig.yaml')
    assert main(['calibrate', '--images', path, '--tower-image', 'board', '--blocks', '3',
                 '--output', out, '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(line.startswith('camera.position') for line in report['changes'])
    calibrated = load_scene(out)
    err, rot = _pose_errors(world, calibrated.camera.position, calibrated.camera.look_at)
    assert err < 0.005 and rot < 0.5
    gains = np.asarray(calibrated.camera.white_balance)
    # The gains undo the tint (up to the common brightness scale).
    assert np.allclose(gains * light / np.mean(gains * light), 1.0, atol=0.03)
    before = evaluate_backend('classic', world, 3, 4, 1000000,
                              perceiver=ClassicPerceiver(spec, 3))
    after = evaluate_backend('classic', world, 3, 4, 1000000,
                             perceiver=ClassicPerceiver(calibrated, 3))
    assert after['exact_state_accuracy'] == 1.0 and after['wrong_rate'] == 0.0
    assert before['exact_state_accuracy'] < 1.0
    from nsvla_common.paths import model_path
    if os.path.isfile(model_path('perception_cnn.pt')):   # the network, not retrained
        from nsvla_perception.learned import LearnedPerceiver
        learned = evaluate_backend('learned', world, 3, 4, 1000000,
                                   perceiver=LearnedPerceiver(calibrated, 3))
        assert learned['exact_state_accuracy'] == 1.0 and learned['wrong_rate'] == 0.0


def test_calibrate_needs_blocks_for_the_tower(spec, tmp_path):
    from nsvla_common.cli import main
    assert main(['calibrate', '--images', 'x.png', '--tower-image', 'board']) == 2


def test_written_rig_keeps_the_rest(spec):
    img = _render(spec, 3)
    result = cal.calibrate(spec, [img], img, 3)
    data = cal.calibrated_rig(_raw(), result)
    new = scene_from_dict(data)
    assert new.peg_positions == spec.peg_positions and new.board == spec.board
    assert len(new.block_colours) == len(spec.block_colours)
    assert math.isclose(new.camera.look_at[2], spec.camera.look_at[2], abs_tol=1e-6)

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The rig camera: intrinsics in the rig file, the pinhole model, camera_info, the sim's render."""

import copy
import math

import numpy as np
import pytest
import yaml

from nsvla_common.camera import (camera_from_info, camera_from_spec, camera_info_fields,
                                 intrinsics_change)
from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.paths import config_path
from nsvla_common.rig import fov_from_focal, load_scene, scene_from_dict

# A foreign rig: non-square pixels, the principal point off the centre, a wide lens.
FOREIGN = {'fx': 520.0, 'fy': 540.0, 'cx': 300.0, 'cy': 260.0}


@pytest.fixture(scope='module')
def raw():
    with open(config_path('scene_default.yaml')) as f:
        return yaml.safe_load(f)


def _rig(raw, drop=('fovy_deg',), **camera):
    data = copy.deepcopy(raw)
    for key in drop:
        data['camera'].pop(key, None)
    data['camera'].update(camera)
    return scene_from_dict(data)


def test_the_field_of_view_rig_has_mujocos_intrinsics():
    cam = load_scene().camera
    f = 480 / (2 * math.tan(math.radians(50.0) / 2))
    assert cam.intrinsics == pytest.approx((f, f, 319.5, 239.5))
    assert cam.is_ideal and cam.fx is None and cam.distortion == ()


def test_a_rig_file_may_give_fx_fy_cx_cy_and_a_distortion(raw):
    spec = _rig(raw, **FOREIGN, distortion=[-0.1, 0.02, 0.0, 0.0, 0.0])
    cam = spec.camera
    assert cam.intrinsics == (520.0, 540.0, 300.0, 260.0) and not cam.is_ideal
    assert cam.fovy_deg == pytest.approx(fov_from_focal(480, 540.0))
    assert cam.distortion == (-0.1, 0.02, 0.0, 0.0, 0.0)
    model = camera_from_spec(spec)
    assert model.k == (520.0, 0.0, 300.0, 0.0, 540.0, 260.0, 0.0, 0.0, 1.0)


def test_a_horizontal_field_of_view_is_fovx_deg_and_agrees_with_fovy(raw):
    fovx = fov_from_focal(640, 480 / (2 * math.tan(math.radians(25.0))))
    spec = _rig(raw, fovx_deg=fovx)
    assert spec.camera.fovy_deg == pytest.approx(50.0)
    both = _rig(raw, drop=(), fovx_deg=fovx)
    assert both.camera.intrinsics == pytest.approx(load_scene().camera.intrinsics)


@pytest.mark.parametrize('drop, camera, words', [
    # the horizontal field of view of a 640x480 camera with fx = 554 px, entered as fovy_deg
    ((), {'fx': 554.0, 'fy': 554.0, 'cx': 319.5, 'cy': 239.5, 'fovy_deg': 60.0},
     'was the horizontal one entered as fovy_deg'),
    ((), {'fx': 554.0, 'fy': 554.0, 'cx': 319.5, 'cy': 239.5, 'fovy_deg': 20.0},
     'disagrees with the intrinsics'),
    ((), {'fovx_deg': 50.0}, 'fovx_deg 50 and fovy_deg 50 disagree'),
    ((), {'fov_deg': 50.0}, 'camera.fov_deg is not a camera key'),
    (('fovy_deg',), {'hfov': 60.0}, 'camera.hfov is not a camera key'),
    (('fovy_deg',), {}, 'camera needs its intrinsics'),
    (('fovy_deg',), {'fx': 500.0, 'fy': 500.0}, 'missing cx, cy'),
    (('fovy_deg',), {'fx': 500.0, 'fy': 500.0, 'cx': 700.0, 'cy': 240.0}, 'camera.cx'),
    (('fovy_deg',), {'fx': 500.0, 'fy': 800.0, 'cx': 320.0, 'cy': 240.0}, 'differ by 38 %'),
    ((), {'distortion': [0.1, 0.0, 0.0, 0.0, 0.0]}, 'needs the intrinsics'),
    (('fovy_deg',), dict(FOREIGN, distortion=[0.1, 0.0]), 'camera.distortion (plumb_bob)'),
    (('fovy_deg',), dict(FOREIGN, distortion_model='fisheye'), 'distortion_model'),
])
def test_a_camera_described_wrong_is_refused_with_the_reason(raw, drop, camera, words):
    with pytest.raises(ConfigError) as err:
        _rig(raw, drop=drop, **camera)
    assert words in str(err.value)


def test_project_and_rays_invert_each_other_through_a_lens(raw):
    spec = _rig(raw, **FOREIGN, distortion=[-0.25, 0.08, 0.001, -0.002, 0.01])
    cam = camera_from_spec(spec)
    uv = np.random.default_rng(0).uniform([0, 0], [639, 479], (400, 2))
    points = cam.position + 0.8 * cam.rays(uv)
    assert np.abs(cam.project(points) - uv).max() < 1e-6
    cv2 = pytest.importorskip('cv2')
    cam_pts = cam.to_camera(points)
    theirs, _ = cv2.projectPoints(cam_pts, np.zeros(3), np.zeros(3),
                                  np.array(cam.k).reshape(3, 3), np.array(cam.distortion))
    assert np.abs(theirs.reshape(-1, 2) - uv).max() < 1e-6


def test_a_scaled_camera_keeps_its_field_of_view_and_principal_point(raw):
    cam = camera_from_spec(_rig(raw, **FOREIGN))
    half = cam.scaled(320, 240)
    assert half.intrinsics == pytest.approx((260.0, 270.0, 149.75, 129.75))
    point = [(0.5, 0.05, 0.02)]
    assert half.project(point)[0] == pytest.approx((cam.project(point)[0] + 0.5) / 2 - 0.5)


def test_camera_info_replaces_the_intrinsics_and_says_what_changed(raw):
    rig = load_scene().camera
    same = camera_info_fields(640, 480, rig.intrinsics)
    assert intrinsics_change(rig, camera_from_info(rig, 640, 480, same['k'], same['d'],
                                                   same['distortion_model'])) == ''
    info = camera_info_fields(640, 480, (FOREIGN['fx'], FOREIGN['fy'], 300.0, 260.0),
                              [-0.1, 0.0, 0.0, 0.0, 0.0])
    cam = camera_from_info(rig, 640, 480, info['k'], info['d'], info['distortion_model'])
    assert cam.intrinsics == (520.0, 540.0, 300.0, 260.0) and cam.position == rig.position
    text = intrinsics_change(rig, cam)
    assert 'fx 514.68 -> 520.00 px' in text and 'distortion' in text


def test_camera_info_names_a_horizontal_field_of_view_entered_as_fovy(raw):
    # the rig file says fovy_deg 60, but 60 degrees is the camera's horizontal field of view
    rig = _rig(raw, drop=(), fovy_deg=60.0).camera
    f = 640 / (2 * math.tan(math.radians(30.0)))
    cam = camera_from_info(rig, 640, 480, camera_info_fields(640, 480, (f, f, 319.5, 239.5))['k'])
    assert 'was the horizontal one entered as fovy_deg' in intrinsics_change(rig, cam)


@pytest.mark.parametrize('k, words', [
    ([0.0] * 9, 'not calibrated'),
    ([500.0, 3.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0], 'skew'),
    ([500.0, 0.0, 320.0, 0.0, -500.0, 240.0, 0.0, 0.0, 1.0], 'not a pinhole matrix'),
    ([500.0, 0.0, 900.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0], 'off the 640x480 image'),
    ([500.0] * 8, '9 finite numbers'),
])
def test_camera_info_no_pinhole_camera_sends_is_refused(k, words):
    with pytest.raises(ValidationError, match=words):
        camera_from_info(load_scene().camera, 640, 480, k)
    with pytest.raises(ValidationError, match='not supported'):
        camera_from_info(load_scene().camera, 640, 480,
                         [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0],
                         [0.1, 0.0, 0.0, 0.0], 'equidistant')


def _block_box(spec, camera, num_blocks):
    """Bounding box (x0, y0, x1, y1) of b1 on top of the start tower, from the camera model."""
    apothem, n = spec.block_apothems(num_blocks)[0], spec.segments
    r = apothem / math.cos(math.pi / n)
    ang = math.pi / n + 2 * math.pi * np.arange(n) / n
    x, y = spec.peg_xy(1)
    z = spec.block_centre_z(num_blocks - 1)
    corners = [(x + r * math.cos(a), y + r * math.sin(a), z + dz)
               for a in ang for dz in (-spec.block_height / 2, spec.block_height / 2)]
    uv = camera.project(corners)
    return np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()])


def _red_box(rgb):
    """Bounding box (x0, y0, x1, y1) of the strongly red pixels (b1, the red top block)."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    ys, xs = np.nonzero((r > 90) & (r > 2 * g) & (r > 2 * b))
    return np.array([xs.min(), ys.min(), xs.max(), ys.max()], float)


@pytest.mark.parametrize('camera', [{}, FOREIGN])
def test_the_sim_renders_and_publishes_the_camera_perception_uses(raw, camera):
    pytest.importorskip('mujoco')
    from nsvla_sim.world import HanoiWorld
    spec = _rig(raw, drop=('fovy_deg',) if camera else (), **camera)
    world = HanoiWorld(spec, num_blocks=3)
    try:
        model = camera_from_spec(spec)
        info = world.camera_info()
        # MuJoCo keeps focalpixel in float32: the same camera to 1e-4 px
        assert info['k'] == pytest.approx(list(model.k), abs=1e-4)
        assert (info['width'], info['height']) == (640, 480) and not any(info['d'])
        seen_by_perception = camera_from_info(spec.camera, info['width'], info['height'],
                                              info['k'], info['d'], info['distortion_model'])
        assert intrinsics_change(spec.camera, seen_by_perception) == ''
        half = world.camera_info(320, 240)
        assert half['k'] == pytest.approx(list(model.scaled(320, 240).k), abs=1e-4)
        seen = _red_box(world.render())
        expected = _block_box(spec, model, 3)
        assert np.abs(seen - expected).max() <= 2.0, (seen, expected)
    finally:
        world.close()

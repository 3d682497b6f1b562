# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The classical backend on rendered scenes; camera geometry against the renderer."""

import random

import numpy as np
import pytest

pytest.importorskip('mujoco')
pytest.importorskip('cv2')

from nsvla_perception.classic import ClassicPerceiver, colour_lut  # noqa: E402
from nsvla_perception.geometry import camera_from_spec  # noqa: E402
from nsvla_perception.render import ArmPoser, lift_top_block, SceneRenderer  # noqa: E402
from nsvla_perception.symbols import ILLEGAL, KNOWN, OCCLUDED  # noqa: E402
from nsvla_sim.scene import load_scene, make_layout  # noqa: E402

SEED = 2_000_000   # far from any training seed


@pytest.fixture(scope='module')
def spec():
    return load_scene('scene_default.yaml')


@pytest.fixture(scope='module')
def renderers(spec):
    made = {n: SceneRenderer(spec, n) for n in (3, 4, 5)}
    yield made
    for r in made.values():
        r.close()


@pytest.mark.parametrize('n', [3, 4, 5])
def test_classic_reads_randomised_scenes(spec, renderers, n):
    perceiver = ClassicPerceiver(spec, n)
    for j in range(4):
        layout = make_layout(spec, n, seed=SEED + 10 * n + j, start='random', randomise=True)
        renderers[n].set_layout(layout)
        out = perceiver.perceive(renderers[n].render())
        assert out.kind == KNOWN, out.state.reason
        assert out.state == layout.start_state(spec.num_pegs)
        assert out.state.source == 'classic'
        assert out.state.min_confidence() >= 0.5
        assert set(out.positions) == {'b%d' % i for i in range(1, n + 1)}


def test_tower_with_nominal_camera(spec, renderers):
    layout = make_layout(spec, 5, seed=0, start='tower:2', randomise=False)
    renderers[5].set_layout(layout)
    out = ClassicPerceiver(spec, 5).perceive(renderers[5].render())
    assert out.state.stacks() == {'p1': [], 'p2': ['b5', 'b4', 'b3', 'b2', 'b1'], 'p3': []}
    assert out.state.min_confidence() == 1.0


def test_projection_matches_the_renderer(spec, renderers):
    """The top block's pixels are centred where the pinhole model projects its centre."""
    layout = make_layout(spec, 3, seed=SEED + 1, start={'p1': ['b3'], 'p2': ['b2'],
                                                        'p3': ['b1']}, randomise=True)
    r = renderers[3]
    r.set_layout(layout)
    mask = r.block_mask()
    cam = camera_from_spec(spec, layout.camera_position, layout.camera_look_at)
    uv = cam.project(r.block_centres())
    for i in range(1, 4):
        ys, xs = np.nonzero(mask == i)
        assert len(xs) > 300
        assert abs(xs.mean() - uv[i - 1, 0]) < 3.0
        assert abs(ys.mean() - uv[i - 1, 1]) < 6.0


def test_larger_block_on_smaller_is_unknown(spec, renderers):
    """A physically illegal stack (b3 resting on b1) is reported unknown, not re-ordered."""
    layout = make_layout(spec, 3, seed=SEED + 2, start={'p1': ['b1'], 'p2': ['b3', 'b2'],
                                                        'p3': []}, randomise=False)
    x, y = spec.peg_xy(1)
    r = renderers[3]
    r.set_layout(layout, block_poses={'b1': ((x, y, spec.block_centre_z(0)), 0.0),
                                      'b3': ((x, y, spec.block_centre_z(1)), 0.0)})
    out = ClassicPerceiver(spec, 3).perceive(r.render())
    assert not out.state.known
    assert out.kind in (ILLEGAL, OCCLUDED)
    assert out.state.fact_keys() == []


def test_block_in_the_gripper_is_not_on_a_peg(spec, renderers):
    r = renderers[3]
    poser = ArmPoser(r)
    layout = make_layout(spec, 3, seed=SEED + 3, start={'p1': ['b3', 'b2', 'b1'], 'p2': [],
                                                        'p3': []}, randomise=False)
    x, y = spec.peg_xy(2)
    arm_q = poser.pose((x, y, 0.15))
    assert arm_q is not None
    lifted = lift_top_block(r, poser, layout, arm_q, random.Random(0))
    assert lifted['name'] == 'b1'
    out = ClassicPerceiver(spec, 3).perceive(r.render())
    assert out.kind == OCCLUDED, out.state
    assert 'b1' in out.state.reason


def test_blank_table_is_unknown(spec):
    perceiver = ClassicPerceiver(spec, 3)
    grey = np.full((spec.camera.height, spec.camera.width, 3), 150, np.uint8)
    out = perceiver.perceive(grey)
    assert out.kind == OCCLUDED and 'b1, b2, b3' in out.state.reason


def test_colour_lut_nearest_prototype_and_rejection():
    lut = colour_lut([(0.0, 200.0), (60.0, 200.0)], 6.0, 60.0, 2.5)
    assert lut[2, 200] == 1 and lut[178, 200] == 1      # hue wraps around
    assert lut[58, 190] == 2
    assert lut[30, 200] == 0                            # far from both


def test_more_blocks_than_configured_is_unknown(spec, renderers):
    """A scene with 4 blocks read by a perceiver set for 3: b4's colour is noticed."""
    layout = make_layout(spec, 4, seed=SEED + 4, start='random', randomise=True)
    renderers[4].set_layout(layout)
    out = ClassicPerceiver(spec, 3).perceive(renderers[4].render())
    assert out.kind == ILLEGAL and not out.state.known
    assert 'b4' in out.state.reason and 'set for 3 blocks' in out.state.reason


def test_blob_on_the_colours_box_is_the_blob_on_the_whole_mask(spec, renderers):
    perceiver = ClassicPerceiver(spec, 5)
    rng = np.random.default_rng(5)
    masks = []
    for j in range(6):      # the labels of rendered scenes, blocks anywhere
        layout = make_layout(spec, 5, seed=SEED + 700 + j, start='random', randomise=True)
        renderers[5].set_layout(layout)
        labels = perceiver.label_image(renderers[5].render())
        masks += [(labels == i + 1).astype(np.uint8) for i in range(5)]
    shape = masks[0].shape
    for _ in range(20):     # speckle, blobs at the borders of the region, empty masks
        m = (rng.random(shape) < rng.choice([0.0, 0.001, 0.02])).astype(np.uint8)
        y, x = rng.integers(0, shape[0] - 5), rng.integers(0, shape[1] - 5)
        m[max(0, y - 20):y + 20, max(0, x - 20):x + 20] = 1
        m[:rng.integers(0, 6), :] = rng.integers(0, 2)
        masks.append(m)
    masks.append(np.zeros(shape, np.uint8))
    for mask in masks:
        for origin in ((0, 0), (13, 7)):
            # the whole mask opened and searched, as before the crop
            want = perceiver._opened_blob(mask.copy(), 30.0, origin)
            got = perceiver._blob(mask.copy(), 30.0, origin)
            if want is None:
                assert got is None
                continue
            assert (got.area, got.box) == (want.area, want.box)
            assert got.centre == pytest.approx(want.centre, abs=1e-9)
            assert np.array_equal(got.mask, want.mask)


def test_the_same_blob_seen_again_gets_the_same_leaning_fit_without_a_new_search(spec):
    import cv2
    perceiver = ClassicPerceiver(spec, 3)
    camera = camera_from_spec(spec)
    filled = np.zeros((60, 90), np.uint8)
    cv2.ellipse(filled, (45, 30), (40, 18), 10, 0, 360, 1, -1)   # a ring seen side-on
    box, target = (300, 260, 390, 320), np.array([345.0, 290.0])
    apothem = float(perceiver.apothems[0])
    searched = []
    search = perceiver._leaning_search

    def counted(*args):
        searched.append(1)
        return search(*args)

    perceiver._leaning_search = counted
    first = perceiver._leaning_fit(filled, box, target, camera, apothem)
    first[2][0] += 1.0                       # a caller that changes its copy changes no other
    again = perceiver._leaning_fit(filled.copy(), box, target.copy(), camera, apothem)
    assert len(searched) == 1
    fresh = search(filled, box, target, camera, apothem)
    assert again[0] == fresh[0] and again[1] == fresh[1] and again[3] == fresh[3]
    assert np.array_equal(again[2], fresh[2])
    moved = filled.copy()
    moved[0, 0] = 1                          # one pixel more: searched again
    perceiver._leaning_fit(moved, box, target, camera, apothem)
    assert len(searched) == 2

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The learned backend: shipped model on rendered scenes, column combination, model checks."""

import dataclasses
import os

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('mujoco')

from nsvla_common.errors import ConfigError  # noqa: E402
from nsvla_common.paths import model_path  # noqa: E402
from nsvla_perception.learned import (combine_columns, count_parameters,  # noqa: E402
                                      DEFAULT_MODEL, LearnedPerceiver, load_checkpoint)
from nsvla_perception.render import SceneRenderer  # noqa: E402
from nsvla_perception.symbols import KNOWN, OCCLUDED  # noqa: E402
from nsvla_sim.scene import load_scene, make_layout  # noqa: E402

SEED = 2_100_000   # far from the model's training and held-out seeds
MODEL = model_path(DEFAULT_MODEL)


@pytest.fixture(scope='module')
def spec():
    return load_scene('scene_default.yaml')


def _logits(columns):
    """Logits (K, S, L + 1) from {peg index: {slot: class}}; other entries say 'absent'."""
    out = np.full((3, 6, 7), -8.0)
    out[:, :, 0] = 8.0
    for k, slots in columns.items():
        for s, c in slots.items():
            out[k, s, :] = -8.0
            out[k, s, c] = 8.0
    return out


def test_combine_columns_places_and_orders_blocks():
    # p1 holds b3 (level 0) and b1 (level 1); b2 alone on p3.
    res = combine_columns(_logits({0: {2: 1, 0: 2}, 2: {1: 1}}), 3)
    assert [r['peg'] for r in res] == [1, 3, 1]
    assert res[0]['level'] == pytest.approx(1.0, abs=1e-3)
    assert res[2]['level'] == pytest.approx(0.0, abs=1e-3)
    assert all(r['confidence'] > 0.99 for r in res)


def test_combine_columns_not_seen_and_ambiguous():
    logits = _logits({0: {1: 1}, 1: {1: 1}})    # b2 claimed by two columns
    logits[:, 0, :] = 0.0                        # b1: the network cannot tell
    res = combine_columns(logits, 3)
    assert res[2]['peg'] == 0                    # b3 in no column: not seen
    assert res[1]['confidence'] < 0.6            # b2: p1 or p2
    assert res[0]['confidence'] < 0.6


@pytest.mark.skipif(not os.path.isfile(MODEL), reason='no trained model in models/')
def test_shipped_model_is_small_and_documented():
    ckpt = load_checkpoint(MODEL)
    meta = ckpt['meta']
    assert os.path.getsize(MODEL) < 4 * 1024 * 1024
    assert meta['held_out']['exact_state_accuracy'] >= 0.99
    assert meta['energy']['estimated'] is True and meta['energy']['joules'] > 0
    assert meta['train_seeds'][1] < SEED and meta['held_out_seeds'][1] < SEED


@pytest.mark.skipif(not os.path.isfile(MODEL), reason='no trained model in models/')
@pytest.mark.parametrize('n', [3, 4, 5])
def test_learned_reads_randomised_scenes(spec, n):
    perceiver = LearnedPerceiver(spec, n)
    assert 10_000 < count_parameters(perceiver.net) < 100_000
    with SceneRenderer(spec, n) as r:
        for j in range(4):
            layout = make_layout(spec, n, seed=SEED + 10 * n + j, start='random',
                                 randomise=True)
            r.set_layout(layout)
            out = perceiver.perceive(r.render())
            assert out.kind == KNOWN, out.state.reason
            assert out.state == layout.start_state(spec.num_pegs)
            assert out.state.source == 'learned'
            assert out.state.min_confidence() >= 0.5


@pytest.mark.skipif(not os.path.isfile(MODEL), reason='no trained model in models/')
def test_learned_blank_image_is_unknown(spec):
    perceiver = LearnedPerceiver(spec, 3)
    grey = np.full((spec.camera.height, spec.camera.width, 3), 150, np.uint8)
    out = perceiver.perceive(grey)
    assert out.kind == OCCLUDED and not out.state.known


@pytest.mark.skipif(not os.path.isfile(MODEL), reason='no trained model in models/')
def test_model_refuses_another_rig(spec):
    moved = dataclasses.replace(spec, camera=dataclasses.replace(
        spec.camera, position=(spec.camera.position[0] + 0.1,) + spec.camera.position[1:]))
    with pytest.raises(ConfigError, match='another rig.*train-perception'):
        LearnedPerceiver(moved, 3)
    with pytest.raises(ConfigError, match='knows 6 blocks at most'):
        LearnedPerceiver(spec, 7)


def test_a_calibrated_rig_is_the_same_rig_to_the_network_a_moved_one_is_not(spec):
    from nsvla_perception.learned import fingerprint_difference, rig_fingerprint
    base = rig_fingerprint(spec, 6)

    def camera(**change):
        return rig_fingerprint(dataclasses.replace(
            spec, camera=dataclasses.replace(spec.camera, **change)), 6)
    x, y, z = spec.camera.position
    assert fingerprint_difference(base, camera(position=(x + 0.04, y - 0.03, z + 0.02))) == ''
    assert fingerprint_difference(base, camera(position=(x + 0.1, y, z))).startswith(
        'camera.position')
    assert fingerprint_difference(base, camera(width=spec.camera.width + 2)).startswith(
        'camera.width')
    recoloured = dict(base, colours=[[c + 0.01 for c in rgb] for rgb in base['colours']])
    assert fingerprint_difference(base, recoloured) == ''
    other = dict(base, colours=[[1.0, 1.0, 1.0]] + base['colours'][1:])
    assert fingerprint_difference(base, other).startswith('colours')


@pytest.mark.skipif(not os.path.isfile(MODEL), reason='no trained model in models/')
def test_the_network_follows_a_camera_moved_from_where_the_rig_says(spec):
    from nsvla_perception.calibrate_check import moved_camera
    pos, at = moved_camera(spec.camera.position, spec.camera.look_at, (0.03, 0.0, 0.0), 3.0)
    world = dataclasses.replace(spec, camera=dataclasses.replace(
        spec.camera, position=pos, look_at=at))
    perceiver = LearnedPerceiver(spec, 4)           # the rig file's camera, not the world's
    right = wrong = 0
    with SceneRenderer(world, 4) as renderer:
        for j in range(6):
            layout = make_layout(world, 4, seed=1000000 + j, start='random', randomise=True)
            renderer.set_layout(layout)
            out = perceiver.perceive(renderer.render())
            if out.state.known:
                right += out.state == layout.start_state(3)
                wrong += out.state != layout.start_state(3)
    assert perceiver.followed >= 1
    assert wrong == 0 and right >= 5, (right, wrong)   # without following: 0 of 6, refused


def test_missing_or_foreign_model_file(tmp_path, spec):
    with pytest.raises(ConfigError, match='not found'):
        LearnedPerceiver(spec, 3, str(tmp_path / 'none.pt'))
    path = tmp_path / 'foreign.pt'
    torch.save({'weights': [1, 2]}, str(path))
    with pytest.raises(ConfigError, match='not an nsvla perception model'):
        LearnedPerceiver(spec, 3, str(path))
    path.write_bytes(b'not a torch file')
    with pytest.raises(ConfigError, match='cannot read'):
        LearnedPerceiver(spec, 3, str(path))


@pytest.mark.skipif(not os.path.isfile(MODEL), reason='no trained model in models/')
def test_learned_notices_more_blocks_than_configured(spec):
    layout = make_layout(spec, 4, seed=SEED + 5, start='random', randomise=True)
    with SceneRenderer(spec, 4) as r:
        r.set_layout(layout)
        out = LearnedPerceiver(spec, 3).perceive(r.render())
    assert not out.state.known and 'b4' in out.state.reason

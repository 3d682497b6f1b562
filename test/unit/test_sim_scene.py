# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Scene specification, layouts, MJCF generation and world builds for N = 3..6."""

import copy
import math

import mujoco
import pytest
import yaml

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.paths import config_path
from nsvla_planner.state import SymbolicState
from nsvla_sim import mjcf
from nsvla_sim.scene import load_scene, make_layout, scene_from_dict, with_stacks
from nsvla_sim.world import HanoiWorld


@pytest.fixture(scope='module')
def raw():
    with open(config_path('scene_default.yaml')) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def spec():
    return load_scene()


def test_default_scene_loads(spec):
    assert spec.num_pegs == 3 and spec.peg_height == pytest.approx(0.045)
    assert spec.segments == 8 and spec.camera.width == 640
    assert spec.block_colour_name(1) == 'red' and spec.block_colour_name(40) == ''


@pytest.mark.parametrize('n', range(1, 17))
def test_block_sizes_grow_strictly_and_fit_the_gripper(spec, n):
    sizes = spec.block_apothems(n)
    assert len(sizes) == n
    assert all(b > a for a, b in zip(sizes, sizes[1:]))
    assert sizes[0] > spec.hole_apothem and sizes[-1] <= spec.apothem_max + 1e-12


@pytest.mark.parametrize('path, value, words', [
    (('schema',), 'nsvla/scene/0', 'schema'),
    (('pegs', 'positions'), [[0.5, 0.0], [0.5, 0.05], [0.5, 0.2]], 'apart'),
    (('blocks', 'hole_apothem'), 0.005, 'no clearance'),
    (('blocks', 'segments'), 7, 'even integer'),
    (('blocks', 'apothem_max'), 0.05, 'blocks.apothem_max'),
    (('camera', 'width'), 0, 'camera.width'),
    (('physics', 'integrator'), 'magic', 'integrator'),
    (('robot', 'home'), [0, 0, 0], 'robot.home'),
    (('blocks', 'colour_names'), ['red', 'red'], 'used twice'),
    (('blocks', 'colour_names'), ['dark red'], 'one word'),
])
def test_bad_scenes_are_refused_with_the_reason(raw, path, value, words):
    data = copy.deepcopy(raw)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as err:
        scene_from_dict(data)
    assert words in str(err.value)


def test_layouts_tower_random_and_given(spec):
    tower = make_layout(spec, 4)
    assert tower.stacks['p1'] == ['b4', 'b3', 'b2', 'b1']
    assert tower.start_state(3) == SymbolicState.tower(4, 3)
    seen = set()
    for seed in range(12):
        lay = make_layout(spec, 4, seed=seed, start='random')
        state = lay.start_state(3)   # legal by construction (raises otherwise)
        assert lay == make_layout(spec, 4, seed=seed, start='random')
        seen.add(state.assignment())
    assert len(seen) > 5, 'random starts should vary with the seed'
    given = make_layout(spec, 3, start={'p2': ['b3'], 'p3': ['b2', 'b1']})
    assert [b.peg for b in given.blocks] == [3, 3, 2]
    assert [b.level for b in given.blocks] == [1, 0, 0]
    assert make_layout(spec, 3, start='tower:3').stacks['p3'] == ['b3', 'b2', 'b1']
    with pytest.raises(ValidationError):
        make_layout(spec, 3, start={'p1': ['b1', 'b2', 'b3']})   # larger on smaller
    with pytest.raises(ValidationError):
        make_layout(spec, 3, start='sideways')
    moved = with_stacks(tower, {'p2': ['b4', 'b3', 'b2', 'b1']})
    assert {b.peg for b in moved.blocks} == {2}


def test_randomisation_is_seeded_and_bounded(spec):
    plain = make_layout(spec, 3, seed=5)
    a = make_layout(spec, 3, seed=5, randomise=True)
    b = make_layout(spec, 3, seed=5, randomise=True)
    c = make_layout(spec, 3, seed=6, randomise=True)
    assert a == b and a != c
    assert a.stacks == plain.stacks      # randomisation does not change the configuration
    r = spec.randomisation
    for blk, nominal in zip(a.blocks, plain.blocks):
        assert abs(blk.offset[0]) <= r.block_offset and abs(blk.offset[1]) <= r.block_offset
        assert abs(math.degrees(blk.yaw)) <= r.block_yaw_deg
        assert blk.colour != nominal.colour
        assert max(abs(x - y) for x, y in zip(blk.colour, nominal.colour)) < 0.3
    assert max(abs(x - y) for x, y in zip(a.camera_position, spec.camera.position)) \
        <= r.camera_position + 1e-12
    assert a.camera_position != spec.camera.position


@pytest.mark.parametrize('n', [3, 4, 5, 6])
def test_mjcf_compiles_with_n_ring_blocks(spec, n):
    xml = mjcf.build_mjcf(spec, make_layout(spec, n))
    model = mujoco.MjModel.from_xml_string(xml)
    for i in range(1, n + 1):
        body = model.body('b%d' % i)
        assert model.body_geomnum[body.id] == spec.segments
    assert model.nu == 8   # 7 arm servos + the gripper
    for j in mjcf.ARM_JOINTS:
        act = model.actuator('actuator_%s' % j)
        assert model.actuator_biastype[act.id] == mujoco.mjtBias.mjBIAS_AFFINE
    assert model.vis.quality.shadowsize == 0
    assert model.site(mjcf.TCP_SITE).id >= 0
    summary = mjcf.summary(xml)
    assert summary['camera'] == 2 and summary['body'] >= n + 10


@pytest.mark.parametrize('n', [3, 4, 5, 6])
def test_world_builds_and_ground_truth_is_the_start(spec, n):
    world = HanoiWorld(spec, num_blocks=n, seed=n, start='random')
    try:
        want = world.layout.start_state(spec.num_pegs)
        state = world.ground_truth()
        assert state.known, state.reason
        assert state == want
        assert state.source == 'ground_truth' and state.stamp == pytest.approx(world.time)
    finally:
        world.close()

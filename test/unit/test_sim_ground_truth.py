# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Ground truth from block poses and contacts (pure: synthetic observations, no physics)."""

import math
import random

import pytest

from nsvla_planner.state import SymbolicState, TABLE
from nsvla_sim.ground_truth import BlockObservation, symbolic_from_observations
from nsvla_sim.scene import load_scene


@pytest.fixture(scope='module')
def spec():
    return load_scene()


def _on(spec, name, peg, level, dx=0.0, up=1.0, fingers=0, supported=True):
    x, y = spec.peg_xy(peg)
    return BlockObservation(name, (x + dx, y, spec.block_centre_z(level)), up, fingers, supported)


def test_stacks_from_poses(spec):
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1, dx=0.004), _on(spec, 'b1', 3, 0)]
    state = symbolic_from_observations(spec, 3, obs, stamp=1.5)
    assert state.known and state.source == 'ground_truth' and state.stamp == 1.5
    assert state == SymbolicState.from_stacks({'p1': ['b3', 'b2'], 'p3': ['b1']}, 3, 3)


def test_a_lifted_block_in_both_fingers_is_held(spec):
    x, y = spec.peg_xy(2)
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1),
           BlockObservation('b1', (x, y, 0.2), 1.0, finger_contacts=2, supported=False)]
    state = symbolic_from_observations(spec, 3, obs)
    assert state.known and state.holding == 'b1' and state.peg_of('b2') == 'p1'


def test_gripped_but_still_resting_is_on_its_support(spec):
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1),
           _on(spec, 'b1', 1, 2, fingers=2, supported=True)]
    state = symbolic_from_observations(spec, 3, obs)
    assert state.holding is None and state.stacks()['p1'] == ['b3', 'b2', 'b1']


@pytest.mark.parametrize('obs_b1, words', [
    (BlockObservation('b1', (0.30, 0.30, 0.01), 1.0, supported=False), 'b1 is still moving'),
    (BlockObservation('b1', (0.30, 0.30, 0.01), 1.0, speed=0.3), 'b1 is still moving'),
    (BlockObservation('b1', (0.50, 0.17, 0.09), 1.0, supported=False), 'b1 is still moving'),
    (BlockObservation('b1', (0.50, 0.17, 0.09), 1.0), 'above what could hold it'),
    (BlockObservation('b1', (0.30, 0.30, 0.09), 1.0), 'above the table on nothing known'),
])
def test_unknown_with_the_reason(spec, obs_b1, words):
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1), obs_b1]
    state = symbolic_from_observations(spec, 3, obs)
    assert not state.known and words in state.reason


@pytest.mark.parametrize('obs_b1, loose', [
    (BlockObservation('b1', (0.30, 0.30, 0.01), 1.0), {'b1': TABLE}),
    (BlockObservation('b1', (0.50, 0.17, 0.02), math.cos(math.radians(40))), {'b1': 'p3'}),
])
def test_what_was_unknown_off_the_pegs_or_tilted_is_now_loose(spec, obs_b1, loose):
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1), obs_b1]
    state = symbolic_from_observations(spec, 3, obs)
    assert state.known and state.loose == loose and state.stacks()['p1'] == ['b3', 'b2']


def test_larger_on_smaller_is_loose_on_the_smaller_not_an_exception(spec):
    obs = [_on(spec, 'b1', 1, 0), _on(spec, 'b2', 1, 1), _on(spec, 'b3', 2, 0)]
    state = symbolic_from_observations(spec, 3, obs)
    assert state.known and state.loose == {'b2': 'b1'}
    assert state.stacks() == {'p1': ['b1'], 'p2': ['b3'], 'p3': []}


@pytest.mark.parametrize('seed', range(40))
def test_legal_stacks_give_the_same_state_as_before_loose_blocks(spec, seed):
    """Whatever the yaw, speed and support flags, a legal layout reads as from_stacks."""
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    want = SymbolicState.random(n, spec.num_pegs, rng, stamp=2.0, source='ground_truth')
    obs = []
    for p, column in want.stacks().items():
        for level, b in enumerate(column):
            x, y = spec.peg_xy(int(p[1:]))
            obs.append(BlockObservation(
                b, (x + rng.uniform(-0.004, 0.004), y, spec.block_centre_z(level)),
                rng.choice([1.0, -1.0, 0.99]), rng.choice([0, 1]), rng.random() < 0.5,
                yaw=rng.uniform(-3, 3), speed=rng.choice([0.0, 0.5])))
    rng.shuffle(obs)
    state = symbolic_from_observations(spec, n, obs, stamp=2.0)
    assert state == want and not state.loose and not state.poses
    assert state.to_dict() == want.to_dict()


def test_two_blocks_in_the_hand_is_unknown(spec):
    obs = [_on(spec, 'b3', 1, 0),
           BlockObservation('b2', (0.5, 0.0, 0.2), 1.0, 2, False),
           BlockObservation('b1', (0.5, 0.0, 0.22), 1.0, 2, False)]
    state = symbolic_from_observations(spec, 3, obs)
    assert not state.known and 'two blocks in the hand' in state.reason


def test_json_round_trip_is_the_perception_schema(spec):
    obs = [_on(spec, 'b3', 2, 0), _on(spec, 'b2', 2, 1), _on(spec, 'b1', 2, 2)]
    state = symbolic_from_observations(spec, 3, obs, stamp=3.0)
    back = SymbolicState.from_json(state.to_json())
    assert back == state and back.stacks()['p2'] == ['b3', 'b2', 'b1']

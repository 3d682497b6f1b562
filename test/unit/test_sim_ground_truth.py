# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Ground truth from block poses and contacts (pure: synthetic observations, no physics)."""

import math

import pytest

from nsvla_planner.state import SymbolicState
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
    (BlockObservation('b1', (0.30, 0.30, 0.01), 1.0), 'b1 is off the pegs'),
    (BlockObservation('b1', (0.50, 0.17, 0.09), 1.0), 'not resting at level 0'),
    (BlockObservation('b1', (0.50, 0.17, 0.01), math.cos(math.radians(40))), 'tilted by 40'),
])
def test_unknown_with_the_reason(spec, obs_b1, words):
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1), obs_b1]
    state = symbolic_from_observations(spec, 3, obs)
    assert not state.known and words in state.reason


def test_larger_on_smaller_is_unknown_not_an_exception(spec):
    obs = [_on(spec, 'b1', 1, 0), _on(spec, 'b2', 1, 1), _on(spec, 'b3', 2, 0)]
    state = symbolic_from_observations(spec, 3, obs)
    assert not state.known and 'larger' in state.reason


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

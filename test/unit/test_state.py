# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Symbolic state and goal: JSON round trips, strict validation, legality."""

import json
import random

import pytest

from nsvla_common.errors import IllegalStateError, ValidationError
from nsvla_planner.state import Goal, SymbolicState


def _state_json(facts, num_blocks=3, num_pegs=3, **extra):
    data = {'schema': 'nsvla/symbolic_state/1', 'stamp': 1.0, 'num_blocks': num_blocks,
            'num_pegs': num_pegs,
            'facts': [{'predicate': p, 'args': list(a)} for p, *a in facts]}
    data.update(extra)
    return json.dumps(data)


def test_tower_round_trip_keeps_facts_and_confidence():
    state = SymbolicState.tower(4, 3, source='ground_truth')
    again = SymbolicState.from_json(state.to_json())
    assert again == state
    assert again.stacks() == {'p1': ['b4', 'b3', 'b2', 'b1'], 'p2': [], 'p3': []}
    assert ('on', ('b1', 'b2')) in again.fact_keys()
    assert again.source == 'ground_truth'


def test_confidence_survives_json():
    text = _state_json([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('on', 'b1', 'b2')])
    data = json.loads(text)
    data['facts'][1]['confidence'] = 0.25
    state = SymbolicState.from_json(json.dumps(data))
    assert state.confidence(('on', ('b2', 'p2'))) == 0.25
    assert state.min_confidence() == 0.25


def test_random_states_are_legal_and_round_trip():
    rng = random.Random(7)
    for n in range(1, 9):
        for _ in range(20):
            s = SymbolicState.random(n, 3, rng=rng)
            assert SymbolicState.from_json(s.to_json()) == s
            for column in s.stacks().values():
                sizes = [int(b[1:]) for b in column]
                assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize('facts, words', [
    ([('on', 'b3', 'p1'), ('on', 'b2', 'b1'), ('on', 'b1', 'p2')], 'on(b2, b1)'),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('on', 'b2', 'p3'), ('on', 'b1', 'b2')],
     'block b2 is in two places'),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2')], 'block b1 has no position'),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('on', 'b1', 'p2')], 'two blocks on p2'),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('on', 'b1', 'b1')], 'cannot rest on itself'),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('on', 'b1', 'p3'), ('clear', 'b3')],
     None),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('on', 'b1', 'p3'), ('clear', 'p1')],
     'clear(p1) contradicts'),
    ([('on', 'b3', 'p1'), ('on', 'b2', 'p2'), ('holding', 'b1'), ('hand_empty',)],
     'hand_empty contradicts'),
])
def test_illegal_states_name_the_offending_fact(facts, words):
    text = _state_json(facts)
    if words is None:
        SymbolicState.from_json(text)   # a consistent state with an explicit clear fact
        return
    with pytest.raises(IllegalStateError) as err:
        SymbolicState.from_json(text)
    assert words in str(err.value)


def test_cycle_is_illegal():
    with pytest.raises(IllegalStateError, match='cycle|larger'):
        SymbolicState(2, 3, {'b1': 'b2', 'b2': 'b1'})


@pytest.mark.parametrize('text, words', [
    ('{not json', 'malformed JSON'),
    ('[1, 2]', 'expected a JSON object'),
    (json.dumps({'schema': 'nsvla/other/1', 'stamp': 0}), "schema is 'nsvla/other/1'"),
    (_state_json([('on', 'b9', 'p1')]), "unknown object 'b9'"),
    (_state_json([('above', 'b1', 'p1')]), "unknown predicate 'above'"),
    (_state_json([('on', 'b1')]), 'on takes 2 argument(s)'),
    (_state_json([('on', 'p1', 'b1')]), 'first argument must be a block'),
    (_state_json([('on', 'b3', 'p1')], num_blocks=0), 'num_blocks must be an integer'),
    (_state_json([('on', 'b3', 'p1')], num_pegs=2), 'at least 3'),
    (_state_json([('on', 'b3', 'p1')], stamp='yesterday'), 'stamp must be a number'),
])
def test_malformed_json_is_rejected_with_a_reason(text, words):
    with pytest.raises(ValidationError) as err:
        SymbolicState.from_json(text)
    assert words in str(err.value)


def test_bad_confidence_is_rejected():
    data = json.loads(_state_json([('on', 'b3', 'p1'), ('on', 'b2', 'b3'), ('on', 'b1', 'b2')]))
    data['facts'][0]['confidence'] = 1.5
    with pytest.raises(ValidationError, match=r'on\(b3, p1\).*confidence'):
        SymbolicState.from_json(json.dumps(data))


def test_unknown_state_carries_reason_and_no_facts():
    s = SymbolicState.unknown(3, 3, 'arm occludes p2', source='classic')
    again = SymbolicState.from_json(s.to_json())
    assert not again.known and again.reason == 'arm occludes p2'
    assert again.fact_keys() == []


def test_holding_state_is_legal():
    s = SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, holding='b1')
    assert ('holding', ('b1',)) in s.fact_keys()
    assert ('hand_empty', ()) not in s.fact_keys()
    assert SymbolicState.from_json(s.to_json()) == s


def test_goal_round_trip_and_checks():
    g = Goal.tower(3, 3, text='move the tower to the right peg')
    again = Goal.from_json(g.to_json())
    assert again.facts == g.facts and again.num_blocks == 3
    assert not again.satisfied_by(SymbolicState.tower(3))
    assert again.satisfied_by(SymbolicState.tower(3, on_peg=3))
    with pytest.raises(ValidationError, match='goal is for 3 blocks'):
        g.check_against(SymbolicState.tower(4))
    with pytest.raises(ValidationError, match='larger block on a smaller'):
        Goal([('on', ('b3', 'b1'))]).check_against(SymbolicState.tower(3))

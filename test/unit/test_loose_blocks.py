# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Loose blocks in the symbols: a block off every peg is a fact, and the planner plans it back."""

import math

import pytest

from nsvla_common.errors import IllegalStateError, ValidationError
from nsvla_planner import domain
from nsvla_planner.planning import export_pddl, Planner
from nsvla_planner.state import Goal, LoosePose, SymbolicState, TABLE


def _table_b1():
    return SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, loose={'b1': TABLE},
                         poses={'b1': LoosePose(0.52, 0.11, 0.012, 0.3)})


def test_a_loose_block_is_a_fact_and_nothing_stacks_on_it():
    state = _table_b1()
    keys = set(state.fact_keys())
    assert ('loose', ('b1', TABLE)) in keys
    assert ('clear', ('b1',)) not in keys and ('clear', ('b2',)) in keys
    assert state.stacks() == {'p1': ['b3', 'b2'], 'p2': [], 'p3': []}
    perched = SymbolicState(3, 3, {'b1': 'p1', 'b2': 'p2'}, loose={'b3': 'b1'})
    assert ('clear', ('b1',)) not in set(perched.fact_keys())   # b3 lies on it
    with pytest.raises(domain.IllegalActionError):
        domain.apply(perched, {'action': 'pick', 'args': ['b1', 'p1']})
    with pytest.raises(domain.IllegalActionError):
        domain.apply(state, {'action': 'move', 'args': ['b2', 'b3', 'b1']})


def test_json_and_message_round_trips_keep_the_pose():
    from nsvla_planner.messages import state_from_msg, state_to_msg
    state = _table_b1()
    again = SymbolicState.from_json(state.to_json())
    assert again == state and again.poses['b1'] == state.poses['b1']
    msg = state_to_msg(state)
    assert msg.loose[0].block == 'b1' and msg.loose[0].resting_on == ''
    assert msg.loose[0].position.x == pytest.approx(0.52)
    back = state_from_msg(msg)
    assert back == state and back.poses['b1'].yaw == pytest.approx(0.3)
    unseen = SymbolicState(2, 3, {'b2': 'p1'}, loose={'b1': TABLE})      # no pose known
    back = state_from_msg(state_to_msg(unseen))
    assert back == unseen and not back.poses
    assert math.isnan(state_to_msg(unseen).loose[0].position.x)


@pytest.mark.parametrize('kwargs, words', [
    (dict(support={'b2': 'p1', 'b1': 'p2'}, loose={'b1': TABLE}), 'two places'),
    (dict(support={'b3': 'p1'}, loose={'b1': 'b2', 'b2': TABLE}), 'loose itself'),
    (dict(support={'b3': 'p1'}, loose={'b1': 'b3', 'b2': 'b3'}), 'two loose blocks'),
    (dict(support={'b3': 'p1', 'b2': 'b3'}, loose={'b1': 'b1'}), 'cannot rest'),
    (dict(support={'b3': 'p1', 'b2': 'b3', 'b1': 'b2'}, poses={'b1': LoosePose(0, 0, 0)}),
     'not loose'),
])
def test_illegal_loose_states_are_refused(kwargs, words):
    with pytest.raises(IllegalStateError, match=words):
        SymbolicState(3, 3, kwargs.pop('support'), **kwargs)


def test_bad_loose_json_is_refused():
    text = _table_b1().to_dict()
    text['loose'][0]['x'] = 'far'
    with pytest.raises(ValidationError, match='finite number'):
        SymbolicState.from_json(text)
    text = _table_b1().to_dict()
    text['loose'][0]['block'] = 'b2'
    with pytest.raises(ValidationError, match='no block with a loose fact'):
        SymbolicState.from_json(text)


@pytest.mark.parametrize('form', domain.FORMS)
def test_the_planner_takes_a_table_block_back(form):
    state = _table_b1()
    result = Planner('fast-downward', 30.0, form).plan(state, Goal.tower(3, 3))
    assert result.ok, result.reason
    kinds = [s['action'] for s in result.plan]
    assert ('pick_loose' if form == 'pick_place' else 'move_loose') in kinds
    assert Goal.tower(3, 3).satisfied_by(domain.replay(state, result.plan))
    # the loose block goes back first (it may lie in the fingers' way): b1 onto p3, then the
    # six moves of b3, b2 and b1 around it; 4 moves if it could wait, which it may not
    assert kinds[0] in domain.LOOSE_ACTIONS
    assert result.moves == 7


def test_nothing_on_a_peg_is_picked_while_a_block_lies_loose():
    state = _table_b1()
    with pytest.raises(domain.IllegalActionError, match='b1 loose: loose blocks go back'):
        domain.apply(state, {'action': 'pick', 'args': ['b2', 'b3']})
    with pytest.raises(domain.IllegalActionError, match='loose blocks go back'):
        domain.apply(state, {'action': 'move', 'args': ['b2', 'b3', 'p2']})
    back = domain.apply(state, {'action': 'move_loose', 'args': ['b1', TABLE, 'p3']})
    assert domain.apply(back, {'action': 'move', 'args': ['b2', 'b3', 'p2']}).support['b2'] == 'p2'


def test_a_block_perched_on_a_smaller_one_comes_off_first():
    state = SymbolicState(3, 3, {'b1': 'p1', 'b2': 'p2'}, loose={'b3': 'b1'})
    result = Planner('fast-downward', 30.0).plan(state, Goal.tower(3, 3))
    assert result.ok, result.reason
    assert result.plan[0] == {'action': 'pick_loose', 'args': ['b3', 'b1']}
    assert result.moves == 3
    move_form = domain.to_form(result.plan, state, 'move')
    assert move_form[0]['action'] == 'move_loose' and domain.count_moves(move_form) == 3


@pytest.mark.parametrize('n', [3, 4, 5, 6])
def test_nothing_loose_keeps_the_tower_optimal_and_the_domain_unchanged(n):
    result = Planner('fast-downward', 60.0).plan(SymbolicState.tower(n), Goal.tower(n, 3))
    assert result.ok and result.moves == 2 ** n - 1
    domain_text, _ = export_pddl(SymbolicState.tower(n), Goal.tower(n, 3))
    assert 'pick_loose' not in domain_text


def test_pddl_export_writes_the_loose_actions():
    domain_text, problem_text = export_pddl(_table_b1(), Goal.tower(3, 3))
    assert 'pick_loose' in domain_text and 'loose' in problem_text and 'table' in problem_text

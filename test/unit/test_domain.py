# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Domain rules and the reference solvers."""

import random

import pytest

from nsvla_planner import domain
from nsvla_planner.domain import IllegalActionError
from nsvla_planner.state import Goal, SymbolicState


def test_pick_place_rules():
    s = SymbolicState.tower(3)
    s = domain.apply(s, {'action': 'pick', 'args': ['b1', 'b2']})
    assert s.holding == 'b1'
    with pytest.raises(IllegalActionError, match='hand already holds b1'):
        domain.apply(s, {'action': 'pick', 'args': ['b2', 'b3']})
    s = domain.apply(s, {'action': 'place', 'args': ['b1', 'p3']})
    with pytest.raises(IllegalActionError, match='b2 is not smaller than b1'):
        domain.replay(s, [{'action': 'pick', 'args': ['b2', 'b3']},
                          {'action': 'place', 'args': ['b2', 'b1']}])
    with pytest.raises(IllegalActionError, match='b3 is not clear'):
        domain.apply(s, {'action': 'pick', 'args': ['b3', 'p1']})


def test_recursive_plan_is_optimal_and_legal():
    for n in range(1, 11):
        plan = domain.recursive_tower_plan(n)
        assert len(plan) == 2 ** n - 1
        final = domain.replay(SymbolicState.tower(n), plan)
        assert Goal.tower(n, 3).satisfied_by(final)


def test_recursive_from_any_state_matches_bfs():
    rng = random.Random(3)
    for _ in range(30):
        n = rng.randint(1, 5)
        s = SymbolicState.random(n, 3, rng=rng)
        dst = rng.randint(1, 3)
        plan = domain.recursive_to_tower(s, dst)
        assert Goal.tower(n, dst).satisfied_by(domain.replay(s, plan))
        assert len(plan) == len(domain.bfs_plan(s, Goal.tower(n, dst)))


def test_form_conversion_round_trip():
    s = SymbolicState.tower(3)
    moves = domain.recursive_tower_plan(3)
    pp = domain.to_form(moves, s, 'pick_place')
    assert len(pp) == 14 and domain.count_moves(pp) == 7
    assert domain.to_form(pp, s, 'move') == moves

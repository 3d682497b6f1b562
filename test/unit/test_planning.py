# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Planning through unified-planning: optimality, correctness from random starts, failures."""

import json
import random
import subprocess
import sys
import time

import pytest

from nsvla_planner import domain
from nsvla_planner.planning import export_pddl, Planner, plan_pddl
from nsvla_planner.state import Goal, SymbolicState


@pytest.mark.parametrize('n', [3, 4, 5, 6, 7, 8])
def test_fast_downward_is_optimal_on_the_standard_tower(n):
    result = Planner('fast-downward', form='move').plan(SymbolicState.tower(n), Goal.tower(n, 3))
    assert result.ok, result.reason
    assert result.moves == len(result.plan) == 2 ** n - 1
    assert Goal.tower(n, 3).satisfied_by(domain.replay(SymbolicState.tower(n), result.plan))


def test_pick_place_form_is_optimal_and_replays():
    result = Planner('fast-downward').plan(SymbolicState.tower(4), Goal.tower(4, 2))
    assert result.ok and result.moves == 15 and len(result.plan) == 30
    assert [s['action'] for s in result.plan[:2]] == ['pick', 'place']
    assert Goal.tower(4, 2).satisfied_by(domain.replay(SymbolicState.tower(4), result.plan))


def test_random_starts_to_random_pegs_are_correct_and_optimal():
    rng = random.Random(11)
    planner = Planner('fast-downward', form='move')
    for _ in range(8):
        n = rng.randint(2, 5)
        start = SymbolicState.random(n, 3, rng=rng)
        goal = Goal.tower(n, rng.randint(1, 3))
        result = planner.plan(start, goal)
        assert result.ok, result.reason
        assert goal.satisfied_by(domain.replay(start, result.plan))
        assert result.moves == len(domain.bfs_plan(start, goal))


def test_single_block_goal_from_a_random_state():
    start = SymbolicState.from_stacks({'p1': ['b4', 'b1'], 'p2': ['b3', 'b2']}, 4, 3)
    goal = Goal([('on', ('b2', 'p3'))])
    result = Planner('fast-downward', form='move').plan(start, goal)
    assert result.ok and goal.satisfied_by(domain.replay(start, result.plan))
    assert result.moves == len(domain.bfs_plan(start, goal))


def test_four_pegs_need_fewer_moves():
    result = Planner('fast-downward', form='move').plan(SymbolicState.tower(4, 4),
                                                        Goal.tower(4, 4))
    assert result.ok and result.moves == 9   # Frame-Stewart number for 4 disks, 4 pegs


def test_goal_already_true_gives_an_empty_plan():
    result = Planner().plan(SymbolicState.tower(3, on_peg=2), Goal.tower(3, 2))
    assert result.ok and result.plan == []


def test_unsolvable_goal_has_a_status_and_reason():
    goal = Goal([('on', ('b1', 'p1')), ('on', ('b2', 'p1'))])
    result = Planner().plan(SymbolicState.tower(3), goal)
    assert result.status == 'unsolvable' and 'unreachable' in result.reason


def test_unknown_state_is_refused():
    result = Planner().plan(SymbolicState.unknown(3, 3, 'arm in view'), Goal.tower(3, 3))
    assert result.status == 'invalid' and 'arm in view' in result.reason


def test_goal_for_other_block_count_is_refused():
    result = Planner().plan(SymbolicState.tower(3), Goal.tower(4, 3))
    assert result.status == 'invalid' and '4 blocks' in result.reason


def test_wall_clock_bound_holds_for_an_engine_that_ignores_timeouts():
    t0 = time.monotonic()
    result = Planner('pyperplan', timeout_s=1.0).plan(SymbolicState.tower(9), Goal.tower(9, 3))
    elapsed = time.monotonic() - t0
    assert result.status == 'timeout'
    assert elapsed < 8.0   # 1 s bound + spawn start-up and kill, far below pyperplan's n=9 time


@pytest.mark.parametrize('engine', ['symk-opt', 'pyperplan-opt', 'fast-downward-opt'])
def test_other_optimal_engines_agree(engine):
    result = Planner(engine, form='move').plan(SymbolicState.tower(3), Goal.tower(3, 3))
    assert result.ok, result.reason
    assert result.moves == 7 and result.engine == engine


def test_pddl_export_and_plan_from_text():
    dom, prob = export_pddl(SymbolicState.tower(3), Goal.tower(3, 3))
    assert '(:action pick' in dom and '(:action place' in dom and 'smaller' in dom
    assert '(:goal' in prob
    result = plan_pddl(dom, prob)
    assert result.ok and len(result.plan) == 14
    bad = plan_pddl(dom, '(define (problem x) (:domain nope)')
    assert bad.status == 'invalid' and 'PDDL does not parse' in bad.reason


def _cli(*args):
    return subprocess.run([sys.executable, '-m', 'nsvla_common.cli', 'plan'] + list(args),
                          capture_output=True, text=True, timeout=120)


def test_cli_json_contract(tmp_path):
    out = _cli('--blocks', '3', '--instruction', 'move the tower to the right peg', '--json')
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data['status'] == 'solved' and data['engine'] == 'fast-downward'
    assert data['seconds'] > 0 and len(data['plan']) == 14
    assert set(data['plan'][0]) == {'action', 'args'}
    bad = _cli('--blocks', '3', '--instruction', 'move the tower to the moon', '--json')
    assert bad.returncode != 0
    assert json.loads(bad.stdout)['status'] == 'unknown_instruction'
    illegal = tmp_path / 'illegal.json'
    illegal.write_text(json.dumps({
        'schema': 'nsvla/symbolic_state/1', 'stamp': 0, 'num_blocks': 2, 'num_pegs': 3,
        'facts': [{'predicate': 'on', 'args': ['b2', 'b1']},
                  {'predicate': 'on', 'args': ['b1', 'p1']}]}))
    out = _cli('--blocks', '2', '--state', str(illegal), '--json')
    assert out.returncode != 0
    data = json.loads(out.stdout)
    assert data['status'] == 'illegal_state' and 'larger on smaller' in data['reason']


def test_parallel_planner_processes_in_one_folder_do_not_mix_their_tasks(tmp_path):
    # Fast Downward's translator wrote output.sas into the current folder: two planners
    # started from one folder returned plans for each other's problems
    procs = {n: subprocess.Popen([sys.executable, '-m', 'nsvla_common.cli', 'plan', '--blocks',
                                  str(n), '--form', 'move', '--json'], cwd=tmp_path,
                                 stdout=subprocess.PIPE, text=True) for n in (3, 4, 5, 6)}
    for n, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        data = json.loads(out.strip().splitlines()[-1])
        assert data['status'] == 'solved' and data['moves'] == 2 ** n - 1, (n, data)
    assert not (tmp_path / 'output.sas').exists()


def test_planning_from_many_threads_is_safe():
    import threading
    results = {}

    def plan(n):
        results[n] = Planner('fast-downward', form='move').plan(SymbolicState.tower(n),
                                                                Goal.tower(n, 3))

    threads = [threading.Thread(target=plan, args=(n,)) for n in (2, 3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {n: r.moves for n, r in results.items()} == {2: 3, 3: 7, 4: 15, 5: 31}

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The benchmark table: aggregation, the paper's figures labelled quoted, and ``nsvla bench``."""

import json
import os

import pytest

from nsvla_eval import bench_table
from nsvla_eval.bench_table import QUOTED


def _rec(blocks, perception, faults, solved, moves, decision_j, replans=0, completion=None,
         reason=''):
    return {'blocks': blocks, 'perception': perception, 'faults': faults, 'seed': 0,
            'solved': solved, 'moves': moves, 'replans': replans, 'wall_s': 2.0,
            'plan_completion': (1.0 if solved else 0.5) if completion is None else completion,
            'perception_cpu_s': 0.05, 'planning_cpu_s': decision_j / 10.0 - 0.05,
            'decision_j': decision_j, 'reason': reason or ('goal reached' if solved else 'x')}


RECORDS = [
    _rec(3, 'ground_truth', 0.0, True, 7, 1.0),
    _rec(3, 'ground_truth', 0.0, True, 7, 3.0),
    _rec(3, 'classic', 0.0, True, 7, 2.0),
    _rec(3, 'classic', 0.0, False, 4, 4.0, replans=10, completion=0.25,
         reason='gave up after 10 replans'),
    dict(_rec(4, 'classic', 0.2, True, 17, 6.0, replans=3), recoveries=2),
    _rec(4, 'classic', 0.2, True, 15, 2.0),
]


def test_aggregate_builds_one_row_per_setting_with_the_right_statistics():
    rows = bench_table.aggregate(RECORDS)
    assert [(r['blocks'], r['perception'], r['faults']) for r in rows] == [
        (3, 'ground_truth', 0.0), (3, 'classic', 0.0), (4, 'classic', 0.2)]
    gt, classic, four = rows
    assert gt['success_rate'] == 1.0 and gt['decision_j_per_episode'] == pytest.approx(2.0)
    assert gt['decision_j_per_solved'] == pytest.approx(2.0)
    # one of two solved: the failed attempt's energy is charged to the solved task
    assert classic['success_rate'] == 0.5 and classic['solved'] == 1
    assert classic['decision_j_per_episode'] == pytest.approx(3.0)
    assert classic['decision_j_per_solved'] == pytest.approx(6.0)
    assert classic['plan_completion'] == pytest.approx(0.625)
    assert classic['replans'] == 10 and classic['failures'] == ['seed 0: gave up after 10 replans']
    assert classic['mean_moves_solved'] == 7 and classic['moves_over_optimal'] == 1.0
    assert four['optimal_moves'] == 15 and four['mean_moves'] == pytest.approx(16.0)
    assert four['replans'] == 3 and four['recoveries'] == 2 and classic['recoveries'] == 0
    assert four['moves_over_optimal'] == pytest.approx(16.0 / 15.0)
    assert four['optimal_solved'] == 1 and classic['optimal_solved'] == 1


def test_an_episode_record_with_its_own_optimum_is_judged_by_it():
    recs = [dict(_rec(3, 'classic', 0.0, True, 4, 1.0), optimal_moves=4),
            dict(_rec(3, 'classic', 0.0, True, 7, 1.0), optimal_moves=5),
            _rec(3, 'classic', 0.0, True, 7, 1.0)]
    (row,) = bench_table.aggregate(recs)
    assert row['optimal_moves'] == pytest.approx((4 + 5 + 7) / 3)
    assert row['optimal_solved'] == 2
    assert row['moves_over_optimal'] == pytest.approx((1.0 + 7 / 5 + 1.0) / 3)


def test_random_share_picks_every_kth_episode():
    from nsvla_eval.bench_cli import random_episode
    assert [random_episode(i, 0.5) for i in range(6)] == [False, True] * 3
    assert not any(random_episode(i, 0.0) for i in range(6))
    assert all(random_episode(i, 1.0) for i in range(6))
    assert sum(random_episode(i, 0.25) for i in range(100)) == 25


def test_a_random_goal_is_a_whole_legal_configuration_other_than_the_start():
    import random

    from nsvla_control.bench_cli import random_goal
    from nsvla_planner.domain import bfs_plan
    from nsvla_planner.state import SymbolicState
    for seed in range(30):
        start = SymbolicState.random(4, 3, rng=random.Random(seed))
        goal = random_goal(start, seed)
        assert len(goal.facts) == 4 and not goal.satisfied_by(start)
        assert goal.facts == random_goal(start, seed).facts     # seeded
        plan = bfs_plan(start, goal)
        assert plan is not None and 1 <= len(plan) <= 2 ** 4 - 1


def test_no_solved_task_gives_no_energy_per_solved_task_and_bad_records_are_refused():
    rows = bench_table.aggregate([_rec(5, 'learned', 0.0, False, 3, 5.0)])
    assert rows[0]['success_rate'] == 0.0 and rows[0]['decision_j_per_solved'] is None
    assert rows[0]['moves_over_optimal'] is None
    with pytest.raises(ValueError, match='solved'):
        bench_table.aggregate([{'blocks': 3, 'perception': 'classic', 'faults': 0.0,
                                'moves': 7}])


def test_comparison_labels_every_paper_figure_as_quoted_and_ours_as_measured():
    rows = bench_table.aggregate(RECORDS)
    training = {'joules': 2112.0, 'estimated': True, 'method': 'cpu', 'wall_s': 182.0,
                'source': 'models/README.md'}
    comp = bench_table.comparison(rows, training)
    header = comp['header']
    assert header[1:3] == ['nsvla, ground_truth perception (measured here)',
                           'nsvla, classic perception (measured here)']
    assert all(QUOTED in h for h in header[3:]) and len(header) == 5
    table = {row[0]: row[1:] for row in comp['rows']}
    assert table['success, 3 blocks'][:2] == ['100 % (2/2)', '50 % (1/2)']
    assert table['success, 3 blocks'][2:] == ['95 %% (%s)' % QUOTED, '34 %% (%s)' % QUOTED]
    assert table['success, 4 blocks (paper: unseen)'][2:] == ['78 %% (%s)' % QUOTED,
                                                              '0 %% (%s)' % QUOTED]
    # 4 blocks was run with faults only: the no-fault comparison says so
    assert table['success, 4 blocks (paper: unseen)'][1] == 'not run'
    assert table['training energy'][2:] == ['0.85 MJ (%s)' % QUOTED, '68.50 MJ (%s)' % QUOTED]
    assert table['training energy'][:2] == ['0 J (nothing trained)'] * 2
    for row in comp['rows']:
        assert all(cell.endswith('(%s)' % QUOTED) for cell in row[3:]), row
        assert not any(QUOTED in cell for cell in row[1:3]), row
    energy = table['execution energy, 3 blocks']
    assert energy[0].startswith('2.0 J per episode') and 'estimated' in energy[0]
    assert '5 %' in energy[2]


def test_learned_training_energy_is_shown_with_its_label_and_source():
    rows = bench_table.aggregate([_rec(3, 'learned', 0.0, True, 7, 2.0)])
    training = {'joules': 2112.0, 'estimated': True, 'method': 'cpu', 'wall_s': 182.0,
                'source': 'models/README.md'}
    table = {r[0]: r[1:] for r in bench_table.comparison(rows, training)['rows']}
    assert table['training energy'][0] == '2.11 kJ = 0.0021 MJ (estimated, models/README.md)'
    assert table['training time'][0] == '182 s'
    unknown = {r[0]: r[1:] for r in bench_table.comparison(rows, None)['rows']}
    assert unknown['training energy'][0].startswith('unknown')


def test_training_energy_is_read_from_the_models_readme_and_from_metadata():
    text = ('| training time | 182 s wall on the shared 2-core machine |\n'
            '| training energy | **2112 J = 0.59 Wh, estimated**: 211 CPU seconds x 10 W |\n')
    found = bench_table.training_from_readme(text)
    assert found['joules'] == 2112.0 and found['estimated'] is True
    assert found['wall_s'] == 182.0 and found['source'] == 'models/README.md'
    measured = bench_table.training_from_readme('| training energy | 0.5 kWh from RAPL |\n')
    assert measured['joules'] == pytest.approx(1.8e6) and measured['estimated'] is False
    assert bench_table.training_from_readme('no table here') is None
    meta = {'energy': {'joules': 2112.1, 'estimated': True, 'method': 'psutil'},
            'seconds': {'total': 182.0}}
    got = bench_table.training_from_meta(meta, 'weights')
    assert got == {'joules': 2112.1, 'estimated': True, 'method': 'psutil', 'wall_s': 182.0,
                   'source': 'weights'}
    assert bench_table.training_from_meta({'energy': {}}, 'weights') is None


def test_the_repository_models_readme_gives_the_learned_training_energy():
    from nsvla_eval.bench_cli import training_energy
    found = training_energy()
    assert found is not None and found['joules'] > 0
    assert found['estimated'] is True
    assert found['source'].endswith(('README.md', '.json', '(meta)'))


def test_write_report_writes_markdown_json_and_png(tmp_path):
    rows = bench_table.aggregate(RECORDS)
    meta = {'episodes': 2, 'seed': 0, 'machine': 'test', 'training': None,
            'energy': {'estimated': True, 'method': 'CPU seconds x 10 W'}}
    paths = bench_table.write_report(str(tmp_path), rows, meta, RECORDS)
    md = open(paths['markdown']).read()
    assert '| 3 | classic | 0.00 | 2 | 50 % (1/2) | 62 % |' in md
    assert 'Beside the paper (its figures are %s)' % QUOTED in md
    assert 'gave up after 10 replans' in md and 'decision J / episode (estimated)' in md
    assert '| replans (recoveries) |' in md and '| 3 (2) |' in md
    data = json.load(open(paths['json']))
    assert data['paper']['label'] == QUOTED and len(data['rows']) == 3
    assert len(data['episodes']) == len(RECORDS)
    assert os.path.getsize(paths['png']) > 5000


@pytest.mark.timeout(120)
def test_nsvla_bench_with_one_short_episode_writes_the_table(tmp_path, capsys):
    from nsvla_common.cli import main
    out = tmp_path / 'bench'
    rc = main(['bench', '--blocks', '3', '--perception', 'ground_truth', '--faults', '0',
               '--episodes', '1', '--out', str(out), '--json'])
    assert rc == 0
    captured = capsys.readouterr()
    last = json.loads(captured.out.strip().splitlines()[-1])
    # no terminal here: one progress line per episode instead of a bar
    assert '[bench] 1/1  3 blocks, ground_truth, faults 0.00, seed 0: solved in 7 moves' \
        in captured.err
    (row,) = last['rows']
    assert (row['blocks'], row['perception'], row['episodes']) == (3, 'ground_truth', 1)
    assert row['success_rate'] == 1.0 and row['mean_moves'] == 7 and row['optimal_moves'] == 7
    # the planner ran at least once: its CPU time became (estimated) decision energy
    assert row['decision_j_per_episode'] > 0 and last['energy_estimated'] is True
    assert last['paper'] == QUOTED
    data = json.load(open(out / 'bench.json'))
    assert data['meta']['packages']['mujoco'] and data['meta']['packages']['numpy']
    (episode,) = data['episodes']
    # each episode is also appended as it ends, so a bench stopped halfway keeps what ran
    (line,) = (out / 'episodes.jsonl').read_text().splitlines()
    assert json.loads(line)['seed'] == episode['seed'] == 0 and json.loads(line)['solved']
    assert episode['planning_calls'] >= 1 and episode['perception_calls'] == 0
    assert episode['planning_cpu_s'] > 0
    md = (out / 'bench.md').read_text()
    assert 'Packages: mujoco %s, numpy' % data['meta']['packages']['mujoco'] in md
    assert '| 3 | ground_truth | 0.00 | 1 | 100 % (1/1) | 100 % | 7.0 (7.0) | 1.00 (1/1) |' in md
    assert (out / 'bench.png').stat().st_size > 5000


def test_nsvla_bench_random_share_runs_a_random_start_and_goal_optimally(tmp_path, capsys):
    from nsvla_common.cli import main
    out = tmp_path / 'bench'
    rc = main(['bench', '--blocks', '3', '--perception', 'ground_truth', '--faults', '0',
               '--episodes', '2', '--seed', '4', '--random-share', '0.5', '--out', str(out)])
    assert rc == 0
    tower, mixed = json.load(open(out / 'bench.json'))['episodes']
    assert (tower['start'], mixed['start'], mixed['goal']) == ('tower', 'random', 'random')
    assert tower['optimal_moves'] == 7 and mixed['optimal_moves'] is not None
    assert mixed['solved'] and mixed['moves'] == mixed['optimal_moves'], mixed


def test_a_failure_names_its_seed_and_what_the_world_did():
    rec = {'seed': 20020, 'solved': False, 'reason': 'lost sight of the blocks after step 31',
           'world_faults': ['b3 fell off the table at 264.7 s']}
    assert bench_table.failure_text(rec) == ('seed 20020: lost sight of the blocks after step '
                                             '31 [the world: b3 fell off the table at 264.7 s]')
    assert bench_table.failure_text({'reason': 'lost'}) == 'lost'


def test_a_failed_episode_s_progress_line_gives_its_reason():
    from nsvla_eval.bench_cli import progress_line
    rec = {'solved': False, 'reason': 'gave up after 5 replans without progress', 'blocks': 5,
           'perception': 'classic', 'faults': 0.2, 'seed': 20028, 'wall_s': 61.4}
    line = progress_line(29, 100, rec, 27, 29)
    assert line == ('[bench] 29/100  5 blocks, classic, faults 0.20, seed 20028: FAILED: gave '
                    'up after 5 replans without progress, 61 s  (setting: 27/29 solved)')


def test_nsvla_bench_refuses_an_unknown_perception(capsys):
    from nsvla_common.cli import main
    rc = main(['bench', '--perception', 'oracle', '--episodes', '1'])
    assert rc == 2
    assert 'unknown perception oracle' in capsys.readouterr().err


def test_the_frame_audit_counts_confidently_wrong_states_and_loose_finds():
    from nsvla_control.sim_robot import FrameAudit
    from nsvla_planner.state import LoosePose, SymbolicState, TABLE
    truth = SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, loose={'b1': TABLE},
                          poses={'b1': LoosePose(0.50, 0.10, 0.01)})
    near = SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, loose={'b1': TABLE},
                         poses={'b1': LoosePose(0.503, 0.104, 0.01)})
    wrong = SymbolicState.from_stacks({'p1': ['b3', 'b2', 'b1'], 'p2': [], 'p3': []}, 3, 3)
    unknown = SymbolicState.unknown(3, 3, 'b1 hidden')
    audit = FrameAudit()
    audit.check(near, near, truth)        # found, right
    audit.check(unknown, None, truth)     # not found, nothing published: not judged
    audit.check(wrong, wrong, truth)      # confidently wrong
    audit.check(near, near, SymbolicState.unknown(3, 3, 'b1 still moving'))   # not judged
    out = audit.summary()
    assert (out['frames'], out['judged_frames'], out['wrong_states']) == (4, 2, 1)
    assert (out['loose_seen'], out['loose_found']) == (3, 1)
    assert out['loose_error_max_m'] == pytest.approx(0.005)
    assert out['loose_within_tolerance'] == 1
    assert 'truth' in out['wrong_examples'][0]
    far = SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, loose={'b1': TABLE},
                        poses={'b1': LoosePose(0.511, 0.10, 0.01)})
    audit.check(far, far, truth)          # found 11 mm off: outside the tolerance
    assert audit.summary()['loose_within_tolerance'] == 1
    assert audit.summary()['loose_found'] == 2


def test_the_frame_audit_counts_loose_finds_apart_when_the_block_is_in_view():
    from nsvla_control.sim_robot import FrameAudit, IN_VIEW_SHARE
    from nsvla_planner.state import LoosePose, SymbolicState, TABLE
    assert IN_VIEW_SHARE == 0.9
    truth = SymbolicState(3, 3, {'b3': 'p1'}, loose={'b1': TABLE, 'b2': TABLE},
                          poses={'b1': LoosePose(0.50, 0.10, 0.01),
                                 'b2': LoosePose(0.60, 0.20, 0.01)})
    both = SymbolicState(3, 3, {'b3': 'p1'}, loose={'b1': TABLE, 'b2': TABLE},
                         poses={'b1': LoosePose(0.501, 0.10, 0.01),
                                'b2': LoosePose(0.60, 0.202, 0.01)})
    unknown = SymbolicState.unknown(3, 3, 'b2 hidden')
    audit = FrameAudit()
    audit.check(both, None, truth, {'b1': 0.95, 'b2': 0.89})   # found: b1 in view, b2 not
    audit.check(unknown, None, truth, {'b1': 1.0, 'b2': 0.9})  # in view, both missed
    audit.check(both, None, truth, {'b2': 0.99})               # b1 missing: not in view
    audit.check(both, None, truth)                             # no shares: neither in view
    out = audit.summary()
    assert (out['loose_seen'], out['loose_found']) == (8, 6)   # unchanged by the shares
    assert (out['loose_in_view'], out['loose_found_in_view']) == (4, 2)
    assert out['loose_read_in_view'] == 0                       # no readings passed


def test_the_frame_audit_counts_a_loose_block_its_reading_found_in_an_unknown_frame():
    from types import SimpleNamespace
    from nsvla_control.sim_robot import FrameAudit
    from nsvla_planner.state import LoosePose, SymbolicState, TABLE
    truth = SymbolicState(3, 3, {'b3': 'p1'}, loose={'b1': TABLE, 'b2': TABLE},
                          poses={'b1': LoosePose(0.50, 0.10, 0.01),
                                 'b2': LoosePose(0.60, 0.20, 0.01)})
    unknown = SymbolicState.unknown(3, 3, 'b3 hidden by the arm')
    readings = [SimpleNamespace(name='b1', loose=True, pose=LoosePose(0.501, 0.10, 0.01)),
                SimpleNamespace(name='b2', loose=False, pose=None),
                SimpleNamespace(name='b3', loose=False, pose=None)]
    audit = FrameAudit()
    audit.check(unknown, None, truth, {'b1': 1.0, 'b2': 1.0}, readings)
    audit.check(unknown, None, truth, {'b1': 0.5, 'b2': 1.0}, readings)   # b1 not in view
    out = audit.summary()
    assert (out['loose_in_view'], out['loose_found_in_view']) == (3, 0)
    assert out['loose_read_in_view'] == 1
    (row,) = bench_table.aggregate([_audited(2, 0, loose_in_view=3, loose_found_in_view=0,
                                             loose_read_in_view=1)])
    assert '| 0 (0 %); 1 (33 %) |' in bench_table.perception_markdown([row])


def _audited(loose_seen, loose_found, **extra):
    return dict(_rec(3, 'classic', 0.0, True, 7, 1.0), frames=10, judged_frames=4,
                wrong_states=0, wrong_examples=[], loose_seen=loose_seen,
                loose_found=loose_found, loose_error_max_m=0.004 if loose_found else None,
                loose_error_mean_m=0.002 if loose_found else None, **extra)


def test_the_audit_sums_loose_finds_in_view_and_old_records_without_them_still_aggregate():
    new = [_audited(10, 6, loose_in_view=8, loose_found_in_view=6),
           _audited(5, 1, loose_in_view=2, loose_found_in_view=1)]
    old = _audited(4, 2)                      # written before the audit counted in-view blocks
    (row,) = bench_table.aggregate(new + [old])
    assert (row['loose_seen'], row['loose_found']) == (19, 9)
    assert (row['loose_in_view'], row['loose_found_in_view']) == (10, 7)
    md = bench_table.perception_markdown([row])
    assert 'found loose when in view (>= 90 % visible)' in md
    assert '| 19 | 9 (47 %) | 7 (70 %) | 2.0 / 4.0 mm |' in md
    (only_old,) = bench_table.aggregate([old])
    assert only_old['loose_in_view'] is None and only_old['loose_found_in_view'] is None
    assert '| 4 | 2 (50 %) | - | 2.0 / 4.0 mm |' in bench_table.perception_markdown([only_old])
    assert 'within 1 cm' in md and '(' not in md.splitlines()[-1].split('|')[-2]
    (close,) = bench_table.aggregate([_audited(10, 6, loose_within_tolerance=5),
                                      _audited(5, 2, loose_within_tolerance=2),
                                      _audited(5, 0)])    # found none: nothing to count
    assert close['loose_within_tolerance'] == 7
    assert '| 2.0 / 4.0 mm (87.5 %) |' in bench_table.perception_markdown([close])
    (none_in_view,) = bench_table.aggregate([_audited(3, 0, loose_in_view=0,
                                                      loose_found_in_view=0)])
    assert '| 3 | 0 (0 %) | - | - |' in bench_table.perception_markdown([none_in_view])

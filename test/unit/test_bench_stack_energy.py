# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""bench/stack_energy.py: the per-node summary of launched episodes."""

import pytest

from conftest import load_bench


@pytest.fixture(scope='module')
def bench():
    return load_bench('stack_energy')


def _summary(seed, rig_cpu, solved=True):
    cpu = {'perception': rig_cpu / 2, 'planner': rig_cpu / 4, 'executor': rig_cpu / 8,
           'power_monitor': rig_cpu / 8, 'sim': 10.0}
    return {'blocks': 3, 'seed': seed, 'solved': solved, 'moves': 7, 'episode_wall_s': 28.0,
            'reason': 'goal reached' if solved else 'lost', 'cpu_s': cpu, 'energy_j': {}}


def test_one_bad_episode_shows_in_the_range_and_not_in_the_median(bench):
    rows = [bench.episode_row(_summary(s, c), 10.0) for s, c in
            enumerate([2.0, 2.2, 1.8, 20.0])] + [bench.episode_row(_summary(9, 3.0, False), 10.0)]
    assert rows[0]['rig_j'] == pytest.approx(20.0)          # CPU s x 10 W, sim excluded
    out = bench.aggregate(rows, [], 3)
    assert out['solved'] == 4 and out['episodes'] == 5
    assert out['rig_j'] == pytest.approx(65.0)               # the mean carries the bad one
    assert out['rig_j_median'] == pytest.approx(21.0)
    assert out['rig_j_range'] == pytest.approx([18.0, 200.0])
    assert out['failures'] == ['seed 9: lost']
    text = bench.table([out], None, 'after', 'before')
    assert '| 3 | after | 4/5 |' in text and '21.0 (18.0-200.0)' in text and '(<= 30)' in text

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The episode power plot and the ``nsvla energy-probe`` command line."""

import json

import pytest

from nsvla_common.cli import main as nsvla_main
from nsvla_common.errors import ValidationError
from nsvla_energy.csvlog import CsvLog
from nsvla_energy.episodes import EnergySnapshot
from nsvla_energy.plot import episode_window, plot_episode

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _write_log(path, episode='ep7', finished=True):
    """Write a 3 s log at 20 Hz: 40 W, 80 W during step 1; two steps and a replan."""
    log = CsvLog(str(path), ['rapl'])
    joules = planning = 0.0
    events = {10: ('episode_start', None), 14: ('step_start', 0), 24: ('step_end', 0),
              26: ('replan', None), 30: ('step_start', 1), 44: ('step_end', 1),
              50: ('episode_end', None)}
    for i in range(60):
        watts = 80.0 if 30 <= i < 44 else 40.0
        joules += watts * 0.05
        planning += (watts - 40.0) * 0.05
        snap = EnergySnapshot(t=i * 0.05, stamp=1.7e9 + i * 0.05, source='rapl',
                              estimated=False, joules=joules, watts=watts,
                              per_node={'planning': planning, 'other': joules - planning},
                              sources={'rapl': {'joules': joules, 'watts': watts}})
        log.write(snap)
        if i in events and (finished or events[i][0] != 'episode_end'):
            event, step = events[i]
            log.write(snap, {'event': event, 'episode_id': episode, 'step': step,
                             'result': 'success' if event == 'episode_end' else None})
    log.close()
    return str(path)


def test_plot_marks_the_steps_of_an_episode(tmp_path):
    log = _write_log(tmp_path / 'log.csv')
    out = tmp_path / 'ep.png'
    info = plot_episode(log, str(out))
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 10_000
    assert info['episode_id'] == 'ep7' and info['finished'] is True
    assert info['steps'] == 2
    assert info['duration_s'] == pytest.approx(2.0)
    # 40 s-worth of ticks at 40 W plus 14 ticks at +40 W: 2 s * 40 W + 0.7 s * 40 W
    assert info['joules'] == pytest.approx(80.0 + 28.0)


def test_plot_window_of_an_unfinished_or_unknown_episode(tmp_path):
    log = _write_log(tmp_path / 'log.csv', 'open-ep', finished=False)
    from nsvla_energy.csvlog import read_rows
    rows, ep, finished = episode_window(read_rows(log))
    assert ep == 'open-ep' and finished is False and rows[-1]['t'] == pytest.approx(2.95)
    with pytest.raises(ValidationError, match="no episode 'nope'"):
        plot_episode(log, str(tmp_path / 'x.png'), 'nope')


def test_energy_probe_prints_one_json_line(capsys):
    assert nsvla_main(['energy-probe', '--seconds', '0.3', '--json']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out['source'] in ('nvml', 'rapl', 'estimate')
    assert isinstance(out['estimated'], bool)
    assert out['estimated'] == any(s['estimated'] for s in out['sources'].values())
    assert out['joules'] >= 0.0 and out['watts'] >= 0.0
    assert out['seconds'] == pytest.approx(0.3, abs=0.1)
    assert set(out['per_node']) >= {'perception', 'planning', 'control', 'simulation', 'other'}
    assert sum(out['per_node'].values()) == pytest.approx(out['joules'], abs=1e-6)
    assert out['why'] and any('picked' in w for w in out['why'])
    if out['source'] == 'estimate':
        assert out['estimated'] is True


def test_energy_probe_refuses_bad_input(capsys, tmp_path):
    assert nsvla_main(['energy-probe', '--seconds', '0', '--json']) == 2
    assert '--seconds must be > 0' in capsys.readouterr().err
    assert nsvla_main(['energy-probe', '--meter', 'rapl',
                       '--rapl-root', str(tmp_path / 'none')]) == 2
    assert 'rapl unavailable' in capsys.readouterr().err
    assert nsvla_main(['energy-probe', '--plot', str(tmp_path / 'missing.csv')]) == 2


def test_energy_probe_plot_and_summary_from_a_log(capsys, tmp_path):
    log = _write_log(tmp_path / 'log.csv')
    png = tmp_path / 'out.png'
    assert nsvla_main(['energy-probe', '--plot', log, '--out', str(png), '--json']) == 0
    assert json.loads(capsys.readouterr().out)['steps'] == 2
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert nsvla_main(['energy-probe', '--summary', log, '--json']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['episodes'] == 1 and summary['solved'] == 1
    assert summary['tasks_per_kj'] == pytest.approx(1000.0 / 108.0)
    assert nsvla_main(['energy-probe', '--summary', log]) == 0
    assert 'tasks per kJ' in capsys.readouterr().out

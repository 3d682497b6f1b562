# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Episode accounting, the monitor loop with a scripted meter, the CSV log, the summary."""

import json

import pytest

from nsvla_common import envelope
from nsvla_common.errors import ConfigError, ValidationError
from nsvla_energy.attribution import ProcessTracker
from nsvla_energy.csvlog import read_rows, records_from_csv
from nsvla_energy.episodes import (EnergySnapshot, EpisodeAccountant, parse_record, parse_status,
                                   success_of)
from nsvla_energy.meters import Meter, MeterSet
from nsvla_energy.monitor import PowerMonitor
from nsvla_energy.summary import format_summary, intelligence_per_watt


def status(event, episode='ep1', **fields):
    body = {'episode_id': episode, 'event': event}
    body.update(fields)
    return envelope.make('execution_status', body)


def snap(t, joules, planning=0.0):
    return EnergySnapshot(t=t, stamp=1000.0 + t, source='rapl', estimated=False, joules=joules,
                          watts=0.0, per_node={'planning': planning, 'other': joules - planning},
                          sources={'rapl': {'joules': joules}})


@pytest.mark.parametrize('text, why', [
    ('{not json', 'malformed JSON'),
    ('[1, 2]', 'JSON object'),
    (json.dumps({'schema': 'nsvla/plan/1', 'stamp': 1.0}), 'schema'),
    (envelope.dumps(status('episode_start', episode='')), 'episode_id'),
    (envelope.dumps(status('episode_start', episode=None)), 'episode_id'),
    (envelope.dumps(status('explode')), 'event'),
    (envelope.dumps(status('step_end', step='2')), 'step'),
    (envelope.dumps(status('episode_end', success='yes')), 'success'),
    (envelope.dumps(dict(status('episode_start'), stamp='now')), 'stamp'),
])
def test_malformed_status_is_refused_with_a_reason(text, why):
    with pytest.raises(ValidationError, match=why):
        parse_status(text)


def test_status_parsing_and_outcomes():
    parsed = parse_status(envelope.dumps(status('step_end', episode=7, step=2)))
    assert parsed['episode_id'] == '7' and parsed['step'] == 2
    assert success_of({'result': 'success'}) is True
    assert success_of({'result': 'ABORTED'}) is False
    assert success_of({'result': {'success': True}}) is True
    assert success_of({'result': {'status': 'failed'}}) is False
    assert success_of({'success': False, 'result': 'success'}) is False
    assert success_of({'result': 'halfway'}) is None
    assert success_of({}) is None


def test_accountant_builds_the_episode_record():
    acc = EpisodeAccountant()
    assert acc.handle(status('episode_start'), snap(1.0, 10.0, 1.0)) is None
    acc.handle(status('step_start', step=0), snap(1.5, 12.0, 2.0))
    acc.handle(status('step_end', step=0, result='ok'), snap(2.5, 15.0, 4.0))
    acc.handle(status('replan'), snap(2.6, 15.5, 4.5))
    acc.handle(status('step_start', step=1), snap(3.0, 16.0, 5.0))
    acc.handle(status('step_end', step=1), snap(4.0, 20.0, 6.0))
    assert acc.open_episodes == ['ep1']
    rec = acc.handle(status('episode_end', result='success'), snap(5.0, 25.0, 7.0))
    assert rec['schema'] == 'nsvla/energy_episode/1'
    assert rec['episode_id'] == 'ep1'
    assert rec['joules'] == pytest.approx(15.0)
    assert rec['duration_s'] == pytest.approx(4.0)
    assert rec['watts_avg'] == pytest.approx(3.75)
    assert rec['joules_per_node'] == pytest.approx({'planning': 6.0, 'other': 9.0})
    assert rec['joules_per_source'] == pytest.approx({'rapl': 15.0})
    assert (rec['steps'], rec['replans'], rec['success']) == (2, 1, True)
    assert [s['joules'] for s in rec['per_step']] == pytest.approx([3.0, 4.0])
    assert rec['per_step'][0]['result'] == 'ok'
    assert rec['stamp'] == pytest.approx(1005.0) and rec['start_stamp'] == pytest.approx(1001.0)
    assert parse_record(envelope.dumps(rec))['joules'] == pytest.approx(15.0)
    assert acc.open_episodes == [] and acc.finished == 1


def test_accountant_refuses_events_that_do_not_fit():
    acc = EpisodeAccountant(max_open=2)
    with pytest.raises(ValidationError, match='unknown episode'):
        acc.handle(status('episode_end'), snap(1.0, 1.0))
    acc.handle(status('episode_start', episode='a'), snap(1.0, 1.0))
    with pytest.raises(ValidationError, match='started twice'):
        acc.handle(status('episode_start', episode='a'), snap(2.0, 2.0))
    acc.handle(status('episode_start', episode='b'), snap(2.0, 2.0))
    acc.handle(status('episode_start', episode='c'), snap(3.0, 3.0))   # 'a' never ended
    assert acc.open_episodes == ['b', 'c'] and acc.dropped == 1
    # overlapping episodes are kept apart
    assert acc.handle(status('episode_end', episode='c'), snap(4.0, 4.5))['joules'] == 1.5
    assert acc.handle(status('episode_end', episode='b'), snap(5.0, 6.0))['joules'] == 4.0


class ScriptedMeter(Meter):
    """A machine-scope meter whose counter the test sets."""

    source = 'rapl'

    def __init__(self, clock):
        super().__init__(clock)
        self.joules = 0.0

    def _sample(self, now, cpu):
        return {'package-0': self.joules}


class Clock:
    def __init__(self):
        self.t = 50.0

    def __call__(self):
        return self.t


@pytest.fixture
def scripted(tmp_path):
    clock = Clock()
    meter = ScriptedMeter(clock)
    tracker = ProcessTracker(classify=lambda c: None, clock=clock)
    path = str(tmp_path / 'energy.csv')
    monitor = PowerMonitor(MeterSet([meter], ['scripted for the test']), tracker, path,
                           clock=clock, wall=lambda: 1.7e9 + clock.t)
    yield monitor, meter, clock, path
    monitor.close()


def run_episode(monitor, meter, clock, episode='ep1', result='success', start_j=0.0):
    """Two steps, one replan: 10 J per 0.1 s tick, so power is 100 W."""
    def advance(n=1):
        for _ in range(n):
            clock.t += 0.1
            meter.joules += 10.0
            monitor.tick()

    advance(2)
    assert monitor.on_status(envelope.dumps(status('episode_start', episode))) is None
    for step in (0, 1):
        advance()
        monitor.on_status(envelope.dumps(status('step_start', episode, step=step)))
        advance(3)
        monitor.on_status(envelope.dumps(status('step_end', episode, step=step)))
        if step == 0:
            monitor.on_status(envelope.dumps(status('replan', episode)))
    advance()
    record = monitor.on_status(envelope.dumps(status('episode_end', episode, result=result)))
    advance(2)
    return record


def test_monitor_accounts_an_episode_and_logs_it(scripted):
    monitor, meter, clock, path = scripted
    record = run_episode(monitor, meter, clock)
    assert record['joules'] == pytest.approx(90.0)                 # 9 ticks inside
    assert record['duration_s'] == pytest.approx(0.9)
    assert record['watts_avg'] == pytest.approx(100.0)
    assert [s['joules'] for s in record['per_step']] == pytest.approx([30.0, 30.0])
    assert record['joules_per_node']['other'] == pytest.approx(90.0)   # no nsvla process here
    assert (record['steps'], record['replans'], record['success']) == (2, 1, True)
    assert monitor.last.watts == pytest.approx(100.0)
    power = monitor.power_message()
    energy = monitor.energy_message()
    assert power['schema'] == 'nsvla/power/1' and power['watts'] == pytest.approx(100.0)
    assert energy['schema'] == 'nsvla/energy/1' and energy['joules'] == pytest.approx(130.0)
    assert energy['sources']['rapl']['joules'] == pytest.approx(130.0)
    assert energy['why'] == ['scripted for the test'] and energy['estimated'] is False
    with pytest.raises(ValidationError):
        monitor.on_status('{"schema": "nsvla/execution_status/1"')
    assert monitor.malformed == 1
    monitor.csv.flush()
    rows = read_rows(path)
    assert [r['event'] for r in rows if r['event']] == [
        'episode_start', 'step_start', 'step_end', 'replan', 'step_start', 'step_end',
        'episode_end']
    assert len(rows) == 13 + 7                                     # ticks + events
    replayed = records_from_csv(path)
    assert len(replayed) == 1
    assert replayed[0]['joules'] == pytest.approx(record['joules'], abs=1e-4)
    assert replayed[0]['success'] is True and replayed[0]['steps'] == 2


def test_csv_log_appends_and_refuses_other_columns(scripted, tmp_path):
    monitor, meter, clock, path = scripted
    run_episode(monitor, meter, clock, 'first')
    monitor.close()
    again = PowerMonitor(monitor.meters, monitor.tracker, path, clock=clock)
    run_episode(again, meter, clock, 'second', result='failed')
    again.close()
    records = records_from_csv(path)
    assert [(r['episode_id'], r['success']) for r in records] == [('first', True),
                                                                  ('second', False)]
    other = tmp_path / 'other.csv'
    other.write_text('a,b\n1,2\n')
    with pytest.raises(ConfigError, match='other columns'):
        PowerMonitor(monitor.meters, monitor.tracker, str(other), clock=clock)
    with pytest.raises(ValidationError, match='not a power-monitor'):
        read_rows(str(other))


def test_intelligence_per_watt():
    records = [
        {'joules': 400.0, 'duration_s': 10.0, 'success': True, 'estimated': False,
         'source': 'rapl', 'joules_per_node': {'planning': 100.0, 'control': 300.0}},
        {'joules': 600.0, 'duration_s': 10.0, 'success': False, 'source': 'rapl',
         'joules_per_node': {'planning': 200.0}},
        {'joules': 1000.0, 'duration_s': 20.0, 'success': True, 'source': 'rapl'},
        {'joules': 0.0, 'duration_s': 0.0, 'success': None, 'estimated': True},
    ]
    s = intelligence_per_watt(records)
    assert (s['episodes'], s['episodes_with_outcome'], s['solved']) == (4, 3, 2)
    assert s['kilojoules'] == pytest.approx(2.0)
    assert s['tasks_per_kj'] == pytest.approx(1.0)                 # 2 solved / 2 kJ
    assert s['watts_avg'] == pytest.approx(50.0)                   # 2000 J / 40 s
    assert s['success_rate'] == pytest.approx(2 / 3)
    assert s['success_rate_per_watt'] == pytest.approx((2 / 3) / 50.0)
    assert s['joules_per_solved'] == pytest.approx(1000.0)
    assert s['joules_per_node'] == pytest.approx({'planning': 300.0, 'control': 300.0})
    assert s['estimated'] is True and s['sources'] == ['rapl']
    assert 'tasks per kJ' in format_summary(s)
    empty = intelligence_per_watt([])
    assert empty['tasks_per_kj'] is None and empty['success_rate'] is None
    assert 'n/a' in format_summary(empty)


def test_monitor_accounts_typed_events_and_counts_every_bad_one(scripted):
    """Typed events through event_from_msg; any failure of the input is one counted drop."""
    pytest.importorskip('nsvla_interfaces.msg', reason='nsvla_interfaces is not built here')
    from nsvla_planner.messages import event_from_msg, event_to_msg
    monitor, meter, clock, path = scripted

    def send(event, episode='ep1', **fields):
        return monitor.on_status(event_to_msg(status(event, episode, **fields)),
                                 convert=event_from_msg)

    bad = [('explode', 'ep1', 'event is'), ('episode_start', '', 'episode_id'),
           ('episode_end', 'never-started', 'unknown episode')]
    for count, (event, episode, why) in enumerate(bad, 1):
        with pytest.raises(ValidationError, match=why):
            send(event, episode)
        assert monitor.malformed == count

    def broken(msg):
        raise KeyError('header')
    with pytest.raises(ValidationError, match='KeyError'):      # not only ValidationError
        monitor.on_status(object(), convert=broken)
    assert monitor.malformed == 4

    assert send('episode_start') is None
    clock.t += 0.5
    meter.joules += 50.0
    assert send('step_start', step=0) is None
    assert send('recover', step=0, reason='block off the pegs') is None   # accepted, no cost
    clock.t += 0.5
    meter.joules += 50.0
    send('step_end', step=0, result='ok', expected={'p1': [], 'p2': ['b1']},
         observed={'p1': [], 'p2': ['b1']}, seconds=0.5)
    record = send('episode_end', result='solved', moves=1, wall_s=1.0)
    assert monitor.malformed == 4
    assert record['episode_id'] == 'ep1' and record['success'] is True
    assert record['joules'] == pytest.approx(100.0) and record['steps'] == 1
    assert record['per_step'][0]['result'] == 'ok'
    assert record['per_step'][0]['joules'] == pytest.approx(50.0)

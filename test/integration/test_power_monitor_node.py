# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The power monitor node over DDS: diagnostics, power/energy, episode records, bad input."""

import time

import pytest

from nsvla_common import envelope

pytestmark = pytest.mark.integration

MODULE = 'nsvla_energy.power_monitor_node'


def _event(event, episode, **fields):
    """Build an EpisodeEvent from the dict the executor's episode emits."""
    from nsvla_planner.messages import event_to_msg
    body = {'episode_id': episode, 'event': event}
    body.update(fields)
    return event_to_msg(envelope.make('execution_status', body))


def _episode_qos():
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def _run_good_episode(ros_node, pub, episode):
    pub.publish(_event('episode_start', episode))
    ros_node.spin_until(lambda: False, 0.3)
    pub.publish(_event('step_start', episode, step=0,
                       action={'action': 'move', 'args': ['b1', 'b2', 'p3']}))
    ros_node.spin_until(lambda: False, 0.4)
    pub.publish(_event('step_end', episode, step=0, result='ok', seconds=0.4))
    pub.publish(_event('episode_end', episode, result='solved', moves=1, wall_s=0.7))


def _diag_values(diags):
    for array in reversed(diags):
        for status in array.status:
            if status.name.startswith('power_monitor'):
                return {kv.key: kv.value for kv in status.values}
    return {}


def _wait_for_exit(proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.alive():
        time.sleep(0.05)
    return not proc.alive()


def test_node_publishes_diagnostics_energy_and_an_episode_record(node_process, ros_node,
                                                                 tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray
    from nsvla_energy.attribution import ROLES
    from nsvla_energy.messages import energy_from_msg, power_from_msg, record_from_msg
    from nsvla_interfaces.msg import EnergyReading, EpisodeEnergy, EpisodeEvent, PowerReading

    csv_path = tmp_path / 'power.csv'
    node = node_process(MODULE, ['-p', 'rate_hz:=10.0', '-p', 'diagnostics_period_s:=0.5',
                                 '-p', 'csv_log:=%s' % csv_path])
    diags, energy, power, records = [], [], [], []
    ros_node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    ros_node.create_subscription(EnergyReading, 'energy', energy.append, 10)
    ros_node.create_subscription(PowerReading, 'power', power.append, 10)
    ros_node.create_subscription(EpisodeEnergy, 'energy/episode', records.append, _episode_qos())
    pub = ros_node.create_publisher(EpisodeEvent, 'execution_status', 10)

    assert ros_node.spin_until(lambda: _diag_values(diags) and energy and power, 20.0), \
        node.log()
    values = _diag_values(diags)
    assert values['source'] in ('nvml', 'rapl', 'estimate')
    assert values['estimated'] in ('true', 'false')
    assert 'unavailable' in values['why'] or 'picked' in values['why']
    assert float(values['joules']) >= 0.0
    assert values['status_dropped'] == '0'
    last = energy[-1]
    assert last.source == values['source']
    assert [v.name for v in last.per_node] == list(ROLES)
    assert last.why and last.sources and last.header.stamp.sec > 0
    assert energy_from_msg(last)['schema'] == 'nsvla/energy/1'
    assert [v.name for v in power[-1].per_node] == list(ROLES)
    assert power_from_msg(power[-1])['schema'] == 'nsvla/power/1'

    assert ros_node.spin_until(lambda: pub.get_subscription_count() > 0, 10.0), node.log()
    _run_good_episode(ros_node, pub, 'it-1')
    assert ros_node.spin_until(lambda: records, 10.0), node.log()

    msg = records[0]
    assert msg.episode_id == 'it-1' and msg.steps == 1 and msg.success is True
    assert msg.result == 'solved' and len(msg.per_step) == 1 and msg.per_step[0].step == 0
    record = record_from_msg(msg)
    assert record['schema'] == 'nsvla/energy_episode/1'
    assert record['episode_id'] == 'it-1'
    assert record['steps'] == 1 and record['success'] is True
    assert 0.5 < record['duration_s'] < 5.0
    assert record['joules'] >= 0.0
    assert record['source'] == values['source']
    assert set(record['joules_per_node']) >= {'planning', 'other'}

    late = []                                    # transient local: a late client gets it too
    ros_node.create_subscription(EpisodeEnergy, 'energy/episode', late.append, _episode_qos())
    assert ros_node.spin_until(lambda: late, 10.0), node.log()
    assert late[0].episode_id == 'it-1'
    assert node.alive(), node.log()
    log_before = node.log()
    assert node.stop() in (0, -2), log_before     # SIGINT: clean exit
    with open(node.log_path) as f:                # NodeProcess.log() needs a live process
        log = f.read()
    assert 'energy source' in log and 'episode it-1' in log
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith('t,stamp,event,episode_id')
    assert sum(',episode_end,it-1,' in r for r in rows) == 1


def test_meters_are_read_slowly_until_someone_subscribes_to_power(node_process, ros_node,
                                                                  tmp_path):
    import csv

    from diagnostic_msgs.msg import DiagnosticArray
    from nsvla_interfaces.msg import PowerReading

    csv_path = tmp_path / 'power.csv'
    node = node_process(MODULE, ['-p', 'meter:=estimate', '-p', 'rate_hz:=10.0',
                                 '-p', 'idle_rate_hz:=2.0', '-p', 'csv_log:=%s' % csv_path])
    diags, power = [], []
    ros_node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    assert ros_node.spin_until(lambda: _diag_values(diags), 20.0), node.log()
    quiet = (time.time(), time.time() + 3.0)
    ros_node.spin_until(lambda: False, 3.0)
    ros_node.create_subscription(PowerReading, 'power', power.append, 10)
    assert ros_node.spin_until(lambda: len(power) >= 3, 10.0), node.log()
    busy = (time.time(), time.time() + 3.0)
    ros_node.spin_until(lambda: False, 3.0)
    assert node.stop() in (0, -2)
    with open(csv_path) as f:
        reads = [float(r['stamp']) for r in csv.DictReader(f) if not r['event']]

    def count(window):
        return sum(window[0] <= t < window[1] for t in reads)
    # 2 Hz (6 in 3 s) while nobody wants the messages, 10 Hz (30 in 3 s) once someone does
    assert 3 <= count(quiet) <= 10, (count(quiet), count(busy))
    assert count(busy) >= 15, (count(quiet), count(busy))
    assert 'while nobody subscribes to power or energy' in open(node.log_path).read()


def test_malformed_events_are_counted_and_the_node_goes_on(node_process, ros_node):
    from diagnostic_msgs.msg import DiagnosticArray
    from nsvla_energy.messages import record_from_msg
    from nsvla_interfaces.msg import EpisodeEnergy, EpisodeEvent

    node = node_process(MODULE, ['-p', 'rate_hz:=10.0', '-p', 'diagnostics_period_s:=0.5'])
    diags, records = [], []
    ros_node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    ros_node.create_subscription(EpisodeEnergy, 'energy/episode', records.append, _episode_qos())
    pub = ros_node.create_publisher(EpisodeEvent, 'execution_status', 10)
    assert ros_node.spin_until(lambda: pub.get_subscription_count() > 0, 20.0), node.log()

    pub.publish(_event('explode', 'it-bad'))                 # unknown event word
    pub.publish(_event('episode_start', ''))                 # empty episode_id
    pub.publish(_event('episode_end', 'never-started', result='solved'))   # unknown episode
    _run_good_episode(ros_node, pub, 'it-2')
    assert ros_node.spin_until(lambda: records, 10.0), node.log()
    assert [r.episode_id for r in records] == ['it-2']
    assert record_from_msg(records[0])['success'] is True
    counted = {'status_dropped': '3', 'episodes_finished': '1', 'episodes_open': '0'}
    assert ros_node.spin_until(lambda: counted.items() <= _diag_values(diags).items(), 5.0), \
        _diag_values(diags)
    assert node.alive(), node.log()
    assert node.stop() in (0, -2)
    with open(node.log_path) as f:
        log = f.read()
    assert 'dropped execution_status message' in log
    assert 'Traceback' not in log, log


def test_node_refuses_a_bad_meter_parameter(node_process):
    node = node_process(MODULE, ['-p', 'meter:=battery'])
    assert _wait_for_exit(node, 20.0), node.log()
    assert node.proc.returncode == 2
    assert "meter is 'battery'" in node.log()

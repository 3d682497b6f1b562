# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The power monitor node over DDS: diagnostics, power/energy, an episode record, bad input."""

import json
import time

import pytest

from nsvla_common import envelope

pytestmark = pytest.mark.integration

MODULE = 'nsvla_energy.power_monitor_node'


def _status(event, episode, **fields):
    body = {'episode_id': episode, 'event': event}
    body.update(fields)
    return envelope.dumps(envelope.make('execution_status', body))


def _wait_for_exit(proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.alive():
        time.sleep(0.05)
    return not proc.alive()


def test_node_publishes_diagnostics_energy_and_an_episode_record(node_process, ros_node,
                                                                 tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    csv_path = tmp_path / 'power.csv'
    node = node_process(MODULE, ['-p', 'rate_hz:=10.0', '-p', 'diagnostics_period_s:=0.5',
                                 '-p', 'csv_log:=%s' % csv_path])
    diags, energy, power, records = [], [], [], []
    ros_node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    ros_node.create_subscription(String, 'energy', energy.append, 10)
    ros_node.create_subscription(String, 'power', power.append, 10)
    episode_qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
    ros_node.create_subscription(String, 'energy/episode', records.append, episode_qos)
    pub = ros_node.create_publisher(String, 'execution_status', 10)

    assert ros_node.spin_until(lambda: diags and energy and power, 20.0), node.log()
    status = [s for s in diags[-1].status if s.name.startswith('power_monitor')]
    assert status, [s.name for s in diags[-1].status]
    values = {kv.key: kv.value for kv in status[0].values}
    assert values['source'] in ('nvml', 'rapl', 'estimate')
    assert values['estimated'] in ('true', 'false')
    assert 'unavailable' in values['why'] or 'picked' in values['why']
    assert float(values['joules']) >= 0.0
    first = json.loads(energy[-1].data)
    assert first['schema'] == 'nsvla/energy/1'
    assert first['source'] == values['source']
    assert set(first['per_node']) >= {'perception', 'planning', 'control', 'simulation'}
    assert json.loads(power[-1].data)['schema'] == 'nsvla/power/1'

    assert ros_node.spin_until(lambda: pub.get_subscription_count() > 0, 10.0), node.log()
    pub.publish(String(data='{"this is": not json'))
    pub.publish(String(data=_status('episode_start', 'it-1')))
    ros_node.spin_until(lambda: False, 0.3)
    pub.publish(String(data=_status('step_start', 'it-1', step=0)))
    ros_node.spin_until(lambda: False, 0.4)
    pub.publish(String(data=_status('step_end', 'it-1', step=0, result='ok')))
    pub.publish(String(data=_status('episode_end', 'it-1', result='success')))
    assert ros_node.spin_until(lambda: records, 10.0), node.log()

    record = json.loads(records[0].data)
    assert record['schema'] == 'nsvla/energy_episode/1'
    assert record['episode_id'] == 'it-1'
    assert record['steps'] == 1 and record['success'] is True
    assert 0.5 < record['duration_s'] < 5.0
    assert record['joules'] >= 0.0
    assert record['source'] == values['source']
    assert set(record['joules_per_node']) >= {'planning', 'other'}
    assert node.alive(), node.log()
    assert ros_node.spin_until(
        lambda: any(kv.key == 'status_dropped' and kv.value == '1'
                    for d in diags[-1:] for s in d.status for kv in s.values), 5.0)
    log_before = node.log()
    assert node.stop() in (0, -2), log_before     # SIGINT: clean exit
    with open(node.log_path) as f:                # NodeProcess.log() needs a live process
        log = f.read()
    assert 'energy source' in log and 'dropped execution_status message' in log
    assert 'episode it-1' in log
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith('t,stamp,event,episode_id')
    assert sum(',episode_end,it-1,' in r for r in rows) == 1


def test_node_refuses_a_bad_meter_parameter(node_process):
    node = node_process(MODULE, ['-p', 'meter:=battery'])
    assert _wait_for_exit(node, 20.0), node.log()
    assert node.proc.returncode == 2
    assert "meter is 'battery'" in node.log()

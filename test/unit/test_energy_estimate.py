# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Estimate meter and per-node attribution: command lines, CPU shares, busy vs idle processes."""

import subprocess
import sys
import time

import psutil
import pytest

from nsvla_common.errors import ConfigError
from nsvla_energy.attribution import (classify_cmdline, cpu_shares, CpuSnapshot, ProcessTracker,
                                      split)
from nsvla_energy.meters import EstimateMeter, open_meters, tdp_power
from nsvla_energy.monitor import PowerMonitor

PY = '/opt/venv/bin/python3'


@pytest.mark.parametrize('cmdline, role', [
    ([PY, '/opt/venv/bin/planner_node', '--ros-args', '-p', 'x:=1'], 'planning'),
    (['/opt/venv/bin/sim_node'], 'simulation'),
    ([PY, '-m', 'nsvla_perception.perception_node', '--ros-args'], 'perception'),
    ([PY, '-u', '-X', 'dev', '-m', 'nsvla_control.executor_node'], 'control'),
    ([PY, '-mnsvla_energy.power_monitor_node'], 'monitor'),
    (['python3', 'nsvla_planner/planner_node.py'], 'planning'),
    (['python3', '/ws/install/lib/nsvla/power_monitor_node'], 'monitor'),
    ([PY, '-m', 'nsvla_sim.some_helper'], 'simulation'),
    ([PY, '-m', 'pytest', 'test/unit', '-k', 'planner_node'], None),
    ([PY, '-c', 'import x', 'planner_node'], None),
    (['grep', 'planner_node'], None),
    (['/usr/bin/vim', 'nsvla_planner/planner_node.py'], None),
    ([PY, '/opt/venv/bin/nsvla', 'plan'], None),
    ([], None),
])
def test_classify_cmdline(cmdline, role):
    assert classify_cmdline(cmdline) == role


def test_cpu_shares_machine_and_nsvla_scopes():
    used = {'planning': 0.3, 'perception': 0.1}
    machine = cpu_shares(used, machine_busy=0.8)
    assert machine == pytest.approx({'planning': 0.375, 'perception': 0.125, 'other': 0.5})
    assert cpu_shares(used, 0.8, scope='nsvla') == pytest.approx(
        {'planning': 0.75, 'perception': 0.25})
    assert cpu_shares({}, 0.0) == {'other': 1.0}          # an idle interval is nobody's
    # reaped children can make nsvla CPU exceed the machine's busy time in one interval
    assert sum(cpu_shares(used, machine_busy=0.2).values()) == pytest.approx(1.0)
    assert split(10.0, {'planning': 0.75, 'other': 0.25}) == {'planning': 7.5, 'other': 2.5}
    assert split(4.0, {}) == {'other': 4.0}


def test_tdp_model_follows_codecarbon():
    assert tdp_power(100.0, 0.0) == pytest.approx(10.0)
    assert tdp_power(100.0, 0.5) == pytest.approx(100.0 * (0.1 + 0.9 * 0.125))
    assert tdp_power(100.0, 1.0) == pytest.approx(100.0)
    assert tdp_power(100.0, 3.0) == pytest.approx(100.0)


def test_tdp_estimate_integrates_load_over_time():
    def snap(t, busy, total):
        return CpuSnapshot(stamp=t, per_role={}, machine_busy=busy, machine_total=total, ncpu=2)

    meter = EstimateMeter('tdp', tdp_watts=50.0, tracker=ProcessTracker(classify=lambda c: None),
                          clock=lambda: 0.0)
    assert meter.scope == 'machine' and meter.estimated
    assert meter.integrates_power       # a modelled power per interval: read at rate_hz
    cpu = EstimateMeter('cpu_seconds', tracker=ProcessTracker(classify=lambda c: None))
    assert not cpu.integrates_power     # CPU seconds are a counter
    assert meter.read(snap(0.0, 0.0, 0.0)).joules == 0.0
    assert meter.read(snap(1.0, 2.0, 2.0)).joules == pytest.approx(50.0)   # 2 cores fully busy
    assert meter.read(snap(3.0, 2.0, 6.0)).joules == pytest.approx(60.0)   # idle: 10 % of TDP


def test_bad_estimate_settings_are_refused():
    tracker = ProcessTracker(classify=lambda c: None)
    with pytest.raises(ConfigError, match='model'):
        EstimateMeter('magic', tracker=tracker)
    with pytest.raises(ConfigError, match='watts_per_core'):
        EstimateMeter(watts_per_core=0.0, tracker=tracker)
    with pytest.raises(ConfigError, match='meter'):
        open_meters('battery')


BUSY = 'import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass\n'
IDLE = 'import time\ntime.sleep(20)\n'
# the child burns 0.4 s of CPU, not of wall time: on a loaded machine a 0.4 s wall-clock loop
# got 0.24 s of CPU (a fresh clone's suite beside two benches on 2 cores)
PARENT = ('import subprocess, sys, time\n'
          'subprocess.run([sys.executable, "-c", "import time\\n'
          'while time.process_time() < 0.4: pass"])\n'
          'time.sleep(20)\n')


def _only_under(folder):
    """Classify only the scripts of this test (nsvla nodes others run here must not count)."""
    def classify(cmdline):
        return classify_cmdline(cmdline) if any(folder in arg for arg in cmdline) else None
    return classify


def _spawn(path, code):
    path.write_text(code)
    return subprocess.Popen([sys.executable, str(path)])


def _cpu(proc):
    t = psutil.Process(proc.pid).cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def test_busy_process_gets_more_energy_than_idle_one(tmp_path):
    tracker = ProcessTracker(classify=_only_under(str(tmp_path)), rescan_period=0.1)
    meters = open_meters('estimate', tracker=tracker, watts_per_core=10.0)
    monitor = PowerMonitor(meters, tracker)
    busy = _spawn(tmp_path / 'planner_node.py', BUSY)         # recognised as planning
    idle = _spawn(tmp_path / 'perception_node.py', IDLE)      # recognised as perception
    try:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            time.sleep(0.05)
            monitor.tick()
        snap = monitor.tick()
        used = _cpu(busy) + _cpu(idle)
        roles = tracker.tracked()
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
        monitor.close()
    assert roles == {busy.pid: 'planning', idle.pid: 'perception'}
    assert snap.source == 'estimate' and snap.estimated is True
    assert snap.per_node['planning'] > 2.0                    # >= 0.2 CPU s at 10 W per core
    assert snap.per_node['planning'] > 3.0 * snap.per_node['perception']
    assert snap.per_node['other'] == 0.0                      # cpu_seconds counts nsvla only
    # the estimate is exactly CPU seconds x watts per core (both were born after the start)
    assert snap.joules == pytest.approx(10.0 * used, abs=0.3)


def test_reaped_children_count_for_their_parent(tmp_path):
    tracker = ProcessTracker(classify=_only_under(str(tmp_path)), rescan_period=0.05)
    tracker.update()
    parent = _spawn(tmp_path / 'planner_node.py', PARENT)     # runs a 0.4 s busy child
    try:
        deadline = time.monotonic() + 8.0
        snap = tracker.update()
        while time.monotonic() < deadline and snap.per_role['planning'] < 0.25:
            time.sleep(0.05)
            snap = tracker.update()
    finally:
        parent.kill()
        parent.wait()
    assert snap.per_role['planning'] >= 0.25
    assert snap.machine_busy > 0.0 and snap.machine_total >= snap.machine_busy


def test_only_the_nodes_of_this_ros_domain_count(tmp_path):
    import os
    from nsvla_energy.attribution import domain_id
    assert domain_id({}) == '0' and domain_id({'ROS_DOMAIN_ID': ''}) == '0'
    assert domain_id({'ROS_DOMAIN_ID': ' 42 '}) == '42'
    procs = []
    for domain, name in (('5', 'planner_node.py'), ('6', 'executor_node.py')):
        (tmp_path / name).write_text(IDLE)
        env = dict(os.environ, ROS_DOMAIN_ID=domain)
        procs.append(subprocess.Popen([sys.executable, str(tmp_path / name)], env=env))
    try:
        deadline = time.monotonic() + 5.0     # both exec'ed: their command lines are theirs
        while time.monotonic() < deadline and not all(
                any(str(tmp_path) in a for a in psutil.Process(p.pid).cmdline()) for p in procs):
            time.sleep(0.02)
        ours = ProcessTracker(classify=_only_under(str(tmp_path)), domain='5')
        every = ProcessTracker(classify=_only_under(str(tmp_path)))
        ours.rescan()
        every.rescan()
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert ours.tracked() == {procs[0].pid: 'planning'}      # domain 6 is another graph
    assert every.tracked() == {procs[0].pid: 'planning', procs[1].pid: 'control'}

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""RAPL meter against a fake powercap sysfs tree: zones picked, joules, counter wrap, failures."""

import os
from types import SimpleNamespace

import pytest

from nsvla_energy.attribution import ProcessTracker
from nsvla_energy.meters import (find_rapl_zones, MeterSet, MeterUnavailable, open_meters,
                                 RaplMeter, wrapped_delta)
from nsvla_energy.monitor import PowerMonitor

MAX = 262143328850  # a real max_energy_range_uj


class FakeClock:
    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


def _zone(root, entry, name, energy, max_range=MAX):
    path = root / entry
    path.mkdir(parents=True, exist_ok=True)
    (path / 'name').write_text(name + '\n')
    (path / 'energy_uj').write_text('%d\n' % energy)
    (path / 'max_energy_range_uj').write_text('%d\n' % max_range)
    return path


def _set(path, energy):
    (path / 'energy_uj').write_text('%d\n' % energy)


@pytest.fixture
def sysfs(tmp_path):
    """Two packages, a DRAM sub-zone, core/uncore sub-zones and psys (which must be skipped)."""
    root = tmp_path / 'powercap'
    zones = {
        'pkg0': _zone(root, 'intel-rapl:0', 'package-0', 1_000_000),
        'core0': _zone(root, 'intel-rapl:0:0', 'core', 500_000),
        'dram0': _zone(root, 'intel-rapl:0:1', 'dram', 2_000_000),
        'pkg1': _zone(root, 'intel-rapl:1', 'package-1', 3_000_000),
        'psys': _zone(root, 'intel-rapl:2', 'psys', 9_000_000),
        'mmio': _zone(root, 'intel-rapl-mmio:0', 'package-0', 7_000_000),
    }
    return root, zones


def test_zones_are_packages_and_dram_only(sysfs):
    root, _ = sysfs
    parts = [z['part'] for z in find_rapl_zones(str(root))]
    assert parts == ['package-0', 'package-1', 'dram-0']
    assert [z['max_range'] for z in find_rapl_zones(str(root))] == [MAX] * 3


def test_joules_and_watts_from_counter_differences(sysfs):
    root, z = sysfs
    clock = FakeClock()
    meter = RaplMeter(str(root), clock=clock)
    _set(z['pkg0'], 1_000_000 + 5_000_000)     # +5 J
    _set(z['pkg1'], 3_000_000 + 3_000_000)     # +3 J
    _set(z['dram0'], 2_000_000 + 1_000_000)    # +1 J
    _set(z['core0'], 99_000_000)               # inside the package: must not count
    _set(z['psys'], 99_000_000)                # overlaps the packages: must not count
    clock.t += 2.0
    r = meter.read()
    assert r.source == 'rapl' and r.estimated is False
    assert r.joules == pytest.approx(9.0)
    assert r.parts == pytest.approx({'package-0': 5.0, 'package-1': 3.0, 'dram-0': 1.0})
    assert r.watts == pytest.approx(4.5)


def test_counter_wrap_is_corrected(sysfs):
    root, z = sysfs
    clock = FakeClock()
    _set(z['pkg0'], MAX - 1_000_000)           # 1 J before the wrap
    meter = RaplMeter(str(root), clock=clock)
    clock.t += 1.0
    _set(z['pkg0'], 2_500_000)                 # wrapped, then 2.5 J more
    r = meter.read()
    assert r.parts['package-0'] == pytest.approx(3.5)
    clock.t += 1.0
    _set(z['pkg0'], 4_500_000)                 # no wrap: +2 J
    r = meter.read()
    assert r.parts['package-0'] == pytest.approx(5.5)
    assert r.joules == pytest.approx(5.5)
    assert r.watts == pytest.approx(2.0)


def test_wrapped_delta_edges():
    assert wrapped_delta(None, 50, 100) == 0
    assert wrapped_delta(10, 30, 100) == 20
    assert wrapped_delta(90, 5, 100) == 15
    assert wrapped_delta(90, 5, 0) == 0       # unknown range: a reset, not a wrap


def test_nested_layout_and_psys_only(tmp_path):
    root = tmp_path / 'powercap'
    _zone(root, 'intel-rapl:0', 'package-0', 10)
    _zone(root / 'intel-rapl:0', 'intel-rapl:0:0', 'dram', 20)
    assert [z['part'] for z in find_rapl_zones(str(root))] == ['package-0', 'dram-0']
    only_psys = tmp_path / 'psys'
    _zone(only_psys, 'intel-rapl:1', 'psys', 10)
    assert [z['part'] for z in find_rapl_zones(str(only_psys))] == ['psys-1']


def test_missing_tree_and_unreadable_counter_say_why(tmp_path, monkeypatch):
    with pytest.raises(MeterUnavailable, match='does not exist'):
        RaplMeter(str(tmp_path / 'nope'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(MeterUnavailable, match='no intel-rapl package zone'):
        RaplMeter(str(tmp_path / 'empty'))
    root = tmp_path / 'locked'
    _zone(root, 'intel-rapl:0', 'package-0', 10)
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path).endswith('energy_uj'):
            raise PermissionError(13, 'Permission denied', path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr('builtins.open', deny)
    with pytest.raises(MeterUnavailable, match='permission denied.*root-only'):
        RaplMeter(str(root))


def test_read_error_keeps_total_and_is_reported(sysfs):
    root, z = sysfs
    clock = FakeClock()
    meter = RaplMeter(str(root), clock=clock)
    _set(z['pkg0'], 2_000_000)
    clock.t += 1.0
    assert meter.read().parts['package-0'] == pytest.approx(1.0)
    os.remove(z['pkg0'] / 'energy_uj')
    clock.t += 1.0
    r = meter.read()
    assert r.parts['package-0'] == pytest.approx(1.0)
    assert 'package-0' in meter.last_error and meter.errors == 1


def test_auto_pick_uses_rapl_when_nvml_is_missing(sysfs):
    root, _ = sysfs

    class NoNvml:
        class NVMLError(Exception):
            pass

        class NVMLError_LibraryNotFound(NVMLError):
            pass

        def nvmlInit(self):
            raise self.NVMLError_LibraryNotFound('NVML Shared Library Not Found')

    chosen = open_meters('auto', rapl_root=str(root), nvml=NoNvml())
    assert chosen.sources == ['rapl'] and chosen.source == 'rapl'
    assert chosen.estimated is False
    assert chosen.reasons[0].startswith('nvml unavailable: NVMLError_LibraryNotFound')
    assert chosen.reasons[1].startswith('rapl picked: package-0, package-1, dram-0')


class FakePs:
    """Just enough of psutil for ProcessTracker: processes with command lines and CPU times."""

    class NoSuchProcess(Exception):
        pass

    AccessDenied = ZombieProcess = NoSuchProcess

    def __init__(self, procs):
        self.procs = procs          # pid -> {'cmdline': [...], 'cpu': seconds}
        self.busy = 100.0
        self.idle = 500.0

    def pids(self):
        return list(self.procs)

    def cpu_count(self):
        return 2

    def cpu_times(self):
        return _Times(self.busy, self.idle)

    def Process(self, pid):
        if pid not in self.procs:
            raise self.NoSuchProcess(pid)

        def info():
            if pid not in self.procs:
                raise self.NoSuchProcess(pid)
            return self.procs[pid]

        return SimpleNamespace(
            pid=pid, cmdline=lambda: info()['cmdline'],
            cpu_times=lambda: SimpleNamespace(user=info()['cpu'], system=0.0, children_user=0.0,
                                              children_system=0.0))


class _Times(tuple):
    """Machine CPU times like psutil's: summable, with an ``idle`` field."""

    def __new__(cls, busy, idle):
        obj = super().__new__(cls, (busy, idle))
        obj.idle = idle
        return obj


def test_rapl_energy_is_split_by_cpu_share_with_the_rest_to_other(sysfs):
    root, z = sysfs
    ps = FakePs({
        10: {'cmdline': ['python3', '/venv/bin/planner_node', '--ros-args'], 'cpu': 5.0},
        11: {'cmdline': ['python3', '-m', 'nsvla_perception.perception_node'], 'cpu': 2.0},
        12: {'cmdline': ['firefox'], 'cpu': 50.0},
    })
    clock = FakeClock()
    tracker = ProcessTracker(ps=ps, clock=clock)
    monitor = PowerMonitor(MeterSet([RaplMeter(str(root), clock=clock)], ['rapl']), tracker,
                           clock=clock)
    assert tracker.tracked() == {10: 'planning', 11: 'perception'}
    clock.t += 1.0
    ps.procs[10]['cpu'] += 0.3          # planning 0.3 s, perception 0.1 s of 0.8 busy s
    ps.procs[11]['cpu'] += 0.1
    ps.procs[12]['cpu'] += 0.4
    ps.busy += 0.8
    ps.idle += 1.2
    _set(z['pkg0'], 1_000_000 + 8_000_000)   # +8 J
    snap = monitor.tick()
    assert snap.joules == pytest.approx(8.0)
    assert snap.per_node['planning'] == pytest.approx(3.0)
    assert snap.per_node['perception'] == pytest.approx(1.0)
    assert snap.per_node['other'] == pytest.approx(4.0)
    assert sum(snap.per_node.values()) == pytest.approx(snap.joules)
    assert snap.per_node_watts['planning'] == pytest.approx(3.0)
    clock.t += 1.0                      # an idle second: everything is 'other'
    ps.idle += 2.0
    _set(z['pkg0'], 1_000_000 + 10_000_000)
    snap = monitor.tick()
    assert snap.per_node['planning'] == pytest.approx(3.0)
    assert snap.per_node['other'] == pytest.approx(6.0)
    del ps.procs[11]                    # a node that exits keeps what it used
    clock.t += 1.0
    assert monitor.tick().per_node['perception'] == pytest.approx(1.0)
    assert tracker.tracked() == {10: 'planning'}

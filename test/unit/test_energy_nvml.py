# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
NVML meter: both measuring paths against a stand-in pynvml, the missing-NVML path, a real GPU.

Runs on its own: ``.venv/bin/python -m pytest test/unit/test_energy_nvml.py``. The last test
reads a real GPU and is skipped, with the NVML error as the reason, where there is none.
"""

import time
from types import SimpleNamespace

import pytest

from nsvla_common.errors import ConfigError
from nsvla_energy.attribution import ProcessTracker
from nsvla_energy.meters import MeterUnavailable, NvmlMeter, open_meters
from nsvla_energy.monitor import PowerMonitor


class FakeClock:
    def __init__(self, t=10.0):
        self.t = t

    def __call__(self):
        return self.t


class FakeNvml:
    """Just enough of the pynvml module: error classes, devices, energy, power, process util."""

    class NVMLError(Exception):
        pass

    class NVMLError_LibraryNotFound(NVMLError):
        pass

    class NVMLError_NotSupported(NVMLError):
        pass

    class NVMLError_NotFound(NVMLError):
        pass

    class NVMLError_GpuIsLost(NVMLError):
        pass

    def __init__(self, devices, init_error=None):
        self.devices = devices
        self.init_error = init_error
        self.shutdowns = 0

    def nvmlInit(self):
        if self.init_error:
            raise self.init_error

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, i):
        return self.devices[i]

    def nvmlDeviceGetName(self, h):
        return h.name.encode()

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if h.lost:
            raise self.NVMLError_GpuIsLost('GPU is lost')
        if h.energy_mj is None:
            raise self.NVMLError_NotSupported('Not Supported')
        return h.energy_mj

    def nvmlDeviceGetPowerUsage(self, h):
        if h.power_mw is None:
            raise self.NVMLError_NotSupported('Not Supported')
        return h.power_mw

    def nvmlDeviceGetProcessUtilization(self, h, last_seen):
        if h.samples is None:
            raise self.NVMLError_NotSupported('Not Supported')
        fresh = [s for s in h.samples if s.timeStamp > last_seen]
        if not fresh:
            raise self.NVMLError_NotFound('Not Found')
        return fresh


def _gpu(name, energy_mj=None, power_mw=None, samples=None):
    return SimpleNamespace(name=name, energy_mj=energy_mj, power_mw=power_mw, samples=samples,
                           lost=False)


def test_energy_counter_differences():
    gpu = _gpu('Fake A100', energy_mj=5_000_000, power_mw=60_000)
    clock = FakeClock()
    meter = NvmlMeter(nvml=FakeNvml([gpu]), clock=clock)
    assert meter.modes == {'gpu0': 'counter'}
    assert meter.integrates_power is False      # exact between reads however far apart
    gpu.energy_mj += 150_000                      # +150 J
    clock.t += 1.5
    r = meter.read()
    assert r.source == 'nvml' and r.estimated is False
    assert r.joules == pytest.approx(150.0)
    assert r.watts == pytest.approx(100.0)
    gpu.energy_mj += 50_000
    clock.t += 1.0
    assert meter.read().joules == pytest.approx(200.0)


def test_power_integration_where_the_counter_is_not_supported():
    gpu = _gpu('Fake T4', energy_mj=None, power_mw=50_000)
    clock = FakeClock()
    meter = NvmlMeter(nvml=FakeNvml([gpu]), clock=clock)
    assert meter.modes == {'gpu0': 'power'}
    assert 'power integration' in meter.description
    assert meter.integrates_power is True       # the monitor reads it at rate_hz always
    clock.t += 2.0
    gpu.power_mw = 70_000                         # trapezoid: (50 + 70) / 2 * 2 = 120 J
    r = meter.read()
    assert r.joules == pytest.approx(120.0)
    clock.t += 1.0                                # constant 70 W for 1 s
    r = meter.read()
    assert r.joules == pytest.approx(190.0)
    assert r.watts == pytest.approx(70.0)


def test_all_gpus_are_summed_and_mixed_modes_work():
    a = _gpu('A', energy_mj=0, power_mw=1)
    b = _gpu('B', energy_mj=None, power_mw=30_000)
    c = _gpu('C', energy_mj=None, power_mw=None)  # neither: skipped, said why
    clock = FakeClock()
    meter = NvmlMeter(nvml=FakeNvml([a, b, c]), clock=clock)
    assert meter.modes == {'gpu0': 'counter', 'gpu1': 'power'}
    assert 'gpu2' in meter.skipped[0]
    a.energy_mj = 40_000
    clock.t += 1.0
    r = meter.read()
    assert r.parts == pytest.approx({'gpu0': 40.0, 'gpu1': 30.0})
    assert r.joules == pytest.approx(70.0)


def test_missing_nvml_degrades_to_the_next_meter(tmp_path):
    lib = FakeNvml([], init_error=FakeNvml.NVMLError_LibraryNotFound(
        'NVML Shared Library Not Found'))
    with pytest.raises(MeterUnavailable, match='^nvml unavailable: NVMLError_LibraryNotFound'):
        NvmlMeter(nvml=lib)
    chosen = open_meters('auto', rapl_root=str(tmp_path / 'no-powercap'), nvml=lib)
    assert chosen.sources == ['estimate'] and chosen.estimated is True
    assert chosen.reasons[0] == ('nvml unavailable: NVMLError_LibraryNotFound '
                                 '(NVML Shared Library Not Found)')
    assert 'rapl unavailable' in chosen.reasons[1]
    assert chosen.reasons[2].startswith('estimate picked')
    with pytest.raises(MeterUnavailable):
        open_meters('nvml', nvml=lib)             # asked for by name: no silent fallback
    no_gpu = FakeNvml([])
    with pytest.raises(MeterUnavailable, match='no NVIDIA GPU'):
        NvmlMeter(nvml=no_gpu)
    assert no_gpu.shutdowns == 1


def test_real_pynvml_without_gpu_degrades_cleanly(tmp_path):
    pynvml = pytest.importorskip('pynvml')
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        chosen = open_meters('auto', rapl_root=str(tmp_path / 'none'))
        assert 'nvml' not in chosen.sources
        assert chosen.reasons[0].startswith('nvml unavailable: %s' % type(exc).__name__)
        return
    pynvml.nvmlShutdown()
    pytest.skip('an NVIDIA GPU is present here: the missing-NVML path cannot be seen')


def test_combined_gpu_and_cpu_with_gpu_shares_by_process(tmp_path):
    """NVML + estimate in one monitor; the GPU split follows per-process SM utilisation."""
    now_us = int(time.time() * 1e6) + 10_000_000
    gpu = _gpu('Fake H100', energy_mj=0, power_mw=1, samples=[])
    lib = FakeNvml([gpu])
    # pids of the fake GPU processes, above Linux's pid_max (2^22) so no real process has them
    perc, plan, stranger = 4_194_401, 4_194_402, 4_194_403
    # (and no command line is classified: nodes other people run here must not count)
    tracker = ProcessTracker(classify=lambda cmdline: None,
                             pids={perc: 'perception', plan: 'planning'})
    chosen = open_meters('auto', rapl_root=str(tmp_path / 'none'), nvml=lib, tracker=tracker)
    assert chosen.sources == ['nvml', 'estimate'] and chosen.source == 'nvml'
    assert chosen.reasons[2].startswith('estimate added for the CPU')
    assert chosen.estimated is True               # the CPU part is an estimate
    monitor = PowerMonitor(chosen, tracker)
    gpu.samples = [SimpleNamespace(pid=perc, smUtil=60, timeStamp=now_us),
                   SimpleNamespace(pid=plan, smUtil=20, timeStamp=now_us),
                   SimpleNamespace(pid=stranger, smUtil=20, timeStamp=now_us)]
    gpu.energy_mj = 100_000                       # 100 J on the GPU
    snap = monitor.tick()
    assert snap.sources['nvml']['joules'] == pytest.approx(100.0)
    assert snap.per_node['perception'] == pytest.approx(60.0)
    assert snap.per_node['planning'] == pytest.approx(20.0)
    assert snap.per_node['other'] == pytest.approx(20.0)
    gpu.energy_mj = 130_000                       # idle GPU (no new samples): goes to other
    snap = monitor.tick()
    assert snap.per_node['other'] == pytest.approx(50.0)
    assert snap.joules == pytest.approx(130.0 + snap.sources['estimate']['joules'])
    monitor.close()
    assert lib.shutdowns == 1


def test_nvml_is_shut_down_when_the_cpu_meter_cannot_start(tmp_path):
    lib = FakeNvml([_gpu('G', energy_mj=0, power_mw=1)])
    with pytest.raises(ConfigError, match='watts_per_core'):
        open_meters('auto', rapl_root=str(tmp_path / 'none'), watts_per_core=0.0, nvml=lib)
    assert lib.shutdowns == 1
    only_gpu = open_meters('auto', combine=False, nvml=lib)
    assert only_gpu.sources == ['nvml'] and only_gpu.estimated is False
    only_gpu.close()


def test_transient_read_error_is_reported_not_raised():
    gpu = _gpu('G', energy_mj=1000, power_mw=1)
    clock = FakeClock()
    meter = NvmlMeter(nvml=FakeNvml([gpu]), clock=clock)
    gpu.lost = True
    clock.t += 1.0
    r = meter.read()
    assert r.joules == 0.0 and 'NVMLError_GpuIsLost' in meter.last_error
    gpu.lost, gpu.energy_mj = False, 3000
    clock.t += 1.0
    assert meter.read().joules == pytest.approx(2.0) and meter.last_error == ''


def test_real_gpu_energy():
    """On a machine with an NVIDIA GPU: joules grow and the power is plausible."""
    pynvml = pytest.importorskip('pynvml')
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except pynvml.NVMLError as exc:
        pytest.skip('no NVIDIA GPU / driver here: %s' % type(exc).__name__)
    meter = NvmlMeter()
    try:
        time.sleep(1.0)
        r = meter.read()
    finally:
        meter.close()
    assert r.source == 'nvml' and r.estimated is False
    assert set(r.parts) == {'gpu%d' % i for i in range(len(r.parts))}
    assert r.joules > 0.0, meter.description
    assert 1.0 < r.watts < 5000.0 * len(r.parts), meter.description

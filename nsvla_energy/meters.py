# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Energy meters behind one interface: NVML (GPUs), RAPL (CPU packages, DRAM), an estimate.

Every meter reports joules since it started, the average watts over its last reads (at least
50 ms; 0.5 s for the estimate, whose CPU times tick at 10 ms), its ``source`` name and whether
the number is ``estimated``. :func:`open_meters` picks in the order
NVML, RAPL, estimate and says why in ``MeterSet.reasons`` (for example
``nvml unavailable: NVMLError_LibraryNotFound (NVML Shared Library Not Found)``). Where a GPU is
measured by NVML, the CPU meter (RAPL, else the estimate) is added next to it by default, so the
planner's CPU work is not missed on a GPU machine.

How each meter measures (after Zeus and CodeCarbon):

- **nvml**: differences of ``nvmlDeviceGetTotalEnergyConsumption`` (millijoules, Volta and newer);
  where that is not supported, trapezoidal integration of ``nvmlDeviceGetPowerUsage``
  (milliwatts) between reads. All GPUs, one part per GPU (``gpu0``, ``gpu1``...). Per-process
  GPU shares come from ``nvmlDeviceGetProcessUtilization`` where the driver offers it.
- **rapl**: ``energy_uj`` of every ``intel-rapl:N`` package zone (and its ``dram`` sub-zone)
  under ``/sys/class/powercap``; a counter that went backwards wrapped at
  ``max_energy_range_uj``. ``psys``, ``core`` and ``uncore`` are skipped (they overlap).
- **estimate** (always ``estimated: true``): either ``cpu_seconds`` - CPU seconds of the nsvla
  processes x ``watts_per_core`` (the marginal energy of nsvla's own work), or ``tdp`` - the whole
  machine as ``tdp_watts x (0.1 + 0.9 load^3)``, CodeCarbon's model, load = busy CPU fraction.
"""

import abc
from dataclasses import dataclass, field
import os
import re
import time
from typing import Any, Callable, Dict, List, Optional

from nsvla_common.errors import ConfigError, NsvlaError
from nsvla_energy.attribution import CpuSnapshot, ProcessTracker, weight_shares

SOURCES = ('nvml', 'rapl', 'estimate')
METER_CHOICES = ('auto',) + SOURCES
ESTIMATE_MODELS = ('cpu_seconds', 'tdp')
DEFAULT_RAPL_ROOT = '/sys/class/powercap'
DEFAULT_WATTS_PER_CORE = 10.0
WATTS_WINDOW_S = 0.05   # power is averaged over at least this long


class MeterUnavailable(NsvlaError):
    """A meter that cannot run on this machine; the message says why."""

    status = 'meter_unavailable'


@dataclass
class Reading:
    """One read of a meter."""

    source: str                     # 'nvml', 'rapl' or 'estimate'
    joules: float                   # since the meter started
    watts: float                    # average power over the last >= 50 ms (0 on the first)
    estimated: bool
    stamp: float                    # monotonic seconds of the read
    parts: Dict[str, float] = field(default_factory=dict)  # joules since start per GPU / zone

    def as_dict(self) -> Dict[str, Any]:
        """Return the JSON-ready form."""
        return {'source': self.source, 'joules': self.joules, 'watts': self.watts,
                'estimated': self.estimated, 'parts': dict(self.parts)}


RoleOf = Callable[[int], Optional[str]]


class Meter(abc.ABC):
    """
    Common interface: ``read()`` -> :class:`Reading`, ``close()``.

    ``scope`` tells attribution what the energy covers: ``machine`` (RAPL, TDP model: split by
    CPU share, the rest is ``other``), ``gpu`` (NVML: split by GPU process share where known),
    ``nsvla`` (CPU-seconds estimate: only nsvla processes, split among them).
    """

    source = ''
    estimated = False
    scope = 'machine'

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_t: Optional[float] = None
        self._last_j = 0.0
        self._watts = 0.0
        self.watts_window = WATTS_WINDOW_S
        self.last_error = ''      # last transient read error ('' when the last read was clean)
        self.errors = 0

    @property
    def description(self) -> str:
        """Return a one-line description of what is measured and how."""
        return self.source

    @property
    def integrates_power(self) -> bool:
        """
        Return true when the energy is a sum of power samples, so the read rate sets accuracy.

        A counter (RAPL, the NVML energy counter, CPU seconds) gives the exact energy between
        any two reads, however far apart.
        """
        return False

    @abc.abstractmethod
    def _sample(self, now: float, cpu: Optional[CpuSnapshot]) -> Dict[str, float]:
        """Return joules since start per part."""

    def read(self, cpu: Optional[CpuSnapshot] = None) -> Reading:
        """Read the meter now; ``cpu`` is a fresh tracker snapshot when the caller has one."""
        now = self._clock()
        parts = self._sample(now, cpu)
        joules = float(sum(parts.values()))
        if self._last_t is None:
            self._last_t, self._last_j = now, joules
        elif now - self._last_t >= self.watts_window:
            self._watts = (joules - self._last_j) / (now - self._last_t)
            self._last_t, self._last_j = now, joules
        # else: a read right after another (an event): keep the last power, not a noisy one
        return Reading(self.source, joules, self._watts, self.estimated, now, parts)

    def part_shares(self, role_of: RoleOf) -> Dict[str, Dict[str, float]]:
        """Return role fractions per part where the meter knows better than CPU time."""
        return {}

    def close(self) -> None:
        """Release what the meter holds."""

    def _fail(self, what: str) -> None:
        self.errors += 1
        self.last_error = what


def nvml_error_text(exc: BaseException) -> str:
    """Return ``NVMLError_LibraryNotFound (NVML Shared Library Not Found)``-style text."""
    name = type(exc).__name__
    text = str(exc)
    return '%s (%s)' % (name, text) if text and text != name else name


# ---------------------------------------------------------------------------------- NVML
class _Gpu:
    def __init__(self, index: int, handle: Any, name: str, mode: str) -> None:
        self.index = index
        self.handle = handle
        self.name = name
        self.mode = mode                 # 'counter' or 'power'
        self.joules = 0.0
        self.last_raw: Optional[float] = None   # mJ (counter) or W (power)
        self.last_t: Optional[float] = None
        self.proc_util = True            # nvmlDeviceGetProcessUtilization still worth trying
        self.util_ts = 0


class NvmlMeter(Meter):
    """All NVIDIA GPUs through NVML; ``nvml`` may be a stand-in module object (tests)."""

    source = 'nvml'
    scope = 'gpu'

    def __init__(self, nvml: Any = None, clock: Callable[[], float] = time.monotonic,
                 use_energy_counter: bool = True) -> None:
        super().__init__(clock)
        if nvml is None:
            try:
                import pynvml as nvml
            except ImportError as exc:
                raise MeterUnavailable('nvml unavailable: pynvml not importable (%s); install '
                                       'nvidia-ml-py' % exc) from None
        self._nvml = nvml
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            raise MeterUnavailable('nvml unavailable: %s' % nvml_error_text(exc)) from None
        except OSError as exc:    # a broken driver install
            raise MeterUnavailable('nvml unavailable: %s' % exc) from None
        self._gpus: List[_Gpu] = []
        skipped = []
        try:
            count = nvml.nvmlDeviceGetCount()
            for i in range(count):
                handle = nvml.nvmlDeviceGetHandleByIndex(i)
                name = nvml.nvmlDeviceGetName(handle)
                if isinstance(name, bytes):
                    name = name.decode('utf-8', 'replace')
                mode = self._probe_mode(handle, use_energy_counter)
                if mode is None:
                    skipped.append('gpu%d (%s): neither energy counter nor power reading' % (
                        i, name))
                    continue
                self._gpus.append(_Gpu(i, handle, str(name), mode))
        except nvml.NVMLError as exc:
            self._shutdown()
            raise MeterUnavailable('nvml unavailable: %s' % nvml_error_text(exc)) from None
        if not self._gpus:
            self._shutdown()
            raise MeterUnavailable('nvml unavailable: %s' % (
                '; '.join(skipped) if skipped else 'no NVIDIA GPU found'))
        self.skipped = skipped
        now_us = int(time.time() * 1e6)
        for gpu in self._gpus:
            gpu.util_ts = now_us
        self._sample(self._clock(), None)    # baseline: joules count from here
        self._last_t = self._clock()

    def _probe_mode(self, handle: Any, use_energy_counter: bool) -> Optional[str]:
        nvml = self._nvml
        if use_energy_counter:
            try:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
                return 'counter'
            except nvml.NVMLError:
                pass
        try:
            nvml.nvmlDeviceGetPowerUsage(handle)
            return 'power'
        except nvml.NVMLError:
            return None

    @property
    def description(self) -> str:
        modes = {'counter': 'energy counter', 'power': 'power integration'}
        gpus = ', '.join('gpu%d %s: %s' % (g.index, g.name, modes[g.mode]) for g in self._gpus)
        plural = '' if len(self._gpus) == 1 else 's'
        return '%d GPU%s (%s)' % (len(self._gpus), plural, gpus)

    @property
    def integrates_power(self) -> bool:
        """Return true when some GPU has no energy counter (its power is integrated)."""
        return any(g.mode == 'power' for g in self._gpus)

    @property
    def modes(self) -> Dict[str, str]:
        """Return ``{'gpu0': 'counter' | 'power', ...}``."""
        return {'gpu%d' % g.index: g.mode for g in self._gpus}

    def _sample(self, now: float, cpu: Optional[CpuSnapshot]) -> Dict[str, float]:
        nvml = self._nvml
        clean = True
        for gpu in self._gpus:
            try:
                if gpu.mode == 'counter':
                    raw = float(nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle))
                    if gpu.last_raw is not None and raw >= gpu.last_raw:
                        gpu.joules += (raw - gpu.last_raw) / 1000.0
                    # raw < last: the driver reset the counter; count from the new value
                else:
                    raw = float(nvml.nvmlDeviceGetPowerUsage(gpu.handle)) / 1000.0
                    if gpu.last_raw is not None and gpu.last_t is not None and now > gpu.last_t:
                        gpu.joules += 0.5 * (raw + gpu.last_raw) * (now - gpu.last_t)
                gpu.last_raw, gpu.last_t = raw, now
            except nvml.NVMLError as exc:
                clean = False
                self._fail('gpu%d: %s' % (gpu.index, nvml_error_text(exc)))
        if clean:
            self.last_error = ''
        return {'gpu%d' % g.index: g.joules for g in self._gpus}

    def part_shares(self, role_of: RoleOf) -> Dict[str, Dict[str, float]]:
        """
        Split each GPU by the SM utilisation of its processes since the previous call.

        A GPU whose driver offers per-process samples but showed none (idle) goes to ``other``;
        a GPU without per-process data is left out, so the caller splits it by CPU share.
        """
        nvml = self._nvml
        out: Dict[str, Dict[str, float]] = {}
        for gpu in self._gpus:
            if not gpu.proc_util:
                continue
            try:
                samples = nvml.nvmlDeviceGetProcessUtilization(gpu.handle, gpu.util_ts)
            except nvml.NVMLError as exc:
                if type(exc).__name__ == 'NVMLError_NotFound':
                    out['gpu%d' % gpu.index] = {'other': 1.0}
                else:        # NotSupported, NoPermission...: fall back to CPU shares for good
                    gpu.proc_util = False
                continue
            weights: Dict[str, float] = {}
            for s in samples:
                gpu.util_ts = max(gpu.util_ts, int(s.timeStamp))
                role = role_of(int(s.pid)) or 'other'
                weights[role] = weights.get(role, 0.0) + float(s.smUtil)
            out['gpu%d' % gpu.index] = weight_shares(weights) or {'other': 1.0}
        return out

    def _shutdown(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down a library that may be half-initialised
            pass

    def close(self) -> None:
        """Shut NVML down."""
        self._shutdown()


# ---------------------------------------------------------------------------------- RAPL
_TOP = re.compile(r'^intel-rapl:(\d+)$')
_SUB = re.compile(r'^intel-rapl:(\d+):(\d+)$')


class _Zone:
    def __init__(self, part: str, path: str, max_range: int) -> None:
        self.part = part
        self.path = path
        self.max_range = max_range
        self.joules = 0.0
        self.last_raw: Optional[int] = None


def _read_text(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def find_rapl_zones(root: str = DEFAULT_RAPL_ROOT, include_dram: bool = True) -> List[Dict]:
    """
    Return the RAPL zones to sum: ``[{'part', 'path', 'max_range'}]``; raise when none.

    Package zones (``intel-rapl:N`` named ``package-N``) plus their ``dram`` sub-zones; ``psys``
    only when there is no package zone (it covers the packages and would count them twice).
    """
    if not os.path.isdir(root):
        raise MeterUnavailable('rapl unavailable: %s does not exist' % root)
    found: Dict[str, str] = {}
    for entry in sorted(os.listdir(root)):
        if _TOP.match(entry) or _SUB.match(entry):
            found[entry] = os.path.join(root, entry)
            nested = os.path.join(root, entry)
            if _TOP.match(entry) and os.path.isdir(nested):
                for sub in sorted(os.listdir(nested)):
                    if _SUB.match(sub) and sub not in found:
                        found[sub] = os.path.join(nested, sub)
    packages, drams, psys = [], [], []
    for entry, path in sorted(found.items()):
        try:
            name = _read_text(os.path.join(path, 'name'))
        except OSError:
            continue
        top = _TOP.match(entry)
        sub = _SUB.match(entry)
        if top and name.startswith('package'):
            packages.append((name if name != 'package' else 'package-%s' % top.group(1), path))
        elif top and name == 'psys':
            psys.append(('psys-%s' % top.group(1), path))
        elif sub and name == 'dram' and include_dram:
            drams.append(('dram-%s' % sub.group(1), path))
    chosen = packages + drams if packages else psys
    if not chosen:
        raise MeterUnavailable('rapl unavailable: no intel-rapl package zone under %s' % root)
    zones = []
    seen = set()
    for part, path in chosen:
        if part in seen:
            part = '%s@%s' % (part, os.path.basename(path))
        seen.add(part)
        try:
            max_range = int(_read_text(os.path.join(path, 'max_energy_range_uj')))
        except (OSError, ValueError):
            max_range = 0
        zones.append({'part': part, 'path': path, 'max_range': max_range})
    return zones


class RaplMeter(Meter):
    """Intel/AMD RAPL counters through the powercap sysfs tree (``root`` for tests)."""

    source = 'rapl'
    scope = 'machine'

    def __init__(self, root: str = DEFAULT_RAPL_ROOT, include_dram: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.root = root
        self._zones = [_Zone(z['part'], z['path'], z['max_range'])
                       for z in find_rapl_zones(root, include_dram)]
        for zone in self._zones:
            path = os.path.join(zone.path, 'energy_uj')
            try:
                zone.last_raw = int(_read_text(path))
            except PermissionError:
                raise MeterUnavailable(
                    'rapl unavailable: permission denied reading %s (energy_uj is root-only since '
                    'Linux 5.10; run as root or grant read access)' % path) from None
            except (OSError, ValueError) as exc:
                raise MeterUnavailable('rapl unavailable: cannot read %s: %s' % (path, exc)) \
                    from None
        self._last_t = self._clock()

    @property
    def description(self) -> str:
        return '%s under %s' % (', '.join(z.part for z in self._zones), self.root)

    def _sample(self, now: float, cpu: Optional[CpuSnapshot]) -> Dict[str, float]:
        clean = True
        for zone in self._zones:
            try:
                raw = int(_read_text(os.path.join(zone.path, 'energy_uj')))
            except (OSError, ValueError) as exc:
                clean = False
                self._fail('%s: %s' % (zone.part, exc))
                continue
            zone.joules += wrapped_delta(zone.last_raw, raw, zone.max_range) / 1e6
            zone.last_raw = raw
        if clean:
            self.last_error = ''
        return {z.part: z.joules for z in self._zones}


def wrapped_delta(last: Optional[int], now: int, max_range: int) -> int:
    """Return the counter increase from ``last`` to ``now``, across at most one wrap."""
    if last is None:
        return 0
    if now >= last:
        return now - last
    if max_range > 0:
        return max_range - last + now
    return 0


# ------------------------------------------------------------------------------ estimate
def tdp_power(tdp_watts: float, load: float) -> float:
    """CodeCarbon-style CPU power: ``tdp x (0.1 + 0.9 load^3)``, load clamped to [0, 1]."""
    load = min(1.0, max(0.0, load))
    return tdp_watts * (0.1 + 0.9 * load ** 3)


class EstimateMeter(Meter):
    """CPU energy estimated from CPU time (psutil); always ``estimated``."""

    source = 'estimate'
    estimated = True

    def __init__(self, model: str = 'cpu_seconds', watts_per_core: float = DEFAULT_WATTS_PER_CORE,
                 tdp_watts: float = 0.0, tracker: Optional[ProcessTracker] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        if model not in ESTIMATE_MODELS:
            raise ConfigError('estimate model %r is not one of %s' % (model,
                                                                      ', '.join(ESTIMATE_MODELS)))
        if not watts_per_core > 0.0:
            raise ConfigError('watts_per_core must be > 0, got %r' % (watts_per_core,))
        if tdp_watts < 0.0:
            raise ConfigError('tdp_watts must be >= 0 (0: watts_per_core x cores), got %r'
                              % (tdp_watts,))
        self.model = model
        self.scope = 'nsvla' if model == 'cpu_seconds' else 'machine'
        # the tdp model's power follows the load of each interval (cubed): not a counter
        self._integrates = model != 'cpu_seconds'
        # CPU times tick at 10 ms (USER_HZ): average power over 0.5 s so it does not flicker
        self.watts_window = 0.5
        self.watts_per_core = float(watts_per_core)
        self._tracker = tracker if tracker is not None else ProcessTracker()
        ncpu = self._tracker.snapshot.ncpu
        self.tdp_watts = float(tdp_watts) if tdp_watts > 0 else self.watts_per_core * ncpu
        self._base: Optional[CpuSnapshot] = None
        self._prev: Optional[CpuSnapshot] = None
        self._joules = 0.0

    @property
    def integrates_power(self) -> bool:
        """Return true for the tdp model (a modelled power per interval), false for CPU seconds."""
        return self._integrates

    @property
    def description(self) -> str:
        if self.model == 'cpu_seconds':
            return ('CPU seconds of nsvla processes x %.1f W per core (flagged estimated)'
                    % self.watts_per_core)
        return ('machine CPU power %.1f W x (0.1 + 0.9 load^3), CodeCarbon model (flagged '
                'estimated)' % self.tdp_watts)

    def _sample(self, now: float, cpu: Optional[CpuSnapshot]) -> Dict[str, float]:
        snap = cpu if cpu is not None else self._tracker.update()
        if self._base is None:
            self._base = self._prev = snap
            return {'cpu': 0.0}
        if self.model == 'cpu_seconds':
            self._joules = self.watts_per_core * max(
                0.0, snap.nsvla_seconds() - self._base.nsvla_seconds())
        else:
            prev = self._prev
            dt = snap.stamp - prev.stamp
            dtotal = snap.machine_total - prev.machine_total
            if dt > 0:
                load = (snap.machine_busy - prev.machine_busy) / dtotal if dtotal > 0 else 0.0
                self._joules += tdp_power(self.tdp_watts, load) * dt
        self._prev = snap
        return {'cpu': self._joules}


# ------------------------------------------------------------------------------ choosing
@dataclass
class MeterSet:
    """The meters in use, the primary ``source`` (first in pick order) and why they were picked."""

    meters: List[Meter]
    reasons: List[str]

    @property
    def source(self) -> str:
        """Return the primary source: ``nvml``, ``rapl`` or ``estimate``."""
        return self.meters[0].source

    @property
    def sources(self) -> List[str]:
        """Return the sources of all meters in use."""
        return [m.source for m in self.meters]

    @property
    def estimated(self) -> bool:
        """Return true when any part of the total is an estimate."""
        return any(m.estimated for m in self.meters)

    @property
    def integrates_power(self) -> bool:
        """Return true when any meter sums power samples (see :attr:`Meter.integrates_power`)."""
        return any(m.integrates_power for m in self.meters)

    def describe(self) -> str:
        """Return one line for logs: what was picked and why."""
        flag = 'estimated' if self.estimated else 'measured'
        return '%s (%s): %s' % ('+'.join(self.sources), flag, '; '.join(self.reasons))

    def close(self) -> None:
        """Close every meter."""
        for meter in self.meters:
            meter.close()


def open_meters(meter: str = 'auto', combine: bool = True, rapl_root: str = DEFAULT_RAPL_ROOT,
                estimate_model: str = 'cpu_seconds',
                watts_per_core: float = DEFAULT_WATTS_PER_CORE, tdp_watts: float = 0.0,
                tracker: Optional[ProcessTracker] = None, nvml: Any = None,
                clock: Callable[[], float] = time.monotonic) -> MeterSet:
    """
    Open the meter(s): ``auto`` tries NVML, then RAPL, then the estimate.

    ``combine``: when NVML measures the GPUs, add the CPU meter (RAPL, else the estimate) next to
    it. Naming one meter (``nvml``, ``rapl``, ``estimate``) raises MeterUnavailable if it cannot
    run, instead of falling back.
    """
    if meter not in METER_CHOICES:
        raise ConfigError('meter %r is not one of %s' % (meter, ', '.join(METER_CHOICES)))
    reasons: List[str] = []
    meters: List[Meter] = []

    def estimate() -> EstimateMeter:
        return EstimateMeter(estimate_model, watts_per_core, tdp_watts, tracker, clock)

    if meter == 'estimate':
        est = estimate()
        return MeterSet([est], ['estimate requested: ' + est.description])
    try:
        return _pick(meter, combine, rapl_root, nvml, clock, estimate, meters, reasons)
    except Exception:
        MeterSet(meters, reasons).close()     # an NVML meter opened before a failure
        raise


def _pick(meter: str, combine: bool, rapl_root: str, nvml: Any, clock: Callable[[], float],
          estimate: Callable[[], Meter], meters: List[Meter], reasons: List[str]) -> MeterSet:
    if meter in ('auto', 'nvml'):
        try:
            gpu = NvmlMeter(nvml=nvml, clock=clock)
            meters.append(gpu)
            reasons.append('nvml picked: ' + gpu.description)
        except MeterUnavailable as exc:
            if meter == 'nvml':
                raise
            reasons.append(str(exc))
        if meters and not combine:
            return MeterSet(meters, reasons)
    cpu_role = 'added for the CPU' if meters else 'picked'
    try:
        rapl = RaplMeter(rapl_root, clock=clock)
        meters.append(rapl)
        reasons.append('rapl %s: %s' % (cpu_role, rapl.description))
    except MeterUnavailable as exc:
        if meter == 'rapl':
            raise
        reasons.append(str(exc))
        est = estimate()
        meters.append(est)
        reasons.append('estimate %s: %s' % (cpu_role, est.description))
    return MeterSet(meters, reasons)

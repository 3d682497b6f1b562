# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The power monitor's logic without ROS: read meters, attribute to nodes, account episodes.

:class:`PowerMonitor` is what the power-monitor node, the ``energy-probe`` CLI and the overhead
benchmark all run. ``tick()`` reads every meter once, splits each meter's new joules between the
node roles (GPU by process where NVML says, otherwise by CPU share) and returns a cumulative
:class:`~nsvla_energy.episodes.EnergySnapshot`; ``on_status()`` takes one ``execution_status``
event, reads the meters at that instant and returns the episode record at an episode end. The
dicts it returns are turned into messages by :mod:`nsvla_energy.messages`.
"""

import time
from typing import Any, Callable, Dict, List, Optional

from nsvla_common import envelope
from nsvla_common.errors import ValidationError
from nsvla_energy.attribution import (cpu_shares, CpuSnapshot, delta, ProcessTracker, ROLES,
                                      split, zero_roles)
from nsvla_energy.csvlog import CsvLog
from nsvla_energy.episodes import EnergySnapshot, EpisodeAccountant, parse_status
from nsvla_energy.meters import MeterSet, open_meters, Reading, WATTS_WINDOW_S

POWER_NAME = 'power'
ENERGY_NAME = 'energy'


class PowerMonitor:
    """
    Meters + process tracker + episode accountant + optional CSV log.

    Build one with :meth:`open` (picks the meters) or pass a ready :class:`MeterSet` and the
    :class:`ProcessTracker` its estimate meter shares (tests, benchmarks).
    """

    def __init__(self, meters: MeterSet, tracker: ProcessTracker,
                 csv_path: Optional[str] = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.meters = meters
        self.tracker = tracker
        self._clock = clock
        self._wall = wall
        self.accountant = EpisodeAccountant()
        self.csv: Optional[CsvLog] = None
        self.ticks = 0
        self.malformed = 0
        self._t0 = self._prev_t = clock()
        self._per_node = zero_roles()
        self._per_node_watts = zero_roles()
        self._watts_ref = zero_roles()
        tracker.machine_times = any(m.scope != 'nsvla' for m in meters.meters)
        # Baselines: every meter and the CPU tracker are read once now; energy counts from here.
        self._cpu_prev: CpuSnapshot = tracker.update()
        self._prev: Dict[str, Reading] = {}
        for meter in meters.meters:
            self._prev[meter.source] = meter.read(self._cpu_prev)
        self._base = dict(self._prev)
        self.last = self._snapshot(self._t0)
        if csv_path:
            self.csv = CsvLog(csv_path, meters.sources)

    @classmethod
    def open(cls, meter: str = 'auto', combine: bool = True, csv_path: Optional[str] = None,
             rescan_period: float = 2.0, include_self: bool = False, nvml: Any = None,
             domain: Optional[str] = None, **meter_kwargs: Any) -> 'PowerMonitor':
        """
        Pick the meters (see :func:`~nsvla_energy.meters.open_meters`) and start monitoring.

        ``domain``: count only the nsvla processes of this ROS domain (None: all of them).
        """
        tracker = ProcessTracker(rescan_period=rescan_period, include_self=include_self,
                                 domain=domain)
        meters = open_meters(meter, combine, tracker=tracker, nvml=nvml, **meter_kwargs)
        try:
            return cls(meters, tracker, csv_path)
        except Exception:
            meters.close()
            raise

    # ------------------------------------------------------------------ reading
    def _snapshot(self, now: float) -> EnergySnapshot:
        """Return the state now; joules count from the monitor's start, like the per-node ones."""
        sources = {}
        for name, reading in self._prev.items():
            base = self._base[name]
            sources[name] = {
                'source': name, 'joules': reading.joules - base.joules, 'watts': reading.watts,
                'estimated': reading.estimated,
                'parts': {p: j - base.parts.get(p, 0.0) for p, j in reading.parts.items()}}
        return EnergySnapshot(
            t=now - self._t0, stamp=self._wall(), source=self.meters.source,
            estimated=self.meters.estimated, joules=sum(s['joules'] for s in sources.values()),
            watts=sum(s['watts'] for s in sources.values()),
            per_node=dict(self._per_node), per_node_watts=dict(self._per_node_watts),
            sources=sources)

    def tick(self, event: Optional[Dict[str, Any]] = None) -> EnergySnapshot:
        """Read all meters now, attribute the new energy, log a CSV row; return the snapshot."""
        cpu = self.tracker.update()
        now = self._clock()
        d_roles = delta(cpu.per_role, self._cpu_prev.per_role)
        d_busy = cpu.machine_busy - self._cpu_prev.machine_busy
        dt = now - self._prev_t
        self._cpu_prev = cpu
        gained = zero_roles()
        for meter in self.meters.meters:
            reading = meter.read(cpu)
            old = self._prev[meter.source]
            known = meter.part_shares(self.tracker.role_of) if meter.scope == 'gpu' else {}
            fallback = None
            for part, joules in reading.parts.items():
                d_j = joules - old.parts.get(part, 0.0)
                if d_j == 0.0:
                    continue
                shares = known.get(part)
                if shares is None:
                    if fallback is None:
                        fallback = cpu_shares(d_roles, d_busy, meter.scope)
                    shares = fallback
                for role, j in split(d_j, shares).items():
                    gained[role] = gained.get(role, 0.0) + j
            self._prev[meter.source] = reading
        for role, j in gained.items():
            self._per_node[role] = self._per_node.get(role, 0.0) + j
        if dt >= WATTS_WINDOW_S:     # a read right after another keeps the last per-node power
            for role in set(self._per_node) | set(self._watts_ref):
                self._per_node_watts[role] = (self._per_node.get(role, 0.0)
                                              - self._watts_ref.get(role, 0.0)) / dt
            self._watts_ref = dict(self._per_node)
            self._prev_t = now
        self.last = self._snapshot(now)
        self.ticks += 1
        if self.csv is not None:
            self.csv.write(self.last, event)
        return self.last

    def on_status(self, message: Any,
                  convert: Optional[Callable[[Any], Any]] = None) -> Optional[Dict[str, Any]]:
        """
        Account one ``execution_status`` event; return the record at ``episode_end``.

        ``message`` is the event dict (or its JSON text); ``convert``, when given, first turns
        a typed message into that dict (the node passes
        :func:`nsvla_planner.messages.event_from_msg`). Whatever goes wrong with the input, in
        the conversion, the validation or the accounting (an end without a start), is counted
        in ``malformed`` and raised as ValidationError: the caller logs it and goes on. A meter
        that fails to read raises its own error, not counted.
        """
        try:
            status = parse_status(convert(message) if convert is not None else message)
        except Exception as exc:  # noqa: BLE001 - outside input: any failure is a rejection
            raise self._rejected(exc) from None
        snap = self.tick(event=status)
        try:
            return self.accountant.handle(status, snap)
        except Exception as exc:  # noqa: BLE001 - an event that does not fit its episode
            raise self._rejected(exc) from None

    def _rejected(self, exc: Exception) -> ValidationError:
        """Count one rejected event; return the ValidationError that names why."""
        self.malformed += 1
        if isinstance(exc, ValidationError):
            return exc
        return ValidationError('%s: %s' % (type(exc).__name__, exc))

    # ------------------------------------------------------------------ messages
    def power_message(self, snap: Optional[EnergySnapshot] = None) -> Dict[str, Any]:
        """Return the ``nsvla/power/1`` object: watts in total, per source and per node."""
        snap = snap or self.last
        return envelope.make(POWER_NAME, {
            'source': snap.source, 'estimated': snap.estimated, 'watts': snap.watts,
            'sources': {name: {'watts': r['watts'], 'estimated': r['estimated']}
                        for name, r in snap.sources.items()},
            'per_node': {role: snap.per_node_watts.get(role, 0.0) for role in ROLES},
        }, stamp=snap.stamp)

    def energy_message(self, snap: Optional[EnergySnapshot] = None) -> Dict[str, Any]:
        """Return the ``nsvla/energy/1`` object: joules since start per source and per node."""
        snap = snap or self.last
        return envelope.make(ENERGY_NAME, {
            'source': snap.source, 'estimated': snap.estimated, 'joules': snap.joules,
            'watts': snap.watts, 'elapsed_s': snap.t,
            'sources': {name: dict(r) for name, r in snap.sources.items()},
            'per_node': {role: snap.per_node.get(role, 0.0) for role in ROLES},
            'why': list(self.meters.reasons),
        }, stamp=snap.stamp)

    def errors(self) -> List[str]:
        """Return the transient read errors of the meters' last reads."""
        return ['%s: %s' % (m.source, m.last_error) for m in self.meters.meters if m.last_error]

    def close(self) -> None:
        """Close the CSV log and the meters."""
        if self.csv is not None:
            self.csv.close()
        self.meters.close()

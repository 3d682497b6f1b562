# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
An estimate of the CPU energy this process spends: CPU seconds x watts per busy core.

These machines expose neither RAPL (``/sys/class/powercap``) nor NVML, so training and the bench
report ``estimated`` joules: the process's user + system CPU time (psutil, children included)
times ``watts_per_core`` (``config/perception.yaml``, 10 W by default, the project's default for
one busy core). Every result says ``"estimated": true`` and how it was made.
"""

import time
from typing import Any, Dict

import psutil


def _cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system + getattr(t, 'children_user', 0.0)
                 + getattr(t, 'children_system', 0.0))


class CpuEnergyEstimate:
    """Measure CPU seconds and wall time between :meth:`start` and :meth:`read`."""

    def __init__(self, watts_per_core: float = 10.0) -> None:
        self.watts_per_core = float(watts_per_core)
        self._proc = psutil.Process()
        self.start()

    def start(self) -> None:
        """Restart the measurement."""
        self._cpu0 = _cpu_seconds(self._proc)
        self._wall0 = time.perf_counter()

    def read(self) -> Dict[str, Any]:
        """Return CPU seconds, wall seconds and estimated joules since :meth:`start`."""
        cpu = _cpu_seconds(self._proc) - self._cpu0
        wall = time.perf_counter() - self._wall0
        return {'cpu_seconds': round(cpu, 3), 'wall_seconds': round(wall, 3),
                'joules': round(cpu * self.watts_per_core, 2), 'estimated': True,
                'method': 'psutil CPU seconds x %.1f W per busy core (no RAPL/NVML here)'
                          % self.watts_per_core}

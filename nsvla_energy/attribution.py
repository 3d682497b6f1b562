# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Which nsvla process is which node, how much CPU each used, and how to split energy by it.

A process is recognised by its command line: the console scripts (``planner_node``,
``sim_node``, ``perception_node``, ``executor_node``, ``power_monitor_node``), a module run with
``python -m nsvla_planner.planner_node`` (any module of an nsvla package), or a script path such
as ``python nsvla_planner/planner_node.py``. CPU time of a process includes its reaped children
(``children_user`` + ``children_system``), so the planner's short-lived Fast Downward
sub-processes count as planning once they exit.

Process discovery (reading command lines) runs every ``rescan_period`` seconds; in between, an
update reads only the CPU times of the known nsvla processes and ``/proc/stat``, which keeps a
10 Hz monitor well under 1 % of a core. With ``domain`` set, only processes whose
``ROS_DOMAIN_ID`` is that one (unset reads as ``0``) count: the nodes of another graph on the
same machine (another demo, a test) are not this graph's energy. A process whose environment
cannot be read counts.
"""

from dataclasses import dataclass, field
import os
import time
from typing import Callable, Dict, Iterable, Mapping, Optional, Sequence

import psutil

# Node roles, in the order they appear in messages and CSV columns. ``other`` is everything the
# meter saw that no nsvla process explains (other programs, idle power of the machine or GPU).
ROLES = ('perception', 'planning', 'control', 'simulation', 'monitor', 'other')
NODE_ROLES = ROLES[:-1]

# console script name -> role
SCRIPT_ROLES = {
    'perception_node': 'perception',
    'planner_node': 'planning',
    'executor_node': 'control',
    'sim_node': 'simulation',
    'power_monitor_node': 'monitor',
}
# package (first part of a module name or of a script path) -> role
PACKAGE_ROLES = {
    'nsvla_perception': 'perception',
    'nsvla_planner': 'planning',
    'nsvla_control': 'control',
    'nsvla_sim': 'simulation',
    'nsvla_energy': 'monitor',
}
# interpreter options that take a value in the next token
_PY_OPTS_WITH_VALUE = {'-W', '-X', '--check-hash-based-pycs'}


def _role_of_module(module: str) -> Optional[str]:
    last = module.rsplit('.', 1)[-1]
    if last in SCRIPT_ROLES:
        return SCRIPT_ROLES[last]
    return PACKAGE_ROLES.get(module.split('.', 1)[0])


def _role_of_script(path: str) -> Optional[str]:
    base = os.path.basename(path)
    if base.endswith('.py'):
        base = base[:-3]
    if base in SCRIPT_ROLES:
        return SCRIPT_ROLES[base]
    parent = os.path.basename(os.path.dirname(path))
    if parent in PACKAGE_ROLES and base.endswith('_node'):
        return PACKAGE_ROLES[parent]
    return None


def classify_cmdline(cmdline: Sequence[str]) -> Optional[str]:
    """
    Return the node role of a command line, or None when it is not an nsvla node.

    Only the program itself counts: ``python -m nsvla_planner.planner_node``,
    ``python /venv/bin/planner_node --ros-args ...`` and ``/venv/bin/planner_node`` are planning;
    ``grep planner_node`` or ``python -c ... planner_node`` are not.
    """
    if not cmdline:
        return None
    prog = os.path.basename(cmdline[0])
    if not prog.startswith('python'):
        return _role_of_script(cmdline[0])
    i = 1
    while i < len(cmdline):
        tok = cmdline[i]
        if tok == '-m':
            return _role_of_module(cmdline[i + 1]) if i + 1 < len(cmdline) else None
        if tok.startswith('-m') and len(tok) > 2:
            return _role_of_module(tok[2:])
        if tok.startswith('-c'):
            return None
        if tok in _PY_OPTS_WITH_VALUE:
            i += 2
            continue
        if tok.startswith('-'):
            i += 1
            continue
        return _role_of_script(tok)
    return None


def domain_id(environ: Mapping[str, str]) -> str:
    """Return the ROS domain of an environment (``ROS_DOMAIN_ID``; unset or empty is ``0``)."""
    return str(environ.get('ROS_DOMAIN_ID', '') or '0').strip() or '0'


@dataclass
class CpuSnapshot:
    """Cumulative CPU seconds since the tracker started, per role and for the whole machine."""

    stamp: float                         # monotonic seconds
    per_role: Dict[str, float]           # CPU seconds of the nsvla processes of each role
    machine_busy: float                  # busy CPU seconds of all cores (non-idle, non-iowait)
    machine_total: float                 # all CPU seconds of all cores (busy + idle)
    ncpu: int = 1
    processes: Dict[int, str] = field(default_factory=dict)  # live nsvla pid -> role

    def nsvla_seconds(self) -> float:
        """Return the CPU seconds of all nsvla processes together."""
        return sum(self.per_role.get(r, 0.0) for r in NODE_ROLES)


def _machine_times(ps) -> tuple:
    t = ps.cpu_times()
    total = sum(t)
    idle = getattr(t, 'idle', 0.0) + getattr(t, 'iowait', 0.0)
    return total - idle, total


class ProcessTracker:
    """
    Accumulate CPU seconds of nsvla processes per role (pure: psutil only, no ROS).

    ``pids`` pins explicit pids to roles (tests, processes started in odd ways). ``include_self``
    counts this process under ``self_role`` whatever its command line is (the energy-probe CLI).
    Set ``machine_times`` False when no meter needs the whole machine's busy time.
    """

    def __init__(self, classify: Callable[[Sequence[str]], Optional[str]] = classify_cmdline,
                 pids: Optional[Mapping[int, str]] = None, include_self: bool = False,
                 self_role: str = 'monitor', rescan_period: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, ps=psutil,
                 domain: Optional[str] = None) -> None:
        self._classify = classify
        self.domain = None if domain is None else domain_id({'ROS_DOMAIN_ID': domain})
        self._pinned = dict(pids or {})
        if include_self:
            self._pinned.setdefault(os.getpid(), self_role)
        for role in self._pinned.values():
            if not role:
                raise ValueError('pinned pids need a role name')
        self.rescan_period = float(rescan_period)
        self._clock = clock
        self._ps = ps
        try:
            self._initial = set(ps.pids())    # alive at start: their CPU counts from the start
        except OSError:
            self._initial = set()
        self._seen: Dict[int, Optional[str]] = {}     # every pid looked at -> role or None
        self._tracked: Dict[int, list] = {}           # pid -> [Process, role, last_cpu]
        self._per_role: Dict[str, float] = {r: 0.0 for r in ROLES}
        self._last_scan = -1e18
        self._ncpu = ps.cpu_count() or 1
        # Whole-machine CPU times (/proc/stat, costly to generate: it lists every interrupt) are
        # read only while a meter needs them (machine-scope meters: RAPL, TDP model, GPUs).
        self.machine_times = True
        self._busy0, self._total0 = self._busy, self._total = _machine_times(ps)
        self._snapshot: Optional[CpuSnapshot] = None

    # ------------------------------------------------------------------ discovery
    def _role(self, proc) -> Optional[str]:
        if proc.pid in self._pinned:
            return self._pinned[proc.pid]
        try:
            role = self._classify(proc.cmdline())
            if role is None or self.domain is None:
                return role
            try:
                env = proc.environ()
            except self._ps.AccessDenied:    # another user's process: cannot tell, count it
                return role
            return role if domain_id(env) == self.domain else None
        except (self._ps.NoSuchProcess, self._ps.AccessDenied, self._ps.ZombieProcess):
            return None

    def _track(self, pid: int, role: str) -> None:
        try:
            proc = self._ps.Process(pid)
            t = proc.cpu_times()
        except (self._ps.NoSuchProcess, self._ps.AccessDenied, self._ps.ZombieProcess):
            return
        cpu = t.user + t.system + t.children_user + t.children_system
        # A process born after the tracker started counts from its birth, older ones from now.
        self._tracked[pid] = [proc, role, cpu if pid in self._initial else 0.0]

    def rescan(self) -> None:
        """Look for new nsvla processes now (reads the command lines of unseen pids only)."""
        self._last_scan = self._clock()
        try:
            live = set(self._ps.pids())
        except OSError:
            return
        for pid in list(self._seen):
            if pid not in live:
                del self._seen[pid]
        for pid in sorted(live - set(self._seen)):
            if pid in self._pinned:
                role: Optional[str] = self._pinned[pid]
            else:
                try:
                    role = self._role(self._ps.Process(pid))
                except (self._ps.NoSuchProcess, self._ps.AccessDenied, self._ps.ZombieProcess):
                    continue
            self._seen[pid] = role
            if role and pid not in self._tracked:
                self._track(pid, role)

    # ------------------------------------------------------------------ sampling
    def update(self) -> CpuSnapshot:
        """Read the CPU times now and return the cumulative snapshot."""
        now = self._clock()
        if now - self._last_scan >= self.rescan_period:
            self.rescan()
        for pid, entry in list(self._tracked.items()):
            proc, role, last = entry
            try:
                t = proc.cpu_times()
            except (self._ps.NoSuchProcess, self._ps.AccessDenied, self._ps.ZombieProcess):
                del self._tracked[pid]
                continue
            cpu = t.user + t.system + t.children_user + t.children_system
            if cpu >= last:
                self._per_role[role] = self._per_role.get(role, 0.0) + (cpu - last)
            entry[2] = cpu
        if self.machine_times:
            self._busy, self._total = _machine_times(self._ps)
        busy, total = self._busy, self._total
        self._snapshot = CpuSnapshot(
            stamp=now, per_role=dict(self._per_role),
            machine_busy=max(0.0, busy - self._busy0),
            machine_total=max(0.0, total - self._total0),
            ncpu=self._ncpu, processes={pid: e[1] for pid, e in self._tracked.items()})
        return self._snapshot

    @property
    def snapshot(self) -> CpuSnapshot:
        """Return the latest CPU snapshot; update once when there is none yet."""
        return self._snapshot if self._snapshot is not None else self.update()

    def pid_roles(self) -> Dict[int, Optional[str]]:
        """Return every pid seen so far with its role (None for a process that is not nsvla)."""
        out = dict(self._seen)
        out.update({pid: e[1] for pid, e in self._tracked.items()})
        return out

    def role_of(self, pid: int) -> Optional[str]:
        """Return the role of a pid (None when unknown or not an nsvla process)."""
        entry = self._tracked.get(pid)
        if entry is not None:
            return entry[1]
        return self._pinned.get(pid, self._seen.get(pid))

    def tracked(self) -> Dict[int, str]:
        """Return the live nsvla processes being followed: pid -> role."""
        return {pid: e[1] for pid, e in self._tracked.items()}


# ---------------------------------------------------------------------- splitting energy
def delta(new: Mapping[str, float], old: Mapping[str, float]) -> Dict[str, float]:
    """Return ``new - old`` per key (missing keys count as zero)."""
    keys = set(new) | set(old)
    return {k: float(new.get(k, 0.0)) - float(old.get(k, 0.0)) for k in keys}


def cpu_shares(role_seconds: Mapping[str, float], machine_busy: float,
               scope: str = 'machine') -> Dict[str, float]:
    """
    Return the fraction of an energy interval owed to each role (fractions sum to 1).

    ``role_seconds`` are the CPU seconds each role used in the interval. For a meter whose scope
    is the whole machine (RAPL, a TDP model, a GPU without per-process data) the rest of the busy
    CPU time, and all of an idle interval, goes to ``other``. For a meter that only counts nsvla
    processes (scope ``nsvla``) the fractions are shares of the nsvla CPU time alone.
    """
    used = {r: max(0.0, float(role_seconds.get(r, 0.0))) for r in NODE_ROLES}
    nsvla = sum(used.values())
    if scope == 'nsvla':
        if nsvla <= 0.0:
            return {'other': 1.0}
        return {r: s / nsvla for r, s in used.items() if s > 0.0}
    denom = max(float(machine_busy), nsvla)
    if denom <= 0.0:
        return {'other': 1.0}
    out = {r: s / denom for r, s in used.items() if s > 0.0}
    rest = 1.0 - sum(out.values())
    if rest > 1e-12:
        out['other'] = rest
    return out


def weight_shares(weights: Mapping[str, float]) -> Dict[str, float]:
    """Normalise non-negative weights per role to fractions; empty when all are zero."""
    pos = {k: float(v) for k, v in weights.items() if v and v > 0}
    total = sum(pos.values())
    return {k: v / total for k, v in pos.items()} if total > 0 else {}


def split(joules: float, shares: Mapping[str, float]) -> Dict[str, float]:
    """Split ``joules`` by ``shares``; an empty share map gives everything to ``other``."""
    if not shares:
        return {'other': joules}
    return {role: joules * frac for role, frac in shares.items()}


def zero_roles(roles: Iterable[str] = ROLES) -> Dict[str, float]:
    """Return ``{role: 0.0}`` for every role (stable keys for messages and CSV)."""
    return {r: 0.0 for r in roles}

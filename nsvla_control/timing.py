# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Time-parameterise a joint path under per-joint velocity and acceleration limits.

The path is a dense polyline in joint space. Its progress variable ``s`` is measured in seconds
at full speed: a segment lasts ``max_j |dq_j| / vmax_j``, so moving along ``s`` at unit rate
keeps every joint at or under its velocity limit. Along ``s`` a trapezoidal (or triangular)
profile with rate acceleration ``min_j amax_j / vmax_j`` starts and ends at rest. Joint
velocities at the samples are ``dq/ds * ds/dt``, given to the controller so it interpolates with
cubic splines. Pure numpy.
"""

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ValidationError


@dataclass
class TimedPath:
    """Samples of a time-parameterised path: times (s), positions and velocities per sample."""

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0


def densify(points: Sequence[Sequence[float]], max_step: float = 0.02) -> np.ndarray:
    """Insert samples so that no joint moves more than ``max_step`` rad between samples."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or len(pts) == 0:
        raise ValidationError('a joint path needs at least one point of joint positions')
    out: List[np.ndarray] = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(1, int(np.ceil(np.max(np.abs(b - a)) / max_step)))
        for k in range(1, n + 1):
            out.append(a + (b - a) * (k / n))
    return np.array(out)


def checked_limits(dof: int, vmax: Sequence[float], amax: Sequence[float]
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """Return ``vmax`` and ``amax`` as arrays; refuse a wrong count or a limit that is not > 0."""
    vmax_a = np.asarray(vmax, dtype=float)
    amax_a = np.asarray(amax, dtype=float)
    if vmax_a.shape != (dof,) or amax_a.shape != (dof,):
        raise ValidationError('need one velocity and one acceleration limit per joint (%d)'
                              % dof)
    if np.any(vmax_a <= 0) or np.any(amax_a <= 0):
        raise ValidationError('velocity and acceleration limits must be positive')
    return vmax_a, amax_a


def _s_of_t_inverse(s: np.ndarray, total: float, accel: float) -> np.ndarray:
    """Return the times at which a unit-speed trapezoid (rate accel ``accel``) reaches ``s``."""
    t_acc = 1.0 / accel
    s_acc = 0.5 * accel * t_acc ** 2
    if total >= 2 * s_acc:
        cruise = total - 2 * s_acc
        t_total = 2 * t_acc + cruise
        t = np.where(s <= s_acc, np.sqrt(2 * s / accel),
                     np.where(s <= s_acc + cruise, t_acc + (s - s_acc),
                              t_total - np.sqrt(np.maximum(0.0, 2 * (total - s) / accel))))
    else:
        peak_t = np.sqrt(total / accel)
        t_total = 2 * peak_t
        half = total / 2
        t = np.where(s <= half, np.sqrt(2 * s / accel),
                     t_total - np.sqrt(np.maximum(0.0, 2 * (total - s) / accel)))
    return t


def time_parameterise(points: Sequence[Sequence[float]], vmax: Sequence[float],
                      amax: Sequence[float], max_step: float = 0.02) -> TimedPath:
    """Return a rest-to-rest timing of the joint path that respects ``vmax`` and ``amax``."""
    q = densify(points, max_step)
    vmax_a, amax_a = checked_limits(q.shape[1], vmax, amax)
    seg = np.max(np.abs(np.diff(q, axis=0)) / vmax_a, axis=1) if len(q) > 1 else np.zeros(0)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(s[-1])
    if total <= 0.0:
        return TimedPath(np.zeros(1), q[:1], np.zeros((1, q.shape[1])))
    accel = float(np.min(amax_a / vmax_a))
    t = _s_of_t_inverse(s, total, accel)
    # keep times strictly increasing (samples that coincide in s are dropped)
    keep = np.concatenate([[True], np.diff(t) > 1e-9])
    t, q, s = t[keep], q[keep], s[keep]
    # joint velocity = dq/ds * ds/dt; ds/dt from the profile, dq/ds by central differences
    sdot = np.gradient(s, t) if len(t) > 1 else np.zeros(1)
    sdot[0] = sdot[-1] = 0.0
    dq_ds = np.gradient(q, s, axis=0) if len(s) > 1 else np.zeros_like(q)
    vel = dq_ds * np.clip(sdot, 0.0, 1.0)[:, None]
    vel = np.clip(vel, -vmax_a, vmax_a)
    return TimedPath(t, q, vel)


def limit_demand(path: TimedPath, vmax: Sequence[float], amax: Sequence[float]) -> float:
    """
    Return how far ``path`` goes beyond ``vmax`` / ``amax`` (1.0: exactly at the limits).

    Velocities are the samples'; accelerations are lower bounds any smooth motion through the
    samples needs: the velocity change over a segment, and twice the gap between a segment's
    mean velocity and the velocity at either end, over its duration. A controller that checks
    limits (the embedded sim, the Franka reflex) refuses a path whose demand is over 1.
    """
    v = np.asarray(path.velocities, float)
    q = np.asarray(path.positions, float)
    t = np.asarray(path.times, float)
    vmax_a, amax_a = np.asarray(vmax, float), np.asarray(amax, float)
    demand = float(np.max(np.abs(v) / vmax_a)) if v.size else 0.0
    if len(t) < 2:
        return demand
    dt = np.diff(t)[:, None]
    ok = dt[:, 0] > 1e-9
    if not np.any(ok):
        return demand
    dt = dt[ok]
    u = (np.diff(q, axis=0)[ok]) / dt
    va, vb = v[:-1][ok], v[1:][ok]
    acc = np.maximum.reduce([np.abs(vb - va), 2 * np.abs(u - va), 2 * np.abs(u - vb)]) / dt
    return max(demand, float(np.max(np.abs(u) / vmax_a)), float(np.max(acc / amax_a)))


def within_limits(path: TimedPath, vmax: Sequence[float], amax: Sequence[float],
                  margin: float = 0.95) -> TimedPath:
    """
    Stretch ``path`` in time until its demand (:func:`limit_demand`) is at most ``margin``.

    Slowing down by k divides velocities by k and accelerations by k^2; the path (positions)
    is unchanged. The rest-to-rest timing can overshoot the acceleration limit at a kink of the
    joint path (a grasp yaw turn); this makes every trajectory the executor sends one a
    limit-checking controller accepts.
    """
    demand = limit_demand(path, vmax, amax)
    if demand <= margin:
        return path
    k = 1.0
    for _ in range(20):
        k *= max(1.05, math.sqrt(demand / margin))
        scaled = TimedPath(path.times * k, path.positions, path.velocities / k)
        demand = limit_demand(scaled, vmax, amax)
        if demand <= margin:
            return scaled
    raise ValidationError('cannot time the path within the joint limits (demand %.2f)'
                          % demand)


# How a joint path is timed (the executor's ``time_parameterization`` parameter): today's
# trapezoid along the path, or toppra's time-optimal parameterisation under the same limits
# (nsvla_control.timing_toppra, needs ``pip install toppra``).
TIME_PARAMETERIZATIONS = ('trapezoid', 'toppra')


def timed_within_limits(points: Sequence[Sequence[float]], vmax: Sequence[float],
                        amax: Sequence[float], method: str = 'trapezoid',
                        max_step: float = 0.02) -> TimedPath:
    """Time the joint path with ``method`` and stretch it until :func:`within_limits` holds."""
    if method == 'trapezoid':
        timed = time_parameterise(points, vmax, amax, max_step)
    elif method == 'toppra':
        from nsvla_control.timing_toppra import time_parameterise_toppra
        timed = time_parameterise_toppra(points, vmax, amax, max_step)
    else:
        raise ValidationError('unknown time parameterization %r (choose from %s)'
                              % (method, ', '.join(TIME_PARAMETERIZATIONS)))
    return within_limits(timed, vmax, amax)

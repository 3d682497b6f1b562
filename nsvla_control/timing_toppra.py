# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Time-optimal timing of a joint path with toppra (``pip install toppra``; optional).

The dense joint path (:func:`nsvla_control.timing.densify`, the trapezoid's samples) is
interpolated by a cubic spline in the same progress variable ``s`` (seconds at full speed).
TOPP-RA finds the fastest ``ds/dt`` at every sample under the joint velocity and acceleration
limits, with ``q'' sd^2 + q' sdd`` in the acceleration, so it slows down where the path bends (a
grasp yaw turn followed by a straight line) and runs at the limits where it is straight; the
trapezoid ignores curvature and is stretched as a whole instead. Times between samples follow
from constant ``sdd`` per interval; velocities are ``q'(s) ds/dt``. Start and end at rest.

toppra is imported when this module is, so import it only when asked for
(``time_parameterization: toppra``); the rest of the stack never needs it.
"""

from typing import Sequence

import numpy as np
import toppra
import toppra.algorithm
import toppra.constraint

from nsvla_common.errors import ValidationError
from nsvla_control.timing import checked_limits, densify, TimedPath

# toppra meets its limits at the samples of its spline; the executor's check (finite
# differences between samples, 5 % under the limits) is a little stricter, so ask for less.
HEADROOM = 0.94
# toppra's grid has this many points per sample: its spline model of a sharp bend (a yaw turn
# then a straight line) needs them; the samples sent keep the trapezoid's spacing.
REFINE = 4

toppra.setup_logging('WARNING')


def time_parameterise_toppra(points: Sequence[Sequence[float]], vmax: Sequence[float],
                             amax: Sequence[float], max_step: float = 0.02,
                             headroom: float = HEADROOM, refine: int = REFINE) -> TimedPath:
    """Return the time-optimal rest-to-rest timing of the joint path under ``vmax``, ``amax``."""
    q = densify(points, max_step)
    vmax_a, amax_a = checked_limits(q.shape[1], vmax, amax)
    if len(q) > 1:
        step = np.max(np.abs(np.diff(q, axis=0)) / vmax_a, axis=1)
        keep = np.concatenate([[True], step > 1e-12])
        q, step = q[keep], step[keep[1:]]
    else:
        step = np.zeros(0)
    if len(q) < 2:
        return TimedPath(np.zeros(1), q[:1], np.zeros((1, q.shape[1])))
    if len(q) == 2:   # a spline and a rest-to-rest profile need a sample in between
        q = np.array([q[0], (q[0] + q[1]) / 2, q[1]])
        step = np.repeat(step / 2, 2)
    s = np.concatenate([[0.0], np.cumsum(step)])
    path = toppra.SplineInterpolator(s, q)
    vlim = np.stack([-vmax_a, vmax_a], axis=1) * headroom
    alim = np.stack([-amax_a, amax_a], axis=1) * headroom
    constraints = [
        toppra.constraint.JointVelocityConstraint(vlim),
        toppra.constraint.JointAccelerationConstraint(
            alim, discretization_scheme=toppra.constraint.DiscretizationType.Interpolation)]
    fine = np.interp(np.arange((len(s) - 1) * refine + 1) / refine, np.arange(len(s)), s)
    algo = toppra.algorithm.TOPPRA(constraints, path, gridpoints=fine, solver_wrapper='seidel')
    _sdd, sd, _v = algo.compute_parameterization(0.0, 0.0)
    if sd is None or np.any(~np.isfinite(sd)):
        raise ValidationError('toppra found no timing of the path within the joint limits')
    sd = np.maximum(np.asarray(sd, float), 0.0)
    sd[0] = sd[-1] = 0.0
    mean = sd[:-1] + sd[1:]
    if np.any(mean <= 0.0):
        raise ValidationError('toppra stops inside the path: no timing within the limits')
    t = np.concatenate([[0.0], np.cumsum(2.0 * np.diff(fine) / mean)])[::refine]
    sd = sd[::refine]
    vel = np.asarray(path(s, 1), float) * sd[:, None]
    vel[0] = vel[-1] = 0.0
    return TimedPath(t, q, np.clip(vel, -vmax_a, vmax_a))

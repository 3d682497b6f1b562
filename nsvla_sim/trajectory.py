# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Joint trajectories: validation and following, as ros2_control's joint_trajectory_controller.

Pure Python + numpy (no rclpy): the sim node converts a ``trajectory_msgs/JointTrajectory`` into
``validate_trajectory(controller, joint_names, points)`` and hands the result to a
:class:`TrajectoryFollower`.

Rules (a violation raises :class:`TrajectoryError`, a ``ValidationError``, whose message is the
reason; the running motion is then left untouched, so an idle arm holds still):

- joint names: none empty, no duplicates, no unknown names, every joint of the controller named
  (the arm needs all seven; the gripper takes ``panda_finger_joint1`` and/or
  ``panda_finger_joint2``, which are coupled, so two values given for them must agree within
  1 mm);
- each point: as many finite positions as joint names, inside the joint limits; velocities
  (optional) finite and one per joint; ``time_from_start`` finite, >= 0 and strictly increasing;
- a trajectory with no points stops the running motion and holds the current set-point.

Motion limits (:func:`check_motion_limits`, for controllers whose spec carries velocity and
acceleration limits: the arm, see ``nsvla_sim.mjcf.ARM_MOTION_LIMITS``), checked against where
the set-point is when the trajectory arrives; a violation raises :class:`MotionLimitError`
naming the joint, the value and the limit (``HanoiWorld`` then stops the arm where it is, as
the Franka controller's reflex does). Each check is a *lower bound* of what any motion through
the points needs, so sparse waypoints are never refused for what a smooth controller could do
within the limits:

- velocities given in the points, and the average velocity of every segment (from the current
  set-point to the first point, then between points), at most ``1 + tolerance`` times the limit;
- a first point at time 0 replaces the start: it must lie within ``START_TOLERANCE`` rad of
  the set-point or of where the joints actually are (``actual``: jumping the set-point to the
  arm moves nothing), and its velocities (if given) within what the acceleration limit allows
  in ``START_BLEND`` seconds of the set-point's; anything more is a step jump;
- accelerations, where a segment of ``dt`` seconds has average velocity ``u`` and known boundary
  velocities ``va`` / ``vb`` (the set-point's at the start; the given ones when every point has
  velocities; zero at the end of a positions-only trajectory, which stops there):
  ``|vb - va| / dt``, ``2 |u - va| / dt`` and ``2 |u - vb| / dt``; between two segments with an
  unknown velocity at their shared point, ``|u2 - u1| / (dt1 + dt2)``.

Following: the trajectory starts when it is received (``header.stamp`` is not used), from the
current set-point; a new trajectory replaces the running one, starting from where the set-point
is at that moment (position and velocity), so replacing is smooth. Between points the set-point
is interpolated linearly when positions only are given, and with cubic Hermite splines when every
point carries velocities (what joint_trajectory_controller calls linear / cubic). After the last
point it holds the last position.
"""

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ValidationError

MIMIC_TOLERANCE = 1e-3  # m: coupled joints given twice must agree this closely
LIMIT_SLACK = 1e-6
LIMIT_TOLERANCE = 0.05  # fraction over a velocity / acceleration limit still accepted
START_TOLERANCE = 0.01  # rad: how far a first point at time 0 may be from where the arm is
START_BLEND = 0.05      # s: a first point at time 0 may change the velocity this much x amax


class TrajectoryError(ValidationError):
    """A joint trajectory the controller refuses; the message says why."""

    status = 'invalid_trajectory'


class MotionLimitError(TrajectoryError):
    """A trajectory faster than the joints can move (velocity, acceleration or a step jump)."""

    status = 'motion_limit'


@dataclass(frozen=True)
class ControllerSpec:
    """The joints one controller commands, their limits and accepted coupled (mimic) names."""

    name: str
    joints: Tuple[str, ...]
    lower: Tuple[float, ...]
    upper: Tuple[float, ...]
    mimic: Tuple[Tuple[str, str], ...] = ()   # (accepted name, commanded joint)
    max_velocity: Tuple[float, ...] = ()       # rad/s per joint; () = not checked
    max_acceleration: Tuple[float, ...] = ()   # rad/s^2 per joint; () = not checked

    def accepted(self) -> Dict[str, str]:
        """Every joint name a trajectory may use, mapped to the commanded joint it drives."""
        out = {j: j for j in self.joints}
        out.update(dict(self.mimic))
        return out


@dataclass(frozen=True)
class TrajectoryPoint:
    """One validated point, positions in the controller's joint order."""

    time: float
    positions: Tuple[float, ...]
    velocities: Optional[Tuple[float, ...]] = None


@dataclass(frozen=True)
class Trajectory:
    """A validated trajectory in the controller's joint order; no points means stop."""

    controller: str
    points: Tuple[TrajectoryPoint, ...]

    @property
    def duration(self) -> float:
        return self.points[-1].time if self.points else 0.0

    @property
    def cubic(self) -> bool:
        return bool(self.points) and all(p.velocities is not None for p in self.points)


@dataclass(frozen=True)
class RawPoint:
    """A trajectory point as received (message field names), before validation."""

    time_from_start: float
    positions: Sequence[float]
    velocities: Sequence[float] = ()


def _finite(values: Sequence[float]) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def validate_trajectory(spec: ControllerSpec, joint_names: Sequence[str],
                        points: Sequence[RawPoint]) -> Trajectory:
    """Check a received trajectory against ``spec``; return it reordered, or raise with why."""
    names = [str(n) for n in joint_names]
    if not points:
        return Trajectory(spec.name, ())
    accepted = spec.accepted()
    if not all(n.strip() for n in names):
        raise TrajectoryError('%s: empty joint name in %r' % (spec.name, names))
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise TrajectoryError('%s: joint names repeated: %s' % (spec.name, ', '.join(dupes)))
    unknown = [n for n in names if n not in accepted]
    if unknown:
        raise TrajectoryError('%s: unknown joint name(s) %s (this controller takes %s)'
                              % (spec.name, ', '.join(repr(n) for n in unknown),
                                 ', '.join(accepted)))
    covered = {accepted[n] for n in names}
    missing = [j for j in spec.joints if j not in covered]
    if missing:
        raise TrajectoryError('%s: joint(s) %s missing; every joint of the controller must be '
                              'named' % (spec.name, ', '.join(missing)))
    index = {j: i for i, j in enumerate(spec.joints)}
    out: List[TrajectoryPoint] = []
    last_t = -math.inf
    for k, p in enumerate(points):
        where = '%s point %d' % (spec.name, k)
        t = p.time_from_start
        if not _finite([t]):
            raise TrajectoryError('%s: time_from_start %r is not a finite number' % (where, t))
        t = float(t)
        if t < 0:
            raise TrajectoryError('%s: time_from_start %.3f s is negative' % (where, t))
        if t <= last_t:
            raise TrajectoryError('%s: time_from_start %.3f s does not increase (previous '
                                  'point at %.3f s)' % (where, t, last_t))
        last_t = t
        pos = list(p.positions)
        if len(pos) != len(names):
            raise TrajectoryError('%s: %d positions for %d joint names'
                                  % (where, len(pos), len(names)))
        if not _finite(pos):
            raise TrajectoryError('%s: positions contain NaN or infinity: %r' % (where, pos))
        vel = list(p.velocities or ())
        if vel:
            if len(vel) != len(names):
                raise TrajectoryError('%s: %d velocities for %d joint names'
                                      % (where, len(vel), len(names)))
            if not _finite(vel):
                raise TrajectoryError('%s: velocities contain NaN or infinity: %r'
                                      % (where, vel))
        q: List[Optional[float]] = [None] * len(spec.joints)
        qd: List[Optional[float]] = [None] * len(spec.joints)
        for n, v, i in zip(names, pos, range(len(names))):
            j = accepted[n]
            jj = index[j]
            lo, hi = spec.lower[jj], spec.upper[jj]
            if not lo - LIMIT_SLACK <= float(v) <= hi + LIMIT_SLACK:
                raise TrajectoryError('%s: %s = %.4f is outside its limits [%.4f, %.4f]'
                                      % (where, n, float(v), lo, hi))
            prev = q[jj]
            if prev is not None and abs(prev - float(v)) > MIMIC_TOLERANCE:
                raise TrajectoryError('%s: %s and %s are coupled but given %.4f and %.4f'
                                      % (where, j, n, prev, float(v)))
            q[jj] = float(v) if prev is None else (prev + float(v)) / 2
            if vel:
                qd[jj] = float(vel[i])
        out.append(TrajectoryPoint(
            t, tuple(min(max(v, lo), hi) for v, lo, hi in zip(q, spec.lower, spec.upper)),
            tuple(qd) if vel else None))
    return Trajectory(spec.name, tuple(out))


Check = Tuple[str, np.ndarray, Callable[[int], str]]   # (kind, values per row x joint, where)


def _start_state(spec: ControllerSpec, start: Sequence[float],
                 start_velocity: Optional[Sequence[float]]) -> Tuple[np.ndarray, np.ndarray]:
    n = len(spec.joints)
    q0 = np.asarray(start, float).reshape(n)
    v0 = np.zeros(n) if start_velocity is None else np.asarray(start_velocity, float).reshape(n)
    return q0, v0


def _limits(spec: ControllerSpec) -> Dict[str, np.ndarray]:
    n = len(spec.joints)
    return {'velocity': np.asarray(spec.max_velocity or (math.inf,) * n, float),
            'acceleration': np.asarray(spec.max_acceleration or (math.inf,) * n, float)}


def _check_start(spec: ControllerSpec, traj: Trajectory, q0: np.ndarray, v0: np.ndarray,
                 actual: Optional[np.ndarray]) -> None:
    """Refuse a first point at time 0 (it replaces the start) that jumps from the set-point."""
    first = traj.points[0]
    if first.time > 0.0:
        return
    q = np.asarray(first.positions, float)
    jump = np.abs(q - q0)
    if actual is not None:
        jump = np.minimum(jump, np.abs(q - actual))
    j = int(np.argmax(jump))
    if jump[j] > START_TOLERANCE:
        raise MotionLimitError(
            '%s point 0: at time 0 %s is at %.4f rad, %.4f rad from its set-point%s: a step '
            'jump (at most %.3f rad)' % (spec.name, spec.joints[j], q[j], jump[j],
                                         '' if actual is None else ' and the arm',
                                         START_TOLERANCE))
    if traj.cubic and spec.max_acceleration:
        v = np.asarray(first.velocities, float)
        allowed = np.asarray(spec.max_acceleration, float) * START_BLEND
        j = int(np.argmax(np.abs(v - v0) / allowed))
        if abs(v[j] - v0[j]) > allowed[j]:
            raise MotionLimitError(
                '%s point 0: at time 0 %s is given %.3f rad/s while its set-point moves at '
                '%.3f rad/s: a velocity step (at most %.3f rad/s)'
                % (spec.name, spec.joints[j], v[j], v0[j], allowed[j]))


def _demands(traj: Trajectory, q0: np.ndarray, v0: np.ndarray) -> List[Check]:
    """List what following ``traj`` from ``(q0, v0)`` needs at least, per point and joint."""
    pts = traj.points
    checks: List[Check] = []
    given = [k for k, p in enumerate(pts) if p.velocities is not None]
    if given:
        checks.append(('velocity', np.array([pts[k].velocities for k in given], float),
                       lambda i: 'given at point %d' % given[i]))
    labels = ['point %d' % k for k in range(len(pts))]
    times = np.array([p.time for p in pts])
    qs = np.array([p.positions for p in pts], float)
    vs = np.array([p.velocities for p in pts], float) if traj.cubic else None
    if times[0] <= 0.0:   # the first point is the start
        kt, kq = times, qs
        kv = vs.copy() if vs is not None else np.full(qs.shape, np.nan)
        kv[0] = v0 if vs is None else vs[0]
    else:
        labels = ['the set-point'] + labels
        kt, kq = np.concatenate([[0.0], times]), np.vstack([q0, qs])
        kv = np.full(kq.shape, np.nan)
        kv[0] = v0
        if vs is not None:
            kv[1:] = vs
    if vs is None:
        kv[-1] = 0.0   # a positions-only trajectory stops at its last point
    if len(kt) < 2:
        return checks
    dt = np.diff(kt)[:, None]
    u = np.diff(kq, axis=0) / dt
    checks.append(('velocity', u, lambda i: 'on average from %s to %s'
                   % (labels[i], labels[i + 1])))
    # Lower bounds of the peak acceleration on each segment from its average velocity and the
    # velocities known at its ends (NaN where unknown: that bound does not apply) ...
    va, vb = kv[:-1], kv[1:]
    seg = np.fmax(np.fmax(np.abs(vb - va), 2.0 * np.abs(u - va)), 2.0 * np.abs(u - vb)) / dt
    checks.append(('acceleration', np.nan_to_num(seg, nan=0.0),
                   lambda i: 'from %s to %s' % (labels[i], labels[i + 1])))
    # ... and around each inner point, from the change of average velocity across it.
    checks.append(('acceleration', np.abs(np.diff(u, axis=0)) / (dt[:-1] + dt[1:]),
                   lambda i: 'around %s' % labels[i + 1]))
    return checks


def check_motion_limits(spec: ControllerSpec, traj: Trajectory, start: Sequence[float],
                        start_velocity: Optional[Sequence[float]] = None,
                        tolerance: float = LIMIT_TOLERANCE,
                        actual: Optional[Sequence[float]] = None) -> None:
    """
    Refuse ``traj`` when following it from the set-point ``start`` breaks the joint limits.

    ``start_velocity`` is the set-point velocity now (None: at rest), ``actual`` the measured
    joint positions (a first point at time 0 may be where the arm is). Raises
    :class:`MotionLimitError` naming the joint, the value and the limit (see the module
    docstring for the checks); a stop (no points) or a spec without limits always passes.
    """
    if not traj.points or not (spec.max_velocity or spec.max_acceleration):
        return
    q0, v0 = _start_state(spec, start, start_velocity)
    _check_start(spec, traj, q0, v0,
                 None if actual is None else np.asarray(actual, float).reshape(len(q0)))
    limits = _limits(spec)
    scale = 1.0 + max(0.0, float(tolerance))
    for kind, values, where in _demands(traj, q0, v0):
        if values.size == 0:
            continue
        ratio = np.abs(values) / limits[kind]
        over = np.flatnonzero(np.max(ratio, axis=1) > scale)
        if over.size:   # the first place it happens, its worst joint
            i = int(over[0])
            j = int(np.argmax(ratio[i]))
            unit = 'rad/s' if kind == 'velocity' else 'rad/s^2'
            least = '' if kind == 'velocity' else ' of at least'
            raise MotionLimitError(
                '%s: %s %s%s %.3f %s %s is over its %s limit %.3f %s (%.0f %% tolerance)'
                % (spec.name, spec.joints[j], kind, least, abs(values[i, j]), unit, where(i),
                   kind, limits[kind][j], unit, 100.0 * (scale - 1.0)))


def motion_limit_usage(spec: ControllerSpec, traj: Trajectory, start: Sequence[float],
                       start_velocity: Optional[Sequence[float]] = None) -> Dict[str, float]:
    """Largest fraction of its velocity / acceleration limit any joint needs (1.0 = at it)."""
    out = {'velocity': 0.0, 'acceleration': 0.0}
    if not traj.points:
        return out
    q0, v0 = _start_state(spec, start, start_velocity)
    limits = _limits(spec)
    for kind, values, _where in _demands(traj, q0, v0):
        if values.size:
            out[kind] = max(out[kind], float(np.max(np.abs(values) / limits[kind])))
    return out


class TrajectoryFollower:
    """The set-point generator of one controller: hold, follow, replace, stop."""

    def __init__(self, spec: ControllerSpec, initial: Sequence[float]) -> None:
        self.spec = spec
        self._traj: Optional[Trajectory] = None
        self._t0 = 0.0
        self._knots_t: np.ndarray = np.zeros(0)
        self._knots_q: np.ndarray = np.zeros((0, len(spec.joints)))
        self._knots_v: np.ndarray = np.zeros((0, len(spec.joints)))
        self._last = (np.array(initial, float), np.zeros(len(spec.joints)))

    @property
    def trajectory(self) -> Optional[Trajectory]:
        return self._traj

    def active(self, now: float) -> bool:
        """Tell whether a trajectory is running (``now`` before its last point's time)."""
        return self._traj is not None and now < self._t0 + self._traj.duration

    def end_time(self) -> float:
        """Time at which the running trajectory reaches its last point (now if none)."""
        return self._t0 + (self._traj.duration if self._traj else 0.0)

    def hold(self, positions: Sequence[float]) -> None:
        """Drop any trajectory and hold ``positions``."""
        self._traj = None
        self._last = (np.array(positions, float), np.zeros(len(self.spec.joints)))

    def set_trajectory(self, traj: Trajectory, now: float) -> None:
        """Start ``traj`` at time ``now`` from the current set-point; no points = stop here."""
        q0, v0 = self.sample(now)
        if not traj.points:
            self.hold(q0)
            return
        self._traj = traj
        self._t0 = now
        times = [0.0] + [p.time for p in traj.points]
        qs = [q0] + [np.array(p.positions) for p in traj.points]
        if traj.cubic:
            vs = [v0] + [np.array(p.velocities) for p in traj.points]
        else:
            vs = [np.zeros_like(q0) for _ in qs]
        # A first point at time 0 replaces the start: jump there (as the controller does).
        if traj.points[0].time <= 0.0:
            times, qs, vs = times[1:], qs[1:], vs[1:]
        self._knots_t = np.array(times)
        self._knots_q = np.array(qs)
        self._knots_v = np.array(vs)

    def sample(self, now: float) -> Tuple[np.ndarray, np.ndarray]:
        """Set-point position and velocity at time ``now``."""
        if self._traj is None:
            return self._last[0].copy(), np.zeros_like(self._last[0])
        t = now - self._t0
        kt = self._knots_t
        if t >= kt[-1]:
            q, v = self._knots_q[-1].copy(), np.zeros(len(self.spec.joints))
        elif t <= kt[0]:
            q, v = self._knots_q[0].copy(), np.zeros(len(self.spec.joints))
        else:
            i = int(np.searchsorted(kt, t, side='right')) - 1
            h = kt[i + 1] - kt[i]
            s = (t - kt[i]) / h
            q0, q1 = self._knots_q[i], self._knots_q[i + 1]
            if self._traj.cubic:
                v0, v1 = self._knots_v[i], self._knots_v[i + 1]
                h00 = 2 * s ** 3 - 3 * s ** 2 + 1
                h10 = s ** 3 - 2 * s ** 2 + s
                h01 = -2 * s ** 3 + 3 * s ** 2
                h11 = s ** 3 - s ** 2
                q = h00 * q0 + h10 * h * v0 + h01 * q1 + h11 * h * v1
                d00 = (6 * s ** 2 - 6 * s) / h
                d10 = 3 * s ** 2 - 4 * s + 1
                d01 = (-6 * s ** 2 + 6 * s) / h
                d11 = 3 * s ** 2 - 2 * s
                v = d00 * q0 + d10 * v0 + d01 * q1 + d11 * v1
            else:
                q = q0 + s * (q1 - q0)
                v = (q1 - q0) / h
        q = np.clip(q, self.spec.lower, self.spec.upper)
        self._last = (q, v)
        return q.copy(), v.copy()


def linear_trajectory(spec: ControllerSpec, waypoints: Sequence[Sequence[float]],
                      durations: Sequence[float]) -> Trajectory:
    """Build a validated trajectory through ``waypoints``; ``durations``: segment seconds."""
    if len(waypoints) != len(durations):
        raise TrajectoryError('%d waypoints but %d durations' % (len(waypoints), len(durations)))
    t = 0.0
    raw = []
    for q, dt in zip(waypoints, durations):
        t += float(dt)
        raw.append(RawPoint(t, list(q)))
    return validate_trajectory(spec, spec.joints, raw)

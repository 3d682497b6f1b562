# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Damped-least-squares inverse kinematics over ``mujoco.mj_jacSite``, aware of joint limits.

MuJoCo serves here as a kinematics library: :func:`panda_solver` compiles the Panda's kinematic
tree (``nsvla_control.panda_model``, no meshes) and the solver works on its own scratch
``MjData``; :class:`IKSolver` also runs on any compiled model holding the joints and the site
(the simulation's, for scripted moves), and never touches a simulation's state. This module
imports MuJoCo: rig code imports it only where the built-in motion backend is built. Typical
use::

    from nsvla_common.robot import top_down_quat
    from nsvla_control.kinematics import panda_solver
    ik = panda_solver(robot_base=(0, 0, 0), q_rest=home)
    res = ik.solve(target_pos, top_down_quat(math.pi / 2), q_init=q_now)
    if res.success:
        follow(res.q)

The update is ``dq = J^T (J J^T + lambda^2 I)^-1 e`` with ``e`` the 6-vector of position error
(metres) and orientation error (axis-angle, radians, weighted by ``rotation_weight``), ``J`` the
site Jacobian restricted to the chosen joints. Each step is limited to ``max_step`` radians and the
result is clamped into the joint range (shrunk by ``limit_margin``); a small null-space pull
towards ``q_rest`` keeps the redundant 7th degree of freedom away from the limits. ~0.5 ms a
solve on a 2-core machine.
"""

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

import mujoco
import numpy as np

from nsvla_common.errors import NsvlaError, ValidationError
from nsvla_common.robot import ARM_JOINTS, TCP_SITE
from nsvla_control.panda_model import kinematic_mjcf


class IKError(NsvlaError):
    """No joint configuration reaches the pose within tolerance (the reason says how far)."""

    status = 'ik_failed'


@dataclass
class IKResult:
    """Outcome of one solve: joint positions (in the order of the solver's joints) and errors."""

    q: np.ndarray
    success: bool
    position_error: float
    rotation_error: float
    iterations: int
    reason: str = ''
    at_limit: Tuple[str, ...] = field(default_factory=tuple)


def quat_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Axis-angle vector (world frame) rotating ``current`` onto ``target`` (both w, x, y, z)."""
    conj = np.zeros(4)
    mujoco.mju_negQuat(conj, current)
    diff = np.zeros(4)
    mujoco.mju_mulQuat(diff, target, conj)
    if diff[0] < 0:
        diff = -diff
    vel = np.zeros(3)
    mujoco.mju_quat2Vel(vel, diff, 1.0)
    return vel


class IKSolver:
    """Damped-least-squares IK of one site over a subset of hinge/slide joints."""

    def __init__(self, model: mujoco.MjModel, site: str, joints: Sequence[str],
                 q_rest: Optional[Sequence[float]] = None, limit_margin: float = 0.01) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        try:
            self.site_id = model.site(site).id
        except KeyError:
            raise ValidationError('IK: the model has no site %r' % site) from None
        self.joint_names = tuple(joints)
        self.qpos_adr = []
        self.dof_adr = []
        lo, hi = [], []
        for name in self.joint_names:
            try:
                j = model.joint(name)
            except KeyError:
                raise ValidationError('IK: the model has no joint %r' % name) from None
            if int(model.jnt_type[j.id]) not in (int(mujoco.mjtJoint.mjJNT_HINGE),
                                                 int(mujoco.mjtJoint.mjJNT_SLIDE)):
                raise ValidationError('IK: joint %r is not a hinge or slide joint' % name)
            self.qpos_adr.append(int(model.jnt_qposadr[j.id]))
            self.dof_adr.append(int(model.jnt_dofadr[j.id]))
            if model.jnt_limited[j.id]:
                lo.append(model.jnt_range[j.id][0] + limit_margin)
                hi.append(model.jnt_range[j.id][1] - limit_margin)
            else:
                lo.append(-np.inf)
                hi.append(np.inf)
        self.lower = np.array(lo)
        self.upper = np.array(hi)
        self.q_rest = (np.clip(np.asarray(q_rest, float), self.lower, self.upper)
                       if q_rest is not None else None)
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def forward(self, q: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
        """Site position and quaternion (w, x, y, z) in the world at joint positions ``q``."""
        self._set(np.asarray(q, float))
        mujoco.mj_kinematics(self.model, self.data)
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, self.data.site_xmat[self.site_id])
        return self.data.site_xpos[self.site_id].copy(), quat

    def _set(self, q: np.ndarray) -> None:
        self.data.qpos[self.qpos_adr] = q

    def solve(self, target_pos: Sequence[float], target_quat: Optional[Sequence[float]] = None,
              q_init: Optional[Sequence[float]] = None, tol_pos: float = 5e-4,
              tol_rot: float = 5e-3, max_iters: int = 300, damping: float = 0.02,
              max_step: float = 0.25, rotation_weight: float = 0.5,
              nullspace_gain: float = 0.1) -> IKResult:
        """
        Solve for the site to reach ``target_pos`` (and ``target_quat`` when given).

        Returns an :class:`IKResult`; ``success`` is false (with the reason) when the tolerance
        is not met within ``max_iters``. Never raises for an unreachable target.
        """
        target_pos = np.asarray(target_pos, float)
        if target_pos.shape != (3,) or not np.all(np.isfinite(target_pos)):
            raise ValidationError('IK: target position must be 3 finite numbers')
        tquat = None
        if target_quat is not None:
            tquat = np.asarray(target_quat, float)
            n = np.linalg.norm(tquat)
            if tquat.shape != (4,) or not np.isfinite(n) or n < 1e-9:
                raise ValidationError('IK: target quaternion must be 4 finite numbers, not zero')
            tquat = tquat / n
        if q_init is None:
            q = self.model.qpos0[self.qpos_adr].copy()
        else:
            q = np.asarray(q_init, float).copy()
            if q.shape != (len(self.joint_names),):
                raise ValidationError('IK: q_init needs %d values' % len(self.joint_names))
        q = np.clip(q, self.lower, self.upper)
        q_rest = self.q_rest if self.q_rest is not None else q.copy()
        n = len(self.joint_names)
        rows = 6 if tquat is not None else 3
        err_p = err_r = math.inf
        it = 0
        for it in range(1, max_iters + 1):
            pos, quat = self.forward(q)
            e = np.zeros(rows)
            e[:3] = target_pos - pos
            err_p = float(np.linalg.norm(e[:3]))
            err_r = 0.0
            if tquat is not None:
                e[3:] = quat_error(tquat, quat)
                err_r = float(np.linalg.norm(e[3:]))
                e[3:] *= rotation_weight
            if err_p < tol_pos and err_r < tol_rot:
                break
            mujoco.mj_comPos(self.model, self.data)
            mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site_id)
            jac = np.vstack([self._jacp, self._jacr * rotation_weight])[:rows, self.dof_adr]
            jjt = jac @ jac.T + (damping ** 2) * np.eye(rows)
            dq = jac.T @ np.linalg.solve(jjt, e)
            if nullspace_gain > 0:
                proj = np.eye(n) - np.linalg.pinv(jac) @ jac
                dq += proj @ (nullspace_gain * (q_rest - q))
            biggest = float(np.max(np.abs(dq)))
            if biggest > max_step:
                dq *= max_step / biggest
            q = np.clip(q + dq, self.lower, self.upper)
        else:
            pos, quat = self.forward(q)
            err_p = float(np.linalg.norm(target_pos - pos))
            err_r = float(np.linalg.norm(quat_error(tquat, quat))) if tquat is not None else 0.0
        ok = err_p < tol_pos and err_r < tol_rot
        at_limit = tuple(name for name, v, lo, hi in
                         zip(self.joint_names, q, self.lower, self.upper)
                         if v <= lo + 1e-6 or v >= hi - 1e-6)
        reason = ''
        if not ok:
            reason = ('did not converge in %d iterations: position error %.1f mm, rotation error '
                      '%.1f deg%s' % (it, err_p * 1000, math.degrees(err_r),
                                      (' (at joint limits: %s)' % ', '.join(at_limit))
                                      if at_limit else ''))
        return IKResult(q=q, success=ok, position_error=err_p, rotation_error=err_r,
                        iterations=it, reason=reason, at_limit=at_limit)

    def solve_or_raise(self, target_pos: Sequence[float],
                       target_quat: Optional[Sequence[float]] = None,
                       q_init: Optional[Sequence[float]] = None, **kwargs: float) -> np.ndarray:
        """Like :meth:`solve` but return ``q`` or raise :class:`IKError` with the reason."""
        res = self.solve(target_pos, target_quat, q_init, **kwargs)
        if not res.success:
            where = np.round(np.asarray(target_pos, float), 4).tolist()
            raise IKError('IK for %s at %s: %s'
                          % (self.model.site(self.site_id).name, where, res.reason))
        return res.q


def panda_solver(robot_base: Sequence[float] = (0.0, 0.0, 0.0),
                 q_rest: Optional[Sequence[float]] = None, assets: str = '') -> IKSolver:
    """Return an :class:`IKSolver` of the Panda's TCP over its arm joints, base at robot_base."""
    model = mujoco.MjModel.from_xml_string(kinematic_mjcf(robot_base, assets))
    return IKSolver(model, TCP_SITE, ARM_JOINTS, q_rest=q_rest)

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Scripted pick-and-place of a top block with joint trajectories only (physics does the rest).

Used by ``nsvla sim-check``, the tests and the bench; also a worked example for the control layer
of how to turn peg/stack geometry from :class:`~nsvla_sim.world.HanoiWorld` into trajectories:

1. open the gripper; move above the source peg at a travel height that clears every stack;
2. descend in a straight Cartesian line to ``block_grasp_height(level)``, TCP pointing down with
   two flat faces of the ring against the fingers (``grasp_yaw``); close the fingers;
3. lift, carry to above the target peg, descend to ``block_place_height(level)``; open; retreat.

Straight lines are sampled every ``CARTESIAN_STEP`` and solved with the DLS IK of
``nsvla_control.kinematics`` (each solve seeded with the previous one), giving multi-point joint
trajectories that the world follows like joint_trajectory_controller. The TCP starts and stops
each line at rest (a trapezoidal speed profile, ``TCP_ACCELERATION``), so the trajectories keep
within the Panda's joint velocity and acceleration limits, which the world enforces.
"""

import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from nsvla_common.errors import ValidationError
from nsvla_common.robot import top_down_quat
from nsvla_control.kinematics import IKSolver
from nsvla_planner.state import SymbolicState
from nsvla_sim.trajectory import RawPoint
from nsvla_sim.world import HanoiWorld

CARTESIAN_STEP = 0.01      # m between IK waypoints on straight moves
TRAVEL_CLEARANCE = 0.04    # m between the bottom of a carried block and the tallest obstacle
GRASPED_BELOW_TCP = 0.015  # m from the TCP down to the bottom of a grasped block (and margin)
CRUISE_SPEED = 0.25        # m/s of the TCP on travel moves
APPROACH_SPEED = 0.08      # m/s on the last centimetres down to a grasp or a release
TCP_ACCELERATION = 0.5     # m/s^2 of the TCP speeding up and slowing down on each line


@dataclass
class PickPlaceResult:
    """Outcome of one scripted move: whether the block ended up where it was meant to."""

    moved: bool
    block: str
    source: str
    target: str
    before: SymbolicState
    after: SymbolicState
    sim_seconds: float
    wall_seconds: float
    reason: str = ''
    events: List[Dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        """Return the ``nsvla sim-check --json`` line as a dict."""
        return {'moved': self.moved, 'block': self.block, 'from': self.source,
                'to': self.target, 'reason': self.reason,
                'sim_seconds': round(self.sim_seconds, 3),
                'wall_seconds': round(self.wall_seconds, 3),
                'real_time_factor': round(self.sim_seconds / max(self.wall_seconds, 1e-9), 2),
                'events': self.events,
                'ground_truth_before': self.before.to_dict(),
                'ground_truth_after': self.after.to_dict()}


def choose_move(state: SymbolicState, source: Optional[str] = None,
                target: Optional[str] = None) -> Sequence[str]:
    """Pick a legal (source peg, target peg): the first non-empty peg and first legal target."""
    if not state.known:
        raise ValidationError('cannot choose a move from an unknown state: %s' % state.reason)
    stacks = state.stacks()
    sources = [source] if source else [p for p, c in stacks.items() if c]
    for src in sources:
        if not stacks.get(src):
            raise ValidationError('peg %s has no block to pick' % src)
        top = stacks[src][-1]
        targets = [target] if target else [p for p in stacks if p != src]
        for dst in targets:
            if dst not in stacks or dst == src:
                raise ValidationError('target peg %r is not another peg of this scene' % dst)
            if not stacks[dst] or int(stacks[dst][-1][1:]) > int(top[1:]):
                return src, dst
        if target:
            raise ValidationError('%s cannot go on %s: %s is smaller'
                                  % (top, target, stacks[target][-1]))
    raise ValidationError('no legal move from this state')


class PickPlaceScript:
    """Build and run the joint trajectories of one pick-and-place in a world."""

    def __init__(self, world: HanoiWorld, ik: Optional[IKSolver] = None) -> None:
        self.world = world
        self.ik = ik or world.ik_solver()

    def _line(self, q_start: np.ndarray, p_from: np.ndarray, p_to: np.ndarray,
              quat: np.ndarray, speed: float) -> List[np.ndarray]:
        """Joint waypoints along a straight TCP line (the first waypoint excluded)."""
        dist = float(np.linalg.norm(p_to - p_from))
        n = max(1, int(math.ceil(dist / CARTESIAN_STEP)))
        out, q = [], q_start
        for i in range(1, n + 1):
            p = p_from + (p_to - p_from) * i / n
            q = self.ik.solve_or_raise(p, quat, q_init=q)
            out.append(q)
        return out

    @staticmethod
    def _line_times(length: float, n: int, speed: float) -> np.ndarray:
        """
        Return when the TCP reaches the ``n`` samples of a straight line of ``length`` m.

        Rest to rest: it speeds up at ``TCP_ACCELERATION`` to ``speed`` (or as far as the line
        allows), cruises, and slows down again; the samples are evenly spaced along the line.
        """
        s = length * np.arange(1, n + 1) / n
        accel = TCP_ACCELERATION
        peak = min(speed, math.sqrt(accel * length))        # triangular on short lines
        t_acc = peak / accel
        s_acc = 0.5 * accel * t_acc ** 2
        total = 2 * t_acc + (length - 2 * s_acc) / peak
        return np.where(s <= s_acc, np.sqrt(2 * s / accel),
                        np.where(s <= length - s_acc, t_acc + (s - s_acc) / peak,
                                 total - np.sqrt(np.maximum(0.0, 2 * (length - s) / accel))))

    def _move(self, waypoints: Sequence[np.ndarray], speeds: Sequence[float],
              quat: np.ndarray, timeout: float = 30.0) -> None:
        """Move the TCP through straight segments between ``waypoints`` and wait until done."""
        world = self.world
        q = world.arm.sample(world.data.time)[0]
        pos, _ = self.ik.forward(q)
        points: List[RawPoint] = []
        t = 0.0
        start = pos
        for wp, v in zip(waypoints, speeds):
            wp = np.asarray(wp, float)
            line = self._line(q, start, wp, quat, v)
            length = float(np.linalg.norm(wp - start))
            if length > 1e-6:
                times = t + self._line_times(length, len(line), v)
                points += [RawPoint(float(tk), [float(x) for x in qk])
                           for tk, qk in zip(times, line)]
                t = float(times[-1])
            q, start = line[-1], wp
        world.set_trajectory('arm', world.arm_joint_names, points)
        world.run_until_idle(timeout, settle=0.2)

    def _grip(self, opening: float, duration: float = 0.6) -> None:
        world = self.world
        world.set_trajectory('gripper', world.gripper_joint_names[:1],
                             [RawPoint(duration, [opening])])
        world.run_until_idle(duration + 5.0, settle=0.3)

    def travel_height(self) -> float:
        """TCP height that carries a block over every stack and peg."""
        w = self.world
        tallest = max(w.spec.peg_height,
                      max(len(w.blocks_on_peg(k)) for k in range(1, w.num_pegs + 1))
                      * w.spec.block_height + w.spec.block_height)
        return tallest + GRASPED_BELOW_TCP + TRAVEL_CLEARANCE

    def run(self, source: Optional[str] = None, target: Optional[str] = None) -> PickPlaceResult:
        """Move the top block of ``source`` onto ``target`` (chosen legally when None)."""
        world = self.world
        t_wall, t_sim = time.perf_counter(), world.time
        before = world.ground_truth()
        src, dst = choose_move(before, source, target)
        k_dst = int(dst[1:])
        blk = before.stacks()[src][-1]
        level_src = len(before.stacks()[src]) - 1
        level_dst = len(before.stacks()[dst])
        quat = top_down_quat(world.grasp_yaw(blk))
        z_travel = self.travel_height()
        src_xy = world.block_pose(blk)[0][:2]
        dst_xy = world.peg_position(k_dst)[:2]
        above_src = np.r_[src_xy, z_travel]
        grasp = np.r_[src_xy, world.block_grasp_height(level_src)]
        above_dst = np.r_[dst_xy, z_travel]
        place = np.r_[dst_xy, world.block_place_height(level_dst)]
        slow_from = 0.03
        reason = ''
        try:
            self._grip(0.04, 0.4)
            self._move([above_src, grasp + [0, 0, slow_from], grasp],
                       [CRUISE_SPEED, CRUISE_SPEED, APPROACH_SPEED], quat)
            self._grip(0.0, 0.6)
            self._move([grasp + [0, 0, slow_from], above_src, above_dst,
                        place + [0, 0, slow_from], place],
                       [APPROACH_SPEED, CRUISE_SPEED, CRUISE_SPEED, CRUISE_SPEED,
                        APPROACH_SPEED], quat)
            self._grip(0.04, 0.5)
            self._move([place + [0, 0, slow_from], above_dst],
                       [APPROACH_SPEED, CRUISE_SPEED], quat)
            world.advance(0.3)
        except ValidationError as exc:
            reason = str(exc)
        after = world.ground_truth()
        moved = bool(after.known and after.peg_of(blk) == dst and not reason
                     and all(after.peg_of(b) == before.peg_of(b)
                             for b in before.blocks() if b != blk))
        if not moved and not reason:
            reason = ('ground truth after the move: %s' % after.reason if not after.known
                      else '%s is on %s, not %s' % (blk, after.peg_of(blk), dst))
        return PickPlaceResult(moved, blk, src, dst, before, after, world.time - t_sim,
                               time.perf_counter() - t_wall, reason, list(world.events))

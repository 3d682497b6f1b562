# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The embedded world as a :class:`nsvla_control.episode.Robot`, in-process (no DDS).

Benchmarks and tests run hundreds of moves; doing them in one process avoids DDS and process
start-up while running exactly the skills, motion backend and episode logic the executor node
runs. ``perceive`` turns a rendered camera image into a state (a perception backend); without
it the world's ground truth is observed.
"""

import math
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from nsvla_common.errors import NsvlaError
from nsvla_control.motion import ArmSegment, BuiltinMotion, GripperSegment
from nsvla_control.skills import move_of, SkillConfig, Skills, Waypoint
from nsvla_planner.state import block_index, SymbolicState
from nsvla_sim.trajectory import RawPoint

Perceive = Callable[[np.ndarray], SymbolicState]


class SimRobot:
    """Execute block moves in a ``nsvla_sim.world.HanoiWorld`` and observe it."""

    def __init__(self, world: object, motion: Optional[BuiltinMotion] = None,
                 perceive: Optional[Perceive] = None, grasp_squeeze: float = 0.015,
                 settle_s: float = 0.3, skills: Optional[SkillConfig] = None) -> None:
        from nsvla_sim.mjcf import ARM_JOINTS, TCP_SITE
        self.world = world
        self.motion = motion or BuiltinMotion(world.model, TCP_SITE, ARM_JOINTS,  # type: ignore
                                              q_rest=world.home)  # type: ignore
        self.skills = Skills(world.spec, skills or SkillConfig())  # type: ignore
        self.perceive = perceive
        self.grasp_squeeze = grasp_squeeze
        self.settle_s = settle_s

    def execute_move(self, state: SymbolicState, block: str, onto: str) -> Tuple[bool, str]:
        """Plan the move from the state we believe in, run it in physics."""
        try:
            move = move_of(state, block, onto)
            waypoints = self.skills.move_waypoints(move, state.num_blocks)
            return self._run(waypoints, block, state.num_blocks)
        except NsvlaError as exc:
            return False, str(exc)

    def _run(self, waypoints: List[Waypoint], block: str, num_blocks: int) -> Tuple[bool, str]:
        w = self.world
        apothem = w.spec.block_apothems(num_blocks)[block_index(block) - 1]  # type: ignore
        segments, _ = self.motion.plan_move(w.arm_positions(), waypoints,  # type: ignore
                                            max(0.0, apothem - self.grasp_squeeze))
        for seg in segments:
            if isinstance(seg, ArmSegment):
                pts = [RawPoint(float(t), q.tolist(), v.tolist())
                       for t, q, v in zip(seg.times, seg.positions, seg.velocities)]
                if pts[0].time_from_start <= 0.0:
                    pts = pts[1:]
                w.set_trajectory('arm', list(seg.joint_names), pts)  # type: ignore
                if not w.run_until_idle(seg.duration + 10.0, settle=0.05):  # type: ignore
                    return False, 'arm did not finish %r' % seg.label
            elif isinstance(seg, GripperSegment):
                w.set_trajectory('gripper', [w.gripper_joint_names[0]],  # type: ignore
                                 [RawPoint(0.6 * seg.duration, [seg.opening])])
                w.run_until_idle(seg.duration + 5.0, settle=0.4 * seg.duration)  # type: ignore
        return True, ''

    # ----------------------------------------------------------------- recovery
    def _seated(self) -> Tuple[Dict[int, List[str]], List[Tuple[float, str]]]:
        """Blocks resting properly on each peg, and the loose ones (highest first)."""
        w = self.world
        spec = w.spec  # type: ignore[attr-defined]
        min_up = math.cos(math.radians(15.0))
        seated: Dict[int, List[str]] = {k: [] for k in range(1, w.num_pegs + 1)}  # type: ignore
        loose: List[Tuple[float, str]] = []
        for k in seated:
            for b in w.blocks_on_peg(k):  # type: ignore[attr-defined]
                pos, quat = w.block_pose(b)  # type: ignore[attr-defined]
                up = 1 - 2 * (quat[1] ** 2 + quat[2] ** 2)
                level = len(seated[k])
                if abs(up) >= min_up and abs(pos[2] - spec.block_centre_z(level)) < 0.4 * \
                        spec.block_height and (not seated[k] or block_index(seated[k][-1])
                                               > block_index(b)):
                    seated[k].append(b)
        placed = {b for col in seated.values() for b in col}
        for b in w.block_names:  # type: ignore[attr-defined]
            if b not in placed:
                loose.append((float(w.block_pose(b)[0][2]), b))  # type: ignore
        return seated, sorted(loose, reverse=True)

    def recover(self, state: SymbolicState) -> Tuple[bool, str]:
        """
        Put the highest loose block (fallen, tilted, off a peg) back on a legal peg.

        The grasp uses the block's pose from the simulator; a real rig needs a pose estimate
        of the loose block for the same skill.
        """
        w = self.world
        seated, loose = self._seated()
        if not loose:
            return False, 'no loose block to recover'
        _z, b = loose[0]
        n = w.num_blocks  # type: ignore[attr-defined]
        pos, _quat = w.block_pose(b)  # type: ignore[attr-defined]
        spec = w.spec  # type: ignore[attr-defined]
        legal = [k for k, col in seated.items()
                 if not col or block_index(col[-1]) > block_index(b)]
        if not legal:
            return False, 'no peg can take %s' % b
        k = min(legal, key=lambda k: len(seated[k]))
        top = self.skills.travel_z(n) + 0.02
        # close the fingers across the line to the nearest peg, so neither finger lands on
        # a neighbouring stack
        near = min(range(1, w.num_pegs + 1),  # type: ignore[attr-defined]
                   key=lambda j: math.hypot(pos[0] - spec.peg_xy(j)[0],
                                            pos[1] - spec.peg_xy(j)[1]))
        px, py = spec.peg_xy(near)
        on_peg = math.hypot(float(pos[0]) - px, float(pos[1]) - py) < spec.hole_apothem
        grasp_z = float(pos[2]) + spec.grasp_above_centre
        if on_peg:
            # sunk or tilted on a peg: the usual grasp yaw, and no lower than its proper
            # level, so the pads clear the larger block under it
            yaw = w.grasp_yaw(b)  # type: ignore[attr-defined]
            grasp_z = max(grasp_z, spec.grasp_z(len(seated[near])))
        else:
            across = math.atan2(float(pos[1]) - py, float(pos[0]) - px) + math.pi / 2
            yaw = w.grasp_yaw(b, preferred=math.remainder(across, math.pi))  # type: ignore
        tx, ty = spec.peg_xy(k)
        release = spec.grasp_z(len(seated[k])) + self.skills.config.release_clearance
        waypoints = [
            Waypoint((float(pos[0]), float(pos[1]), top), yaw, 'open', label='above loose %s' % b),
            Waypoint((float(pos[0]), float(pos[1]), grasp_z), yaw, 'close', straight=True,
                     label='grasp loose %s' % b),
            Waypoint((float(pos[0]), float(pos[1]), top), yaw, None, straight=True, label='lift'),
            Waypoint((tx, ty, top), self.skills.config.grasp_yaw, None, straight=True,
                     label='above p%d' % k),
            Waypoint((tx, ty, release), self.skills.config.grasp_yaw, 'open', straight=True,
                     label='release'),
            Waypoint((tx, ty, top), self.skills.config.grasp_yaw, None, straight=True,
                     label='retreat'),
        ]
        try:
            ok, why = self._run(waypoints, b, n)
        except NsvlaError as exc:
            return False, 'recovering %s: %s' % (b, exc)
        return ok, ('put loose %s back on p%d' % (b, k)) if ok else why

    def observe(self) -> SymbolicState:
        """Let the blocks settle, then look (camera + perception, or ground truth)."""
        self.world.advance(self.settle_s)  # type: ignore[attr-defined]
        if self.perceive is None:
            return self.world.ground_truth()  # type: ignore[attr-defined]
        return self.perceive(self.world.render())  # type: ignore[attr-defined]

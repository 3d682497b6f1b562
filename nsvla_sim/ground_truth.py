# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Ground-truth symbolic state read off the simulated bodies (pure: poses + contact flags in).

:func:`symbolic_from_observations` turns one :class:`BlockObservation` per block into the same
``SymbolicState`` JSON the perception node publishes (``source: ground_truth``, confidence 1):

- a block touched by both finger pads and by nothing else is ``holding`` (lifted in the hand);
- a block upright (tilt below ``MAX_TILT_DEG``) within ``capture`` of a peg axis, at the height
  of the next stack level and smaller than the block below, is ``on`` that block (or the peg);
  blocks on one peg, sorted by height, form its stack;
- any other block at rest is ``loose`` (see ``nsvla_planner.state``), with its pose:

  - on a peg column but not stacked legally (tilted, on a smaller block, off its level, hanging
    on the peg tip): ``loose(x, top of the legal stack below it)``, or ``loose(x, peg)`` on an
    empty peg;
  - off the pegs with its lowest point on the table: ``loose(x, table)``;
  - off the pegs and lifted off the table: ``loose(x, y)`` with ``y`` the highest block under it
    (or the peg under it); a block on a loose block (a pile off the pegs) cannot be said;

- anything else gives ``status: unknown`` with the reason: a block still moving (not supported,
  or faster than ``MAX_REST_SPEED``, and not held), two blocks in the hand, a block on a loose
  block, a loose block against a block that has another on it, a block above anything that
  could hold it.

Blocks that form legal stacks give exactly the state they gave before loose blocks existed.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from nsvla_common.errors import IllegalStateError
from nsvla_planner.state import block, LoosePose, peg, SymbolicState, TABLE
from nsvla_sim.scene import SceneSpec

MAX_TILT_DEG = 15.0
LEVEL_TOLERANCE = 0.4  # fraction of a block height a resting block may sit off its level
MAX_REST_SPEED = 0.02  # m/s: a loose candidate faster than this is still moving


@dataclass(frozen=True)
class BlockObservation:
    """What the simulator knows of one block at one instant."""

    name: str
    position: Sequence[float]   # centre, world frame (m)
    up_z: float                 # z component of the block's axis (1 = upright)
    finger_contacts: int = 0    # finger pads touching it (0, 1 or 2)
    supported: bool = True      # at rest on, or touching, the table, a peg or another block
    yaw: float = float('nan')   # heading of the block's x axis about the vertical (rad)
    speed: float = 0.0          # fastest point of the block (m/s), 0 when not measured
    axis_yaw: float = float('nan')   # heading of its axis' horizontal part (tilted blocks)


def held_block(observations: Sequence[BlockObservation]) -> List[str]:
    """Names of blocks gripped by both pads and touching nothing else."""
    return [o.name for o in observations if o.finger_contacts >= 2 and not o.supported]


def _tilt(o: BlockObservation) -> float:
    """Angle (rad) between the block's axis and the vertical; upside down counts as upright."""
    return math.acos(max(-1.0, min(1.0, abs(o.up_z))))


def _xyz(o: BlockObservation) -> Tuple[float, float, float]:
    x, y, z = (float(c) for c in o.position)
    return x, y, z


def _where(o: BlockObservation) -> str:
    return '(%.3f, %.3f, %.3f)' % _xyz(o)


class _Reader:
    """One reading of the observations: stacks first, then what the loose blocks rest on."""

    def __init__(self, spec: SceneSpec, num_blocks: int) -> None:
        self.spec = spec
        self.apothem = {block(i): a for i, a in enumerate(spec.block_apothems(num_blocks), 1)}
        self.min_up = math.cos(math.radians(MAX_TILT_DEG))
        self.tolerance = LEVEL_TOLERANCE * spec.block_height
        self.stacks: Dict[str, List[str]] = {}
        self.loose: Dict[str, str] = {}
        self.poses: Dict[str, LoosePose] = {}
        self.column_of: Dict[str, str] = {}     # stacked block -> its peg
        self.off_pegs: List[str] = []           # blocks farther than capture from every peg

    def nearest_peg(self, o: BlockObservation) -> Tuple[int, float]:
        x, y, _ = _xyz(o)
        best_k, best_d = 0, math.inf
        for k in range(1, self.spec.num_pegs + 1):
            px, py = self.spec.peg_xy(k)
            dist = math.hypot(x - px, y - py)
            if dist < best_d:
                best_k, best_d = k, dist
        return best_k, best_d

    def lowest(self, o: BlockObservation) -> float:
        """Height of the lowest point of a block (its tilt taken into account)."""
        tilt = _tilt(o)
        return float(o.position[2]) - (self.apothem[o.name] * math.sin(tilt)
                                       + 0.5 * self.spec.block_height * math.cos(tilt))

    def moving(self, o: BlockObservation) -> Optional[str]:
        """Return the reason when ``o`` is not at rest (and not held), else None."""
        if not o.supported or o.speed > MAX_REST_SPEED:
            return '%s is still moving at %s: not at rest and not held' % (o.name, _where(o))
        return None

    def set_loose(self, o: BlockObservation, on: str) -> Optional[str]:
        """Record ``o`` loose on ``on``; return the reason when it cannot be (else None)."""
        reason = self.moving(o)
        if reason is not None:
            return reason
        if on in self.loose or on in self.off_pegs:
            return ('%s at %s lies on %s, which is loose itself: nothing may rest on a loose '
                    'block' % (o.name, _where(o), on))
        x, y, z = _xyz(o)
        self.loose[o.name] = on
        upright = abs(o.up_z) >= self.min_up
        # a tilted ring's yaw is the heading of the horizontal line in its plane, the line its
        # tilt turns about (fingers closing along it meet its edges), as perception gives it
        yaw = float(o.yaw) if upright else math.remainder(float(o.axis_yaw) + math.pi / 2,
                                                          math.pi)
        self.poses[o.name] = LoosePose(x, y, z, yaw, upright, _tilt(o))
        return None

    def read_column(self, p: str, column: List[BlockObservation]) -> Optional[str]:
        """Stack the legal blocks of one peg bottom up; the first one that is not is loose."""
        column.sort(key=lambda o: float(o.position[2]))
        stack: List[str] = []
        for i, o in enumerate(column):
            z = float(o.position[2])
            legal = (abs(o.up_z) >= self.min_up
                     and abs(z - self.spec.block_centre_z(len(stack))) <= self.tolerance
                     and (not stack or int(o.name[1:]) < int(stack[-1][1:])))
            if legal:
                stack.append(o.name)
                continue
            above = column[i + 1:]
            reason = next((r for r in map(self.moving, [o] + above) if r), None)
            if reason is None and above:
                reason = ('%s on %s lies on %s, which is loose itself: nothing may rest on a '
                          'loose block' % (above[0].name, p, o.name))
            floor = max(self.spec.peg_height, self.spec.block_bottom_z(len(stack)))
            if reason is None and self.lowest(o) > floor + self.tolerance:
                reason = ('%s is over %s at %s, %.0f mm above what could hold it'
                          % (o.name, p, _where(o), (self.lowest(o) - floor) * 1000))
            reason = reason or self.set_loose(o, stack[-1] if stack else p)
            if reason is not None:
                return reason
            break
        self.stacks[p] = stack
        self.column_of.update((b, p) for b in stack)
        return None

    def read_off_peg(self, o: BlockObservation, others: Sequence[BlockObservation]
                     ) -> Optional[str]:
        """Put a block off every peg on the table, or on what lies under it."""
        reason = self.moving(o)
        if reason is not None:
            return reason
        x, y, z = _xyz(o)
        a, lowest = self.apothem[o.name], self.lowest(o)
        if lowest <= self.tolerance:
            return self.set_loose(o, TABLE)
        under = [u for u in others if u.name != o.name and float(u.position[2]) < z
                 and math.hypot(float(u.position[0]) - x, float(u.position[1]) - y)
                 < a + self.apothem[u.name]]
        if under:
            top = max(under, key=lambda u: float(u.position[2])).name
            p = self.column_of.get(top)
            if p is not None and self.stacks[p][-1] != top:
                return ('%s off the pegs at %s rests on %s, which has %s on it'
                        % (o.name, _where(o), top,
                           self.stacks[p][self.stacks[p].index(top) + 1]))
            return self.set_loose(o, top)
        k, dist = self.nearest_peg(o)
        if dist < a + self.spec.peg_radius and lowest <= self.spec.peg_height + self.tolerance:
            stack = self.stacks.get(peg(k), [])
            return self.set_loose(o, stack[-1] if stack else peg(k))
        return ('%s is off the pegs at %s, %.0f mm above the table on nothing known'
                % (o.name, _where(o), lowest * 1000))


def symbolic_from_observations(spec: SceneSpec, num_blocks: int,
                               observations: Sequence[BlockObservation],
                               stamp: Optional[float] = None,
                               capture: Optional[float] = None) -> SymbolicState:
    """Return the symbolic state the observations show, or an unknown state with the reason."""
    meta = {'source': 'ground_truth', 'stamp': stamp}
    capture = spec.hole_apothem if capture is None else capture
    by_name: Dict[str, BlockObservation] = {o.name: o for o in observations}
    missing = [block(i) for i in range(1, num_blocks + 1) if block(i) not in by_name]
    if missing:
        return SymbolicState.unknown(num_blocks, spec.num_pegs,
                                     'no observation of %s' % ', '.join(missing), **meta)
    held = held_block(observations)
    if len(held) > 1:
        return SymbolicState.unknown(num_blocks, spec.num_pegs,
                                     'two blocks in the hand: %s' % ', '.join(held), **meta)
    reader = _Reader(spec, num_blocks)
    free = [by_name[block(i)] for i in range(1, num_blocks + 1) if block(i) not in held]
    columns: Dict[str, List[BlockObservation]] = {}
    for o in free:
        k, dist = reader.nearest_peg(o)
        if dist > capture:
            reader.off_pegs.append(o.name)
        else:
            columns.setdefault(peg(k), []).append(o)
    reason = None
    for p, column in columns.items():
        reason = reason or reader.read_column(p, column)
    for name in reader.off_pegs:
        reason = reason or reader.read_off_peg(by_name[name], free)
    if reason is not None:
        return SymbolicState.unknown(num_blocks, spec.num_pegs, reason, **meta)
    try:
        return SymbolicState.from_stacks(reader.stacks, num_blocks, spec.num_pegs,
                                         holding=held[0] if held else None,
                                         loose=reader.loose or None,
                                         poses=reader.poses or None, **meta)
    except IllegalStateError as exc:
        return SymbolicState.unknown(num_blocks, spec.num_pegs, str(exc), **meta)

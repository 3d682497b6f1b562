# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Ground-truth symbolic state read off the simulated bodies (pure: poses + contact flags in).

:func:`symbolic_from_observations` turns one :class:`BlockObservation` per block into the same
``SymbolicState`` JSON the perception node publishes (``source: ground_truth``):

- a block touched by both finger pads and by nothing else is ``holding`` (lifted in the hand);
- every other block must stand upright (tilt below ``MAX_TILT_DEG``) within ``capture`` of a peg
  axis, at the height of a stack level; blocks on one peg, sorted by height, form its stack;
- anything else (a block lying on the table off the pegs, falling, tilted, two blocks in the hand,
  a larger block on a smaller one) gives ``status: unknown`` with the reason.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from nsvla_common.errors import IllegalStateError
from nsvla_planner.state import block, SymbolicState
from nsvla_sim.scene import SceneSpec

MAX_TILT_DEG = 15.0
LEVEL_TOLERANCE = 0.4  # fraction of a block height a resting block may sit off its level


@dataclass(frozen=True)
class BlockObservation:
    """What the simulator knows of one block at one instant."""

    name: str
    position: Sequence[float]   # centre, world frame (m)
    up_z: float                 # z component of the block's axis (1 = upright)
    finger_contacts: int = 0    # finger pads touching it (0, 1 or 2)
    supported: bool = True      # touching the table, a peg or another block


def held_block(observations: Sequence[BlockObservation]) -> List[str]:
    """Names of blocks gripped by both pads and touching nothing else."""
    return [o.name for o in observations if o.finger_contacts >= 2 and not o.supported]


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
    columns: Dict[str, List[BlockObservation]] = {}
    min_up = math.cos(math.radians(MAX_TILT_DEG))
    for i in range(1, num_blocks + 1):
        o = by_name[block(i)]
        if o.name in held:
            continue
        x, y, z = (float(c) for c in o.position)
        # the rings are the same upside down: a block lying flat on its top face is upright
        if abs(o.up_z) < min_up:
            tilt = math.degrees(math.acos(max(-1.0, min(1.0, abs(o.up_z)))))
            return SymbolicState.unknown(num_blocks, spec.num_pegs,
                                         '%s is tilted by %.0f degrees at (%.3f, %.3f, %.3f)'
                                         % (o.name, tilt, x, y, z), **meta)
        best_k, best_d = 0, math.inf
        for k in range(1, spec.num_pegs + 1):
            px, py = spec.peg_xy(k)
            dist = math.hypot(x - px, y - py)
            if dist < best_d:
                best_k, best_d = k, dist
        if best_d > capture:
            return SymbolicState.unknown(
                num_blocks, spec.num_pegs, '%s is off the pegs at (%.3f, %.3f, %.3f), %.0f mm '
                'from p%d' % (o.name, x, y, z, best_d * 1000, best_k), **meta)
        columns.setdefault('p%d' % best_k, []).append(o)
    stacks: Dict[str, List[str]] = {}
    for p, obs in columns.items():
        obs.sort(key=lambda o: float(o.position[2]))
        for level, o in enumerate(obs):
            want = spec.block_centre_z(level)
            z = float(o.position[2])
            if abs(z - want) > LEVEL_TOLERANCE * spec.block_height:
                return SymbolicState.unknown(
                    num_blocks, spec.num_pegs, '%s on %s is not resting at level %d (centre at '
                    'z = %.3f m, expected %.3f m)' % (o.name, p, level, z, want), **meta)
        stacks[p] = [o.name for o in obs]
    try:
        return SymbolicState.from_stacks(stacks, num_blocks, spec.num_pegs,
                                         holding=held[0] if held else None, **meta)
    except IllegalStateError as exc:
        return SymbolicState.unknown(num_blocks, spec.num_pegs, str(exc), **meta)

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
From per-block detections to a symbolic state with per-fact confidence, or unknown with a reason.

Both backends describe what they saw as one :class:`BlockReading` per block: the peg it is on (or
none: not visible, off the pegs), a measured height cue used to order each stack, a confidence in
[0, 1] and an image position for overlays and markers. A block seen lying flat on the table off the
pegs has no peg but a ``pose`` (its centre on the table, from the camera): it is *loose*,
``loose(b, table)``, with that confidence; one resting across a peg's tip or tilted on a stack
(seen with the hand empty) is loose there, ``loose(b, rests_on)``. :func:`decide` turns the
readings into a :class:`Perception`: a known ``SymbolicState`` when every block is seen on a peg or
loose on the table with enough confidence and the seen stack order obeys the domain rules, else
``SymbolicState.unknown`` with the reason and a ``kind``:

- ``occluded``: a block is not visible, hardly visible or off the pegs where it could not be
  placed on the table (the arm in front of it, a block in the hand, one partly hidden or cut by
  the image edge): transient, the temporal filter may hold the last confident state;
- ``illegal``: the seen order breaks the rules (a larger block above a smaller one), or more
  blocks are in view than the scene is set for;
- ``low_confidence``: every block seen, but one placement is ambiguous.

A state is never guessed: anything but ``known`` carries no facts.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from nsvla_common.errors import IllegalStateError
from nsvla_planner.state import (block, block_index, FactKey, LoosePose, peg, SymbolicState,
                                 TABLE)

KNOWN = 'known'
OCCLUDED = 'occluded'
ILLEGAL = 'illegal'
LOW_CONFIDENCE = 'low_confidence'
KINDS = (KNOWN, OCCLUDED, ILLEGAL, LOW_CONFIDENCE)


@dataclass
class BlockReading:
    """What a backend saw of one block."""

    name: str
    peg: int = 0                 # 1..K, or 0: not seen on any peg
    confidence: float = 0.0      # of the peg placement, in [0, 1]
    visible: bool = True         # False: not seen at all (or too little of it)
    height: float = 0.0          # a cue that grows with the stack level (ordering only)
    level: Optional[float] = None   # estimated stack level when the backend has one
    pixel: Optional[Tuple[float, float]] = None   # image position (u, v) for overlays
    area: int = 0                # pixels seen (classic) or 0
    note: str = ''               # why the confidence is low or the block is not placed
    pose: Optional[LoosePose] = None   # with peg 0: lying loose there (its centre)
    rests_on: str = TABLE        # what a loose block rests on: the table, a peg or a block
    lifted_from: int = 0         # the peg whose column it was seen above its stack in, or 0

    @property
    def loose(self) -> bool:
        """Return True when the block was seen lying on the table off the pegs (at ``pose``)."""
        return self.peg == 0 and self.visible and self.pose is not None

    def where(self) -> str:
        """Return where the reading puts the block, for reasons: ``p2`` or ``the table``."""
        if self.loose:
            return 'the table' if self.rests_on == TABLE else 'across %s' % self.rests_on
        return 'p%d' % self.peg


@dataclass
class Perception:
    """The result of one frame: state (known or unknown), its kind, readings and timing."""

    state: SymbolicState
    kind: str
    readings: List[BlockReading] = field(default_factory=list)
    seconds: float = 0.0
    positions: Dict[str, Tuple[float, float, float]] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.kind == KNOWN


def fact_confidences(state: SymbolicState, block_conf: Dict[str, float]) -> Dict[FactKey, float]:
    """
    Return a confidence for every fact of a known state from per-block placement confidences.

    ``on(b, x)`` needs ``b`` placed right and, when ``x`` is a block, ``x`` too; ``loose(b, x)``
    needs ``b`` placed right; ``clear(b)`` depends on every smaller block (any of them could be
    on ``b``); ``clear(p)`` and ``hand_empty`` depend on every block.
    """
    names = state.blocks()
    every = min((block_conf.get(b, 0.0) for b in names), default=1.0)
    out: Dict[FactKey, float] = {}
    for key in state.fact_keys():
        pred, args = key
        if pred in ('on', 'loose'):
            b, s = args
            conf = block_conf.get(b, 0.0)
            if s.startswith('b'):
                conf = min(conf, block_conf.get(s, 0.0))
        elif pred == 'clear' and args[0].startswith('b'):
            i = block_index(args[0])
            conf = min([block_conf.get(block(j), 0.0) for j in range(1, i + 1)])
        else:
            conf = every
        out[key] = round(float(conf), 4)
    return out


def state_with_confidence(stacks: Dict[str, Sequence[str]], num_blocks: int, num_pegs: int,
                          block_conf: Dict[str, float], **kwargs) -> SymbolicState:
    """
    Build a known state from ``{peg: [bottom..top]}`` with per-fact confidences.

    ``kwargs`` go to ``SymbolicState`` (``loose``, ``poses``, ``source``, ``stamp``). Raises
    IllegalStateError (from ``SymbolicState.from_stacks``) when the stacks break a rule.
    """
    state = SymbolicState.from_stacks(stacks, num_blocks, num_pegs, **kwargs)
    state._confidence = fact_confidences(state, block_conf)
    return state


def _unknown(num_blocks: int, num_pegs: int, kind: str, reason: str, readings, source: str,
             stamp: Optional[float]) -> Perception:
    state = SymbolicState.unknown(num_blocks, num_pegs, reason, source=source, stamp=stamp)
    return Perception(state, kind, list(readings))


def decide(readings: Sequence[BlockReading], num_blocks: int, num_pegs: int, source: str,
           min_confidence: float = 0.5, stamp: Optional[float] = None,
           unexpected: Sequence[str] = ()) -> Perception:
    """
    Turn per-block readings into a known state or an unknown one with the reason (module doc).

    The stack order on each peg is the order of the readings' ``height`` cue (lowest first), so
    a larger block seen above a smaller one gives an ``illegal`` unknown state, never a state
    re-ordered into legality. A reading without a peg but with a ``pose`` makes its block
    ``loose(b, r.rests_on)`` at that pose. ``unexpected`` names blocks beyond bN seen in the image
    (the block count is set wrong): the state is then ``illegal`` too.
    """
    by_name = {r.name: r for r in readings}
    names = [block(i) for i in range(1, num_blocks + 1)]
    if unexpected:
        return _unknown(num_blocks, num_pegs, ILLEGAL, 'a block like %s is in view but the '
                        'scene is set for %d blocks' % (', '.join(unexpected), num_blocks),
                        readings, source, stamp)
    missing = [b for b in names if b not in by_name or not by_name[b].visible]
    if missing:
        return _unknown(num_blocks, num_pegs, OCCLUDED, 'not visible: %s (occluded?)'
                        % ', '.join(missing), readings, source, stamp)
    off = [by_name[b] for b in names
           if not 1 <= by_name[b].peg <= num_pegs and not by_name[b].loose]
    if off:
        return _unknown(num_blocks, num_pegs, OCCLUDED, 'not on a peg: %s' % '; '.join(
            '%s (%s)' % (r.name, r.note or 'off the pegs') for r in off),
            readings, source, stamp)
    columns: Dict[str, List[BlockReading]] = {}
    loose: Dict[str, str] = {}
    poses: Dict[str, LoosePose] = {}
    for b in names:
        r = by_name[b]
        if r.loose:
            loose[b], poses[b] = r.rests_on, r.pose
        else:
            columns.setdefault(peg(r.peg), []).append(r)
    stacks = {p: [r.name for r in sorted(col, key=lambda r: r.height)]
              for p, col in columns.items()}
    conf = {b: float(by_name[b].confidence) for b in names}
    try:
        state = state_with_confidence(stacks, num_blocks, num_pegs, conf, source=source,
                                      stamp=stamp, loose=loose, poses=poses)
    except IllegalStateError as exc:
        return _unknown(num_blocks, num_pegs, ILLEGAL, 'seen stacks break the rules: %s'
                        % exc, readings, source, stamp)
    weak = [by_name[b] for b in names if conf[b] < min_confidence]
    if weak:
        hidden = [r for r in weak if r.note.startswith('partly hidden')]
        kind = OCCLUDED if len(hidden) == len(weak) else LOW_CONFIDENCE
        return _unknown(num_blocks, num_pegs, kind, 'confidence below %.2f: %s' % (
            min_confidence, '; '.join('%s on %s %.2f%s' % (
                r.name, r.where(), r.confidence, ' (%s)' % r.note if r.note else '')
                for r in weak)), readings, source, stamp)
    return Perception(state, KNOWN, list(readings))


def rest_larger_on_smaller(readings: Sequence[BlockReading],
                           centre: Callable[[int, int], Tuple[float, float, float]]) -> None:
    """
    Make a ring seen at the top of a peg's column, on a smaller ring, loose on that ring.

    A slipped ring can fall onto a peg and come to rest on a smaller ring there, the peg through
    its hole (4 blocks with slips, seed 20012: b2 dropped over p2 lay on b1 on it). That is no
    stack of the domain (larger on smaller) but a fact of the world: ``loose(b, the ring
    below)``, at ``centre(peg, level)`` (its level in the column), lying flat, with the
    reading's confidence. Only the top of a column whose blocks below obey the rules is read
    so; anything else out of order stays out of order (:func:`decide` refuses it as illegal).
    """
    columns: Dict[int, List[BlockReading]] = {}
    for r in readings:
        if r.visible and r.peg > 0 and not r.loose:
            columns.setdefault(r.peg, []).append(r)
    for k, column in columns.items():
        column.sort(key=lambda r: r.height)
        if len(column) < 2:
            continue
        sizes = [block_index(r.name) for r in column]
        legal_below = all(a > b for a, b in zip(sizes[:-2], sizes[1:-1]))
        top, below = column[-1], column[-2]
        if not legal_below or sizes[-1] < sizes[-2]:
            continue
        x, y, z = centre(k, len(column) - 1)
        top.pose = LoosePose(float(x), float(y), float(z), upright=True, tilt=0.0)
        top.rests_on = below.name
        top.peg = 0
        top.note = '; '.join(n for n in (top.note, 'on %s on p%d, larger on smaller: loose on it'
                                         % (below.name, k)) if n)


def flag_lifted(readings: Sequence[BlockReading], tolerance: float,
                common_offset: bool = False) -> None:
    """
    Mark blocks seen clearly above the level their stack gives them as not on a peg (lifted).

    A block's level is the number of blocks seen below it on its peg: on a legal stack, the
    larger ones; a larger ring resting on a smaller one at the top counts those below it too
    (:func:`rest_larger_on_smaller` reads it loose on that ring; 5 blocks with slips, seed
    20045: b4 flat on b1 atop a stack of four, judged against the one ring larger than it,
    was read 4.6 levels above it, in the hand). A block whose ``level`` exceeds that by more
    than ``tolerance`` is hanging above the stack (in the gripper): its ``peg`` becomes 0.
    With ``common_offset`` the median difference over all placed blocks is removed first (a
    backend whose levels share a camera-pose bias).
    """
    placed = [r for r in readings if r.visible and r.peg > 0 and r.level is not None]
    if not placed:
        return
    implied = {r.name: sum(1 for q in placed if q.peg == r.peg and q.level < r.level)
               for r in placed}
    offset = 0.0
    if common_offset:
        offset = sorted(r.level - implied[r.name] for r in placed)[len(placed) // 2]
    for r in placed:
        above = r.level - implied[r.name] - offset
        if above > tolerance:
            r.note = '%.1f levels above its stack on p%d (lifted?)' % (above, r.peg)
            r.lifted_from, r.peg = r.peg, 0
            r.confidence = 0.0


def ground_truth_readings(stacks: Dict[str, Sequence[str]], num_blocks: int
                          ) -> List[BlockReading]:
    """Return perfect readings of a layout's stacks (tests and examples)."""
    out = {}
    for p, column in stacks.items():
        for level, b in enumerate(column):
            out[b] = BlockReading(b, int(p[1:]), 1.0, True, float(level), float(level))
    return [out[block(i)] for i in range(1, num_blocks + 1) if block(i) in out]

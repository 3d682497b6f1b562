# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Temporal filter: publish a new state only when it is stable; hold through occlusions.

Each frame's :class:`nsvla_perception.symbols.Perception` is a *candidate*, keyed by what it
says (the block placement of a known state, or the kind of an unknown one). When the last
``stability_frames`` candidates agree, the candidate becomes the output:

- ``known``: published as is (per-fact confidences of the latest frame), and remembered as
  the last confident state;
- ``occluded`` (a block hidden or lifted, e.g. by the arm): the last confident state is
  published again, ``held`` and ``remembered``, its reason saying so, for at most
  ``max_hold_frames`` frames (0: no limit); with no confident state yet, the unknown state is
  published;
- ``illegal`` / ``low_confidence``: the unknown state is published and the last confident state
  is forgotten (the scene changed in a way perception cannot vouch for).

Until a candidate is stable the previous stable output is repeated (re-stamped); when the
latest frame does not show what it says, the repeat is ``remembered`` and its reason says so.
Before any stable output exists it is an unknown state "waiting for N stable frames".
``remembered`` is thus true exactly when the output was not read from the latest frame, and a
publisher must pass it on. ``source`` stays the backend's name.
"""

import copy
from dataclasses import dataclass
from typing import Hashable, Optional

from nsvla_planner.state import SymbolicState
from nsvla_perception.symbols import ILLEGAL, KNOWN, LOW_CONFIDENCE, OCCLUDED, Perception


@dataclass
class FilterOutput:
    """What to publish after a frame."""

    state: SymbolicState
    held: bool = False            # the last confident state, repeated while blocks are hidden
    held_frames: int = 0          # consecutive frames it has been held
    remembered: bool = False      # not read from the latest frame (held, or an unstable repeat)
    stable_frames: int = 0        # consecutive frames agreeing with the latest candidate
    candidate_kind: str = ''      # kind of the latest frame's perception
    candidate_reason: str = ''    # its reason (empty for a known candidate)
    changed: bool = False         # the published content differs from the previous frame's
    waiting: bool = False         # no stable output yet: "waiting for N stable frames"


def candidate_key(perception: Perception) -> Hashable:
    """
    Return what identifies a candidate across frames: placement when known, else the kind.

    The placement is the stacks, the held block and the loose blocks with what each rests on
    (not their table positions, which jitter from frame to frame): a block in the hand and the
    same block lying on the table are different candidates.
    """
    if perception.kind == KNOWN:
        state = perception.state
        return (KNOWN, tuple(sorted((p, tuple(c)) for p, c in state.stacks().items())),
                state.holding, tuple(sorted(state.loose.items())))
    return (perception.kind,)


class TemporalFilter:
    """Stability + occlusion hold over successive perceptions (see the module docstring)."""

    def __init__(self, stability_frames: int = 3, max_hold_frames: int = 0) -> None:
        if int(stability_frames) < 1:
            raise ValueError('stability_frames must be >= 1, got %r' % (stability_frames,))
        if int(max_hold_frames) < 0:
            raise ValueError('max_hold_frames must be >= 0, got %r' % (max_hold_frames,))
        self.stability_frames = int(stability_frames)
        self.max_hold_frames = int(max_hold_frames)
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new episode, a new block count)."""
        self._key: Optional[Hashable] = None
        self._streak = 0
        self._confident: Optional[SymbolicState] = None
        self._output: Optional[FilterOutput] = None
        self._stable: Optional[FilterOutput] = None   # the last stable output, as made
        self._stable_key: Optional[Hashable] = None   # the candidate it was made from
        self._held_frames = 0

    @property
    def last_confident(self) -> Optional[SymbolicState]:
        """Return the last stable known state (None before one or after an illegal scene)."""
        return self._confident

    def update(self, perception: Perception) -> FilterOutput:
        """Feed one frame; return what to publish now."""
        key = candidate_key(perception)
        self._streak = self._streak + 1 if key == self._key else 1
        self._key = key
        cand = perception.state
        previous = self._output
        if self._streak >= self.stability_frames:
            out = self._stable_output(perception)
            self._stable, self._stable_key = out, key
            out = copy.copy(out)
        elif self._stable is not None:
            out = self._repeat(self._stable, perception, key != self._stable_key)
        else:
            out = FilterOutput(SymbolicState.unknown(
                cand.num_blocks, cand.num_pegs, 'waiting for %d stable frames (%d so far)'
                % (self.stability_frames, self._streak), source=cand.source, stamp=cand.stamp),
                waiting=True)
        out.stable_frames = self._streak
        out.candidate_kind = perception.kind
        out.candidate_reason = cand.reason if not cand.known else ''
        out.changed = previous is None or _content(previous) != _content(out)
        self._output = out
        return out

    def _repeat(self, last: FilterOutput, perception: Perception,
                disagrees: bool) -> FilterOutput:
        """Repeat the last stable output, re-stamped; remembered when this frame disagrees."""
        out = copy.copy(last)
        out.state = copy.copy(last.state)
        out.state.stamp = perception.state.stamp
        if out.held:
            self._held_frames += 1
            out.held_frames = self._held_frames
        elif disagrees:
            out.remembered = True
            seen = perception.state.reason or 'another placement'
            out.state.reason = ('repeated: %s; the latest frame (%s) is not stable yet '
                                '(%d of %d frames)' % (last.state.reason or 'last stable state',
                                                       seen, self._streak,
                                                       self.stability_frames))
        return out

    def _stable_output(self, perception: Perception) -> FilterOutput:
        cand = perception.state
        if perception.kind == KNOWN:
            self._confident = cand
            self._held_frames = 0
            return FilterOutput(cand)
        if perception.kind == OCCLUDED and self._confident is not None:
            self._held_frames += 1
            if self.max_hold_frames == 0 or self._held_frames <= self.max_hold_frames:
                held = copy.copy(self._confident)
                held.stamp = cand.stamp
                held.reason = 'held: last confident state (%s)' % cand.reason
                return FilterOutput(held, held=True, held_frames=self._held_frames,
                                    remembered=True)
            reason = 'held for %d frames, giving up: %s' % (self.max_hold_frames, cand.reason)
            return FilterOutput(SymbolicState.unknown(cand.num_blocks, cand.num_pegs, reason,
                                                      source=cand.source, stamp=cand.stamp))
        if perception.kind in (ILLEGAL, LOW_CONFIDENCE):
            self._confident = None
        self._held_frames = 0
        return FilterOutput(cand)


def _content(out: FilterOutput) -> Hashable:
    state = out.state
    return (state.status, tuple(sorted(state.support.items())), state.holding,
            tuple(sorted(state.loose.items())), out.held)

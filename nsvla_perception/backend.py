# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The interface both backends share, and :func:`make_perceiver` to build one by name.

A perceiver is built for one scene (camera, pegs, block sizes and colours) and one block count;
``perceive(rgb)`` returns a :class:`nsvla_perception.symbols.Perception` (a known state with
per-fact confidence, or unknown with the reason) and ``image_size`` is the (width, height) it
accepts. Backends: ``classic`` (OpenCV colour segmentation + camera geometry) and ``learned``
(a small CNN per peg column, ``nsvla_perception.learned``).
"""

import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError
from nsvla_perception.image import check_rgb
from nsvla_perception.symbols import BlockReading, decide, Perception, rest_larger_on_smaller

BACKENDS = ('classic', 'learned')


class Perceiver:
    """Base of the backends: subclasses implement :meth:`readings`."""

    backend = 'none'

    def __init__(self, spec, num_blocks: int, min_confidence: float = 0.5) -> None:
        spec.check_blocks(num_blocks)
        if not 0.0 <= float(min_confidence) <= 1.0:
            raise ConfigError('min_confidence must be in [0, 1], got %r' % (min_confidence,))
        self.spec = spec
        self.num_blocks = int(num_blocks)
        self.num_pegs = spec.num_pegs
        self.min_confidence = float(min_confidence)
        self.unexpected: List[str] = []
        # Whether nothing can be in the gripper now (it was last commanded wider than any
        # block: :func:`hand_empty_after`); None when not known. A backend may then read a
        # block seen above its stack, resting across a peg's tip, as loose there.
        self.hand_empty: Optional[bool] = None

    @property
    def image_size(self) -> Tuple[int, int]:
        """(width, height) of the images this perceiver reads: the scene camera's."""
        return (self.spec.camera.width, self.spec.camera.height)

    def readings(self, rgb: np.ndarray) -> List[BlockReading]:
        """
        Return one reading per block b1..bN of an RGB image of ``image_size``.

        A backend that sees a block beyond bN (the block count is set wrong) lists its name in
        ``self.unexpected``.
        """
        raise NotImplementedError

    def perceive(self, rgb: np.ndarray, stamp: Optional[float] = None) -> Perception:
        """Read an RGB image into a Perception (state, kind, readings, seconds, 3-D positions)."""
        t0 = time.perf_counter()
        rgb = check_rgb(rgb, self.image_size)
        self.unexpected: List[str] = []
        readings = self.readings(rgb)
        if self.hand_empty is True:
            # with nothing in the hand, a ring on a smaller one at the top of a column rests
            # there: loose on it (a ring still in the fingers there is the hand's)
            spec = self.spec
            rest_larger_on_smaller(readings, lambda k, level: (
                *spec.peg_xy(k), spec.block_centre_z(level)))
        out = decide(readings, self.num_blocks, self.num_pegs, self.backend,
                     self.min_confidence, stamp, self.unexpected)
        out.positions = self.positions(out)
        out.seconds = time.perf_counter() - t0
        return out

    def positions(self, perception: Perception) -> Dict[str, Tuple[float, float, float]]:
        """
        World centre of each block on a peg or lying loose (from the state when it is known).

        A loose block is where perception estimated it (its pose); a block in the hand has no
        position here.
        """
        spec = self.spec
        out: Dict[str, Tuple[float, float, float]] = {}
        if perception.state.known:
            for p, column in perception.state.stacks().items():
                x, y = spec.peg_xy(int(p[1:]))
                for level, b in enumerate(column):
                    out[b] = (x, y, spec.block_centre_z(level))
            for b, pose in perception.state.poses.items():
                out[b] = (float(pose.x), float(pose.y), float(pose.z))
            return out
        for r in perception.readings:
            if r.loose:
                out[r.name] = (float(r.pose.x), float(r.pose.y), float(r.pose.z))
            elif r.visible and 1 <= r.peg <= self.num_pegs:
                x, y = spec.peg_xy(r.peg)
                level = int(round(max(0.0, r.level if r.level is not None else r.height)))
                out[r.name] = (x, y, spec.block_centre_z(level))
        return out

    def describe(self) -> str:
        """Return a one-line description for logs."""
        return '%s backend, %d blocks, %d pegs' % (self.backend, self.num_blocks, self.num_pegs)


HAND_MARGIN = 0.002   # m per finger: an opening this much wider than every block holds none


def hand_empty_after(opening: Optional[float], spec, num_blocks: int) -> Optional[bool]:
    """
    Return whether a gripper last commanded to ``opening`` (m per finger) can hold no block.

    True when it is wider than the largest block's half-width (plus ``HAND_MARGIN``): nothing of
    this problem can be held; False when a block could be; None when ``opening`` is unknown.
    """
    if opening is None:
        return None
    return float(opening) > max(spec.block_apothems(num_blocks)) + HAND_MARGIN


def make_perceiver(backend: str, spec, num_blocks: int, min_confidence: float = 0.5,
                   model_path: Optional[str] = None, settings=None) -> Perceiver:
    """Build the named backend (``classic`` or ``learned``); ConfigError when it cannot."""
    from nsvla_perception.settings import load_settings
    settings = settings or load_settings()
    if backend == 'classic':
        from nsvla_perception.classic import ClassicPerceiver
        return ClassicPerceiver(spec, num_blocks, settings.classic, min_confidence)
    if backend == 'learned':
        from nsvla_perception.learned import DEFAULT_MODEL, LearnedPerceiver
        # its classical reader of loose blocks takes the same classic settings
        return LearnedPerceiver(spec, num_blocks, model_path or DEFAULT_MODEL, min_confidence,
                                classic=settings.classic)
    raise ConfigError('backend must be one of %s, got %r' % (', '.join(BACKENDS), backend))


def block_names(num_blocks: int) -> Sequence[str]:
    """``['b1', ..., 'bN']``."""
    return ['b%d' % i for i in range(1, num_blocks + 1)]

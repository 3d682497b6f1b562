# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Seeded fault injection: a grasped block that slips out of the fingers mid-transport.

:class:`DropInjector` decides, each time a block is lifted off its support by the fingers,
whether this grasp will fail (with ``probability``) and when: a delay drawn uniformly from
``delay`` seconds after lift-off: 0.1..1.6 s spans the lift (about 0.7 s at the default
scaling; the ring falls back down its peg) and the carry across (it lands on the table or
another stack) and ends before the descent (a carry lasts about 2.5 s). ``HanoiWorld``
carries the slip out physically by taking the friction off the finger pads until the block has
left them, so the block really falls (it may land on a peg, a stack or the table) and the
gripper keeps its commanded width, as a real slip would. The same seed gives the same
decisions in the same order of grasps.
"""

import random
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from nsvla_common.errors import ValidationError


@dataclass
class DropInjector:
    """Decide which grasps slip and when; ``history`` records (block, lift time, drop time)."""

    probability: float = 0.0
    seed: int = 0
    delay: Tuple[float, float] = (0.1, 1.6)
    forced: Tuple[int, ...] = ()   # 1-based lift numbers that always slip (reproducible tests)
    history: List[Tuple[str, float, Optional[float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ValidationError('drop probability must be in [0, 1], got %r'
                                  % (self.probability,))
        if not 0.0 <= self.delay[0] <= self.delay[1]:
            raise ValidationError('drop delay range must be 0 <= low <= high, got %r'
                                  % (self.delay,))
        self._rng = random.Random('drops-%d' % int(self.seed))

    def on_lift(self, block: str, now: float) -> Optional[float]:
        """Record a lift of ``block`` at time ``now``; return when it will slip, or None."""
        drop_at = None
        # Draw both numbers every time so one decision does not shift the next ones.
        u, d = self._rng.random(), self._rng.uniform(*self.delay)
        if u < self.probability or len(self.history) + 1 in self.forced:
            drop_at = now + d
        self.history.append((block, now, drop_at))
        return drop_at

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Which camera frames the perception node works on: every one while it matters, few otherwise.

A frame is worth perceiving when something can have changed that someone will ask about:

- **awake** (every frame, up to ``max_rate_hz``): from start-up and on a look request
  (``look_request``) until it has published a fresh stable state (read from the latest frame,
  not remembered, ``stability_frames`` frames agreeing); after the arm's commanded motion has
  ended and ``settle_s`` more have passed without a new one (the blocks may sit elsewhere now,
  and the executor looks right after a move; the next segment of a move mostly comes within
  ``settle_s``, and a frame of the gap between two segments, with the arm still in front of
  the blocks, was 6 of the 9 frames perceived per move) and when an idle frame shows something
  else than what was published, for at most ``burst_frames`` frames or until a fresh stable
  state;
- **idle** (``idle_rate_hz``, 0 = none): otherwise, and while the arm is moving (a state read
  mid-move is one nobody waits for; the executor looks after the move): a new motion ends an
  awake spell.

The arm's motion is known from the controller commands (trajectory_msgs/JointTrajectory): a
command that starts at ``start`` (its stamp; when it has none, the camera clock now: the latest
image's stamp carried forward at the rate the stamps have been advancing) keeps the arm busy
until ``start`` plus its last point's ``time_from_start``; an empty command (hold) ends it.
Busy times are compared with the image stamps (the camera's clock, sim time in the embedded
world); rate limits with the node's clock. Pure logic: no rclpy.
"""

from typing import Optional, Tuple

AWAKE, IDLE, BUSY = 'awake', 'idle', 'busy'
RATE_WINDOW_S = 0.5   # the camera clock's rate is measured over at least this much wall time
MAX_CARRY_S = 1.0     # the latest stamp is carried forward at most this long
QUIET_MIN_S = 0.2     # a quiet spell shorter than this is not worth closing the camera for
QUIET_MAX_S = 0.8     # a quiet spell is looked at again after at most this long (wall s)


class FrameSchedule:
    """Decide per frame whether to perceive it (see the module docstring)."""

    def __init__(self, max_rate_hz: float = 15.0, idle_rate_hz: float = 1.0,
                 on_demand: bool = True, burst_frames: int = 5, settle_s: float = 0.0) -> None:
        self.set_rates(max_rate_hz, idle_rate_hz, on_demand)
        self.burst_frames = max(1, int(burst_frames))
        self.settle_s = max(0.0, float(settle_s))   # camera s after a motion before waking
        self._awake = True              # start-up: until the first fresh stable state
        self._budget: Optional[int] = None         # frames left in this spell; None: no limit
        self._busy_until: Optional[float] = None   # image-stamp time the arm's motion ends
        self._last_t: Optional[float] = None       # node-clock time of the last processed frame
        self._last_mode = AWAKE
        self._frame: Optional[Tuple[float, float]] = None   # latest image: (wall, stamp)
        self._rate_ref: Optional[Tuple[float, float]] = None
        self._rate = 1.0                # camera-clock seconds per wall second
        self.skipped = 0                # frames not perceived because nothing asked for them

    def set_rates(self, max_rate_hz: float, idle_rate_hz: float, on_demand: bool = True) -> None:
        """
        Set the awake and idle rates (Hz; 0 = every frame awake, no frames idle).

        ``on_demand`` False keeps the schedule awake: every frame, up to ``max_rate_hz``.
        """
        if max_rate_hz < 0 or idle_rate_hz < 0:
            raise ValueError('rates must be >= 0, got %r and %r' % (max_rate_hz, idle_rate_hz))
        self.on_demand = bool(on_demand)
        self._min_period = 1.0 / max_rate_hz if max_rate_hz > 0 else 0.0
        self._idle_period = 1.0 / idle_rate_hz if idle_rate_hz > 0 else None

    # ------------------------------------------------------------------ the camera's clock
    def frame_arrived(self, stamp: float, wall: float) -> None:
        """Note a frame stamped ``stamp`` arriving at ``wall`` (monotonic s), perceived or not."""
        ref = self._rate_ref
        if ref is None or stamp < ref[1] or wall - ref[0] > 5.0:
            self._rate_ref = (wall, stamp)
        elif wall - ref[0] >= RATE_WINDOW_S:
            if stamp > ref[1]:
                self._rate = (stamp - ref[1]) / (wall - ref[0])
            self._rate_ref = (wall, stamp)
        self._frame = (wall, stamp)

    def camera_now(self, wall: float) -> Optional[float]:
        """Return the camera clock at ``wall``: the latest stamp carried on (None: no frame)."""
        if self._frame is None:
            return None
        seen, stamp = self._frame
        return stamp + self._rate * min(max(0.0, wall - seen), MAX_CARRY_S)

    # ------------------------------------------------------------------ what happened
    def look_requested(self) -> None:
        """Someone wants a fresh look: work on every frame until one is published."""
        self._wake(None)

    def arm_command(self, start: Optional[float], duration: float) -> None:
        """Note an arm or gripper command from ``start`` (camera-clock time) for ``duration`` s."""
        if start is None:
            return
        end = start + max(0.0, duration)
        if duration <= 0.0:            # an empty command: the arm holds where it is now
            self._busy_until = start
            return
        if self._busy_until is None or end > self._busy_until:
            self._busy_until = end
        self._awake = False            # a new motion: what was seen before it is moot

    def _wake(self, budget: Optional[int]) -> None:
        if self._awake and self._budget is None:
            return                     # already awake until a fresh state
        self._awake = True
        self._budget = budget

    # ------------------------------------------------------------------ per frame
    def mode(self, stamp: float) -> str:
        """Return the mode a frame stamped ``stamp`` falls in: awake, idle or busy."""
        if (self.on_demand and self._busy_until is not None
                and stamp >= self._busy_until + self.settle_s):
            self._busy_until = None    # the motion has ended: the blocks may have moved
            self._wake(self.burst_frames)
        return self._peek(stamp)

    def _peek(self, stamp: float) -> str:
        """Return :meth:`mode` at ``stamp`` without ending a motion (a stamp estimated)."""
        if not self.on_demand:
            return AWAKE
        if self._busy_until is not None:
            if stamp < self._busy_until + self.settle_s:
                return AWAKE if self._awake else BUSY
            return AWAKE               # the motion has ended: the next frame wakes it
        return AWAKE if self._awake else IDLE

    def want(self, stamp: float, now: float) -> bool:
        """Return whether to perceive the frame stamped ``stamp`` arriving at node time ``now``."""
        mode = self.mode(stamp)
        period = self._min_period if mode == AWAKE else self._idle_period
        since = None if self._last_t is None else now - self._last_t
        if period is None or (period and since is not None and 0.0 <= since < period):
            self.skipped += 1
            return False
        self._last_t = now
        self._last_mode = mode
        if mode == AWAKE and self._budget is not None and self.on_demand:
            self._budget -= 1
        return True

    def quiet_s(self, stamp: float, now: float) -> float:
        """
        Return how long (wall s) no frame is wanted after the frame stamped ``stamp`` at ``now``.

        It holds while nothing else happens (a look request or a controller command can wake
        the schedule earlier): the rest of the arm's motion (camera clock, at the rate its
        stamps advance) or of the idle or awake period (node clock). 0 means a frame may be
        wanted within ``QUIET_MIN_S``; otherwise at most ``QUIET_MAX_S``, so a wrong estimate
        costs one look at a frame, not a missed look.
        """
        mode = self._peek(stamp)
        since = None if self._last_t is None else max(0.0, now - self._last_t)
        period = self._min_period if mode == AWAKE else self._idle_period
        rest = QUIET_MAX_S if period is None else (
            0.0 if since is None else max(0.0, period - since))
        if mode == BUSY and self._busy_until is not None and self._rate > 0:
            rest = min(rest, (self._busy_until + self.settle_s - stamp) / self._rate)
        if rest < QUIET_MIN_S:
            return 0.0
        return min(rest, QUIET_MAX_S)

    def published(self, fresh_and_stable: bool) -> None:
        """
        Note what the last perceived frame gave.

        A fresh stable state ends the awake spell, and so does a spell's last frame; an idle
        frame that gives anything else (it disagrees with what was published, or is not stable)
        wakes perception up for ``burst_frames`` frames.
        """
        if fresh_and_stable or (self._budget is not None and self._budget <= 0):
            self._awake = False
            self._budget = None
        elif self._last_mode == IDLE:
            self._wake(self.burst_frames)

    @property
    def awake(self) -> bool:
        """Return whether every frame is being perceived now."""
        return self._awake

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Frame schedule: every frame while a fresh look matters, few while nothing can have changed."""

import pytest

from nsvla_perception.filter import TemporalFilter
from nsvla_perception.schedule import AWAKE, BUSY, FrameSchedule, IDLE, QUIET_MAX_S, QUIET_MIN_S
from nsvla_perception.symbols import decide, ground_truth_readings

A = {'p1': ['b3', 'b2', 'b1'], 'p2': [], 'p3': []}
B = {'p1': ['b3', 'b2'], 'p2': [], 'p3': ['b1']}
FRAME = 0.1     # camera period, s (image stamps and node clock alike)


def _camera(schedule, t0, seconds):
    """Offer the frames of ``seconds`` from ``t0``; return the stamps perceived."""
    out = []
    n = int(round(seconds / FRAME))
    for i in range(n):
        t = t0 + i * FRAME
        if schedule.want(t, t):
            out.append(t)
    return out


def _settled(schedule):
    """Bring a new schedule to idle: a fresh stable state was published."""
    schedule.want(0.0, 0.0)
    schedule.published(True)
    assert not schedule.awake


def test_start_up_is_awake_until_a_fresh_stable_state():
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=1.0)
    assert _camera(s, 0.0, 0.5) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    s.published(False)           # not stable yet: still every frame
    assert s.want(0.5, 0.5)
    s.published(True)
    assert not s.awake and s.mode(0.6) == IDLE


def test_idle_frames_come_at_the_idle_rate_and_none_at_zero():
    s = FrameSchedule(max_rate_hz=15.0, idle_rate_hz=1.0)
    _settled(s)
    assert 4 <= len(_camera(s, 0.1, 5.0)) <= 5     # one a second
    s.set_rates(15.0, 0.0)
    assert _camera(s, 10.0, 5.0) == []


def test_a_look_request_wakes_it_for_the_next_frame():
    s = FrameSchedule(max_rate_hz=15.0, idle_rate_hz=1.0)
    _settled(s)
    assert s.want(1.0, 1.0)      # an idle frame
    assert not s.want(1.1, 1.1)
    s.look_requested()
    assert s.want(1.2, 1.2)      # at once, not a second later
    s.published(True)
    assert not s.want(1.3, 1.3)


def test_frames_during_arm_motion_are_idle_and_every_frame_after_it():
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=1.0)
    _settled(s)
    s.arm_command(10.0, 2.0)     # moving from t = 10 to 12
    assert s.mode(10.5) == BUSY
    during = _camera(s, 10.0, 2.0)
    assert len(during) <= 2
    s.published(False)           # the arm hides the blocks: no reason to wake during a move
    assert not s.awake
    after = _camera(s, 12.0, 0.3)
    assert after == pytest.approx([12.0, 12.1, 12.2])
    assert s.mode(12.3) == AWAKE


def test_a_longer_command_extends_the_motion_and_hold_ends_it():
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=0.0)
    _settled(s)
    s.arm_command(1.0, 5.0)
    s.arm_command(2.0, 1.0)      # a shorter one (the gripper) inside it
    assert s.mode(5.9) == BUSY
    s.arm_command(3.0, 0.0)      # hold: the arm stops now
    assert s.mode(3.05) == AWAKE
    s.arm_command(None, 1.0)     # no image seen yet: nothing to time it by
    assert s.mode(3.1) == AWAKE


def test_an_idle_frame_that_disagrees_wakes_it_up():
    f = TemporalFilter(stability_frames=3)
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=1.0)
    t, seen = 0.0, []
    while t < 20.0:
        stacks = A if t < 10.0 else B          # someone moves b1 at t = 10, arm idle
        if s.want(t, t):
            out = f.update(decide(ground_truth_readings(stacks, 3), 3, 3, 'classic',
                                  stamp=t))
            fresh = not out.remembered and out.stable_frames >= f.stability_frames
            s.published(fresh)
            if fresh:
                seen.append((round(t, 1), out.state.stacks()['p3']))
        t += FRAME
    first_b = next(t for t, p3 in seen if p3 == ['b1'])
    assert 10.0 <= first_b <= 11.3     # the idle frame that saw it, then two more at once
    assert len([t for t, _ in seen if t < 10.0]) < 15


def test_negative_rates_are_refused():
    with pytest.raises(ValueError):
        FrameSchedule(-1.0, 1.0)


def test_every_frame_never_idles():
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=0.0, on_demand=False)
    s.published(True)
    s.arm_command(0.0, 10.0)
    assert len(_camera(s, 0.0, 1.0)) == 10


def test_a_spell_after_a_motion_is_bounded_but_a_look_waits_for_a_fresh_state():
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=0.0, burst_frames=4)
    _settled(s)
    s.arm_command(1.0, 1.0)
    got = []
    for i in range(10):            # the arm still hides a block: nothing fresh comes
        t = 2.0 + i * FRAME
        if s.want(t, t):
            got.append(t)
            s.published(False)
    assert len(got) == 4           # the burst, then idle until someone asks
    s.look_requested()
    for i in range(10):
        t = 3.0 + i * FRAME
        assert s.want(t, t)
        s.published(False)
    assert s.awake                 # still waiting for the fresh state the look needs


def test_the_camera_clock_is_carried_forward_at_its_rate():
    s = FrameSchedule()
    assert s.camera_now(0.0) is None
    for i in range(11):            # stamps advance 2 s per wall second
        s.frame_arrived(100.0 + 0.2 * i, 10.0 + 0.1 * i)
    assert s.camera_now(11.05) == pytest.approx(102.1)
    assert s.camera_now(50.0) == pytest.approx(104.0)     # carried at most 1 s of wall


def test_a_quiet_spell_lasts_until_a_frame_can_be_wanted():
    s = FrameSchedule(max_rate_hz=15.0, idle_rate_hz=0.5)
    assert s.want(0.0, 0.0) and s.quiet_s(0.0, 0.0) == 0.0      # start-up: every frame
    s.published(True)
    assert s.quiet_s(0.1, 0.1) == QUIET_MAX_S     # idle: the next idle frame is 2 s away
    assert s.quiet_s(1.9, 1.9) == 0.0             # ... or within QUIET_MIN_S
    s.set_rates(15.0, 0.0)
    assert s.quiet_s(5.0, 5.0) == QUIET_MAX_S     # no idle frames: looked at again anyway
    s.arm_command(10.0, 0.5)                       # a short motion: quiet to its end
    assert s.quiet_s(10.1, 10.1) == pytest.approx(0.4)
    assert s.quiet_s(10.45, 10.45) == 0.0
    s.look_requested()
    assert s.quiet_s(10.2, 10.2) == 0.0           # a look: every frame


def test_a_motion_is_quiet_for_its_rest_on_the_camera_clock():
    s = FrameSchedule(max_rate_hz=15.0, idle_rate_hz=0.0)
    _settled(s)
    for i in range(12):                            # a sim at twice real time
        s.frame_arrived(100.0 + 0.1 * i, 1000.0 + 0.05 * i)
    s.arm_command(101.1, 1.0)                      # until 102.1 camera, 0.5 s from now
    assert s.quiet_s(101.1, 5.0) == pytest.approx(0.5)
    assert QUIET_MIN_S < 0.5 < QUIET_MAX_S


def test_a_new_command_within_settle_s_is_the_same_move_not_a_look():
    s = FrameSchedule(max_rate_hz=0.0, idle_rate_hz=0.0, settle_s=0.3)
    _settled(s)
    s.arm_command(1.0, 1.0)        # the first segment of a move: until t = 2
    assert _camera(s, 1.0, 1.2) == []     # the motion and its gap (2.0, 2.1)
    s.arm_command(2.15, 1.0)       # the next segment, 0.15 s after: still one move
    assert _camera(s, 2.2, 1.0) == [] and s.quiet_s(3.0, 3.0) == pytest.approx(0.45)
    # the last segment ends at 3.15: from 3.45 on, every frame
    assert _camera(s, 3.2, 0.6) == pytest.approx([3.5, 3.6, 3.7])

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The executor's looks: a short first look with the arm over the blocks, then a clear view."""

import numpy as np
import pytest

from nsvla_common.rig import load_scene
from nsvla_control.executor import Executor
from nsvla_planner.state import SymbolicState


class Arm:
    def __init__(self):
        self.waited = []

    def wait(self, seconds):
        self.waited.append(seconds)

    def joint_positions(self):
        return np.zeros(7)


class Eyes:
    def __init__(self):
        self.timeouts = []
        self.repeats = []

    def look(self, timeout_s, cancelled, max_repeats=0):
        self.timeouts.append(timeout_s)
        self.repeats.append(max_repeats)
        return SymbolicState.unknown(3, 3, 'the tip of p3 is not seen above it')


class Motion:
    q_rest = np.zeros(7)

    def joint_move(self, q, home, label):
        return []                     # already home: nothing to follow


def _executor(**params):
    eyes = Eyes()
    ex = Executor(load_scene('scene_default.yaml'), dict(params), Arm(), eyes,
                  plan_fn=None, motion=Motion())
    return ex, eyes


def test_the_first_look_is_short_and_the_look_after_a_clear_view_is_long():
    ex, eyes = _executor(first_look_s=3.0, observe_timeout_s=10.0)
    ex.observe()
    assert ex.clear_view() == (True, '')
    ex.observe()
    ex.observe()                      # the arm has not moved since it cleared the view
    assert eyes.timeouts == [3.0, 10.0, 10.0]
    assert eyes.repeats == [6, 0, 0]      # the default first_look_frames, then none


def test_the_first_look_ends_after_first_look_frames_unread_frames():
    ex, eyes = _executor(first_look_s=3.0, first_look_frames=4)
    ex.observe()
    assert eyes.repeats == [4]


def test_no_short_look_when_it_is_off_or_the_arm_cannot_leave_the_view():
    ex, eyes = _executor(first_look_s=0.0, observe_timeout_s=10.0)
    ex.observe()
    assert eyes.timeouts == [10.0] and eyes.repeats == [0]
    ex, eyes = _executor(first_look_s=3.0, observe_timeout_s=10.0)
    ex.motion = object()              # a backend without a home move (MoveIt stand-in)
    ex.observe()
    assert ex.clear_view()[0] is False
    assert eyes.timeouts == [10.0] and eyes.repeats == [0]


class _World:
    """A still world for SimEyes: 3 blocks on p1, 10 Hz frames, time that advances."""

    spec = None
    num_blocks = 3
    num_pegs = 3

    def __init__(self):
        self.time = 0.0
        self.truth = SymbolicState.from_stacks({'p1': ['b3', 'b2', 'b1']}, 3, 3,
                                               source='ground_truth')

    def render(self):
        return np.zeros((4, 4, 3), np.uint8)

    def advance(self, seconds):
        self.time += seconds

    def ground_truth(self):
        return self.truth


class _Perceiver:
    """Reads the tower for ``readable`` frames, then sees them hidden (a tip behind the hand)."""

    def __init__(self, readable):
        self.readable = readable
        self.frames = 0

    def perceive(self, rgb, stamp=None):
        from nsvla_perception.symbols import KNOWN, OCCLUDED, Perception
        self.frames += 1
        if self.frames <= self.readable:
            state = SymbolicState.from_stacks({'p1': ['b3', 'b2', 'b1']}, 3, 3,
                                              source='classic', stamp=stamp)
            return Perception(state, KNOWN)
        return Perception(SymbolicState.unknown(3, 3, 'the tip of p3 is not seen above it',
                                                source='classic', stamp=stamp), OCCLUDED)


def test_sim_eyes_end_a_look_after_max_repeats_frames_that_give_no_fresh_state():
    from nsvla_control.sim_robot import SimEyes
    eyes = SimEyes(_World(), _Perceiver(readable=3))
    assert eyes.look(1.0, lambda: False).known        # 3 stable frames
    first = eyes.frames
    state = eyes.look(3.0, lambda: False, max_repeats=10)
    assert not state.known and eyes.frames - first == 10, (eyes.frames - first, state.reason)
    assert 'in 10 frames in a row' in state.reason
    first = eyes.frames
    state = eyes.look(3.0, lambda: False)          # no bound: the whole 3 s of 10 Hz frames
    assert not state.known and eyes.frames - first == 30
    assert 'within 3.0 s' in state.reason


class _GripArm(Arm):
    """An arm whose fingers report ``fingers`` (m); records what it is sent."""

    def __init__(self, fingers):
        super().__init__()
        self.fingers = fingers
        self.sent = []

    def finger_opening(self):
        return self.fingers

    def send(self, segment):
        self.sent.append(segment)

    def hold(self):
        pass


def _closed_on_b1(fingers, arm_cls=_GripArm):
    from nsvla_control.motion import GripperSegment
    arm = arm_cls(fingers)
    ex = Executor(load_scene('scene_default.yaml'), {}, arm, Eyes(), plan_fn=None,
                  motion=Motion())
    ex._grasp_apothem = 0.018                      # b1, closed 4 mm inside its flats
    assert ex.follow([GripperSegment(0.014, 0.8, 'close')]) == (True, '')
    arm.sent.clear()
    return ex, arm


@pytest.mark.parametrize('fingers, opened', [
    (0.014, True),      # closed on nothing: at the command
    (0.0164, True),     # blocked by the ring it dropped, still well inside the flats
    (0.0180, False),    # on the ring's flats: it is held
    (0.0201, False),
    (None, False),      # not reported: left closed
])
def test_fingers_closed_on_nothing_are_opened_those_on_a_ring_are_not(fingers, opened):
    from nsvla_control.motion import GRIPPER_OPEN
    ex, arm = _closed_on_b1(fingers)
    assert ex.release_empty_fingers() is opened
    assert [s.opening for s in arm.sent] == ([GRIPPER_OPEN] if opened else [])
    if opened:                                     # open now: nothing to release again
        arm.sent.clear()
        assert ex.release_empty_fingers() is False and arm.sent == []


def test_clear_view_opens_empty_fingers_and_an_arm_without_finger_readings_keeps_them():
    ex, arm = _closed_on_b1(0.014)
    assert ex.clear_view() == (True, '')
    assert [s.label for s in arm.sent] == ['open: nothing between the fingers']
    ex, arm = _closed_on_b1(0.014, arm_cls=_NoFingers)
    assert ex.clear_view() == (True, '') and arm.sent == []


class _NoFingers(_GripArm):
    finger_opening = None


class _OffSetPointArm(Arm):
    """A controller whose set-point is off the arm: it refuses segments until one brings it."""

    arm_joints = tuple('panda_joint%d' % i for i in range(1, 8))

    def __init__(self, resyncs=True):
        super().__init__()
        self.synced = False
        self.resyncs = resyncs
        self.sent = []
        self.q = np.zeros(7)

    def joint_positions(self):
        return self.q

    def send(self, segment):
        from nsvla_common.errors import ValidationError
        positions = np.asarray(segment.positions)
        at_arm = np.allclose(positions, self.joint_positions())
        if at_arm and self.resyncs:          # stays where the arm is: within every limit
            self.synced = True
        elif not self.synced:
            raise ValidationError('panda_joint2 needs 9.0 rad/s^2 from its set-point, over 7.5')
        self.sent.append(segment.label)
        self.q = positions[-1]             # it gets there

    def hold(self):
        pass


def _arm_segment(label):
    from nsvla_control.motion import ArmSegment
    q = np.zeros(7)
    return ArmSegment(_OffSetPointArm.arm_joints, np.array([0.0, 1.0]),
                      np.array([q, q + 0.1]), np.zeros((2, 7)), label)


def test_a_segment_refused_from_an_off_set_point_is_sent_again_once_it_is_synced():
    ex = Executor(load_scene('scene_default.yaml'), {}, _OffSetPointArm(), Eyes(),
                  plan_fn=None, motion=Motion())
    ok, why = ex.follow([_arm_segment('above b1')])
    assert (ok, why) == (True, '')
    assert ex.arm.sent == ['set-point to the measured arm', 'above b1']


def test_a_segment_still_refused_after_the_sync_ends_the_move_with_both_reasons():
    ex = Executor(load_scene('scene_default.yaml'), {}, _OffSetPointArm(resyncs=False),
                  Eyes(), plan_fn=None, motion=Motion())
    ok, why = ex.follow([_arm_segment('above b1')])
    assert not ok and why.startswith("the controller refused 'above b1'"), why
    assert ex.arm.sent == []

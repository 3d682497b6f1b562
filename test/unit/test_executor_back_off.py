# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""A move stopped low with the fingers opened: the open hand backs straight up before a look."""

import numpy as np
import pytest

from nsvla_common.rig import load_scene
from nsvla_control.executor import Executor
from nsvla_control.motion import ArmSegment, GRIPPER_OPEN, GripperSegment
from nsvla_planner.state import SymbolicState


class _BlockedArm:
    """Follows every arm segment but ``blocked``, which it stops short of (pressed on a ring)."""

    arm_joints = tuple('panda_joint%d' % i for i in range(1, 8))

    def __init__(self, q0, blocked, fingers):
        self.q = np.asarray(q0, float)
        self.blocked = blocked
        self.fingers = fingers
        self.sent = []

    def send(self, segment):
        self.sent.append(segment)
        if isinstance(segment, ArmSegment):
            end = np.asarray(segment.positions[-1], float)
            if segment.label == self.blocked:
                # stopped a little short: 0.015 rad off on the way down
                end = end + 0.5 * (np.asarray(segment.positions[0], float) - end).clip(
                    -0.03, 0.03)
            self.q = end

    def wait(self, seconds):
        pass

    def hold(self):
        pass

    def joint_positions(self):
        return self.q.copy()

    def finger_opening(self):
        return self.fingers


class _Eyes:
    def look(self, timeout_s, cancelled, max_repeats=0):
        return SymbolicState.unknown(3, 3, 'not looked at in this test')


def _executor(blocked, fingers):
    scene = load_scene('scene_default.yaml')
    ex = Executor(scene, {}, _BlockedArm(np.zeros(7), blocked, fingers), _Eyes(),
                  plan_fn=None)
    ex.arm.q = np.asarray(ex.motion.q_rest, float)
    return scene, ex


def _tower():
    return SymbolicState.from_stacks({'p1': ['b3', 'b2', 'b1']}, 3, 3, source='classic')


def test_a_release_stopped_short_with_empty_fingers_opens_and_lifts_the_hand_straight_up():
    scene, ex = _executor('release', fingers=0.014)        # closed on nothing (b1 is 18 mm)
    ok, why = ex.execute_move(_tower(), 'b1', 'p3')
    assert not ok and "'release'" in why
    labels = [s.label for s in ex.arm.sent]
    at = labels.index('release')
    after = ex.arm.sent[at + 1:]
    assert [s.label for s in after[:1]] == ['open: nothing between the fingers']
    assert after[0].opening == GRIPPER_OPEN
    back = [s for s in after[1:] if isinstance(s, ArmSegment)]
    assert len(back) == 1 and back[0].label.startswith('back off')
    stopped = ex.motion.tcp_position(back[0].positions[0])
    top = ex.motion.tcp_position(back[0].positions[-1])
    # straight up from where it stopped, to the travel height
    assert np.hypot(*(top[:2] - stopped[:2])) < 0.002
    assert top[2] == pytest.approx(ex.skills.travel_z(3), abs=0.002)
    assert top[2] > stopped[2] + 0.03
    assert not any(isinstance(s, GripperSegment) and s.opening < GRIPPER_OPEN for s in after)


def test_a_release_stopped_short_on_a_held_ring_keeps_the_hand_closed_and_where_it_is():
    _scene, ex = _executor('release', fingers=0.018)        # on b1's flats: it is held
    ok, _why = ex.execute_move(_tower(), 'b1', 'p3')
    assert not ok
    labels = [s.label for s in ex.arm.sent]
    assert labels[-1] == 'release'          # nothing after the stop: no open, no lift

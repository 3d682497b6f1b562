# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""The executor's looks: a short first look with the arm over the blocks, then a clear view."""

import numpy as np

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

    def look(self, timeout_s, cancelled):
        self.timeouts.append(timeout_s)
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


def test_no_short_look_when_it_is_off_or_the_arm_cannot_leave_the_view():
    ex, eyes = _executor(first_look_s=0.0, observe_timeout_s=10.0)
    ex.observe()
    assert eyes.timeouts == [10.0]
    ex, eyes = _executor(first_look_s=3.0, observe_timeout_s=10.0)
    ex.motion = object()              # a backend without a home move (MoveIt stand-in)
    ex.observe()
    assert ex.clear_view()[0] is False
    assert eyes.timeouts == [10.0]

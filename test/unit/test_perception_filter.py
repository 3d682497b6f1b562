# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Temporal filter: stability before publishing, hold through occlusion, never a guess."""

import random

import pytest

from nsvla_perception.filter import TemporalFilter
from nsvla_perception.symbols import (decide, ground_truth_readings, ILLEGAL, KNOWN,
                                      OCCLUDED, Perception)
from nsvla_planner.state import SymbolicState

A = {'p1': ['b3', 'b2', 'b1'], 'p2': [], 'p3': []}
B = {'p1': ['b3', 'b2'], 'p2': [], 'p3': ['b1']}


def _known(stacks, stamp=0.0):
    return decide(ground_truth_readings(stacks, 3), 3, 3, 'classic', stamp=stamp)


def _unknown(kind, reason='b1 not visible', stamp=0.0):
    return Perception(SymbolicState.unknown(3, 3, reason, source='classic', stamp=stamp), kind)


def test_nothing_known_until_stable():
    f = TemporalFilter(stability_frames=3)
    outs = [f.update(_known(A, t)) for t in range(3)]
    assert [o.state.known for o in outs] == [False, False, True]
    assert 'waiting for 3 stable frames' in outs[0].state.reason
    assert outs[2].state == SymbolicState.from_stacks(A, 3, 3)
    assert outs[2].changed and outs[2].stable_frames == 3
    assert not any(o.remembered for o in outs)      # each read from its own frame
    assert '(2 so far)' in outs[1].state.reason     # the waiting count is not a stale copy


def test_new_state_replaces_old_only_when_stable():
    f = TemporalFilter(stability_frames=3)
    for t in range(3):
        f.update(_known(A, t))
    flicker = [f.update(_known(B, 3)), f.update(_known(A, 4)), f.update(_known(B, 5)),
               f.update(_known(B, 6))]
    assert all(o.state == SymbolicState.from_stacks(A, 3, 3) for o in flicker)
    assert not any(o.changed for o in flicker)
    assert flicker[-1].state.stamp == 6              # repeated output is re-stamped
    # A repeated while the frames show B: not read from them, and it says so
    assert [o.remembered for o in flicker] == [True, False, True, True]
    assert 'repeated: last stable state' in flicker[0].state.reason
    assert flicker[1].state.reason == ''             # frame 4 does show A
    out = f.update(_known(B, 7))
    assert out.state == SymbolicState.from_stacks(B, 3, 3) and out.changed
    assert not out.remembered and out.state.reason == ''


def test_occlusion_holds_last_confident_state_and_says_so():
    f = TemporalFilter(stability_frames=2)
    for t in range(2):
        f.update(_known(A, t))
    outs = [f.update(_unknown(OCCLUDED, 'not visible: b1 (occluded?)', t)) for t in range(2, 6)]
    assert all(o.state.known for o in outs)
    assert all(o.state == SymbolicState.from_stacks(A, 3, 3) for o in outs)
    assert not outs[0].held                      # not yet stable: previous output repeated
    assert outs[1].held and outs[-1].held
    assert outs[-1].held_frames > outs[1].held_frames
    # every one of them is remembered, the first (an unstable repeat) too, and says why
    assert all(o.remembered for o in outs)
    assert 'repeated' in outs[0].state.reason and 'b1' in outs[0].state.reason
    last = outs[-1]
    assert last.state.source == 'classic' and last.state.status == 'known'
    assert last.state.reason == 'held: last confident state (not visible: b1 (occluded?))'
    assert last.state.stamp == 5
    assert (last.candidate_kind, last.candidate_reason) == (OCCLUDED,
                                                            'not visible: b1 (occluded?)')
    back = f.update(_known(A, 6))
    assert back.remembered and back.held          # one clear frame is not stable yet
    back = f.update(_known(A, 7))
    assert back.state.known and not back.held and not back.remembered
    assert back.state.reason == ''


def test_occlusion_without_confident_state_is_unknown():
    f = TemporalFilter(stability_frames=2)
    outs = [f.update(_unknown(OCCLUDED, 'not visible: b2', t)) for t in range(3)]
    assert not outs[-1].state.known and 'b2' in outs[-1].state.reason
    assert not outs[-1].held and not any(o.remembered for o in outs)


def test_hold_limit():
    f = TemporalFilter(stability_frames=1, max_hold_frames=2)
    f.update(_known(A))
    outs = [f.update(_unknown(OCCLUDED)) for _ in range(4)]
    assert [o.held for o in outs] == [True, True, False, False]
    assert [o.remembered for o in outs] == [True, True, False, False]
    assert not outs[-1].state.known and 'giving up' in outs[-1].state.reason


def test_illegal_view_is_published_unknown_and_forgets_the_confident_state():
    f = TemporalFilter(stability_frames=2)
    for t in range(2):
        f.update(_known(A, t))
    outs = [f.update(_unknown(ILLEGAL, 'b3 on b1: larger on smaller')) for _ in range(2)]
    assert outs[0].state.known and outs[0].remembered   # one frame is not enough
    assert 'larger on smaller' in outs[0].state.reason
    assert not outs[1].state.known and 'larger on smaller' in outs[1].state.reason
    assert f.last_confident is None
    outs = [f.update(_unknown(OCCLUDED)) for _ in range(2)]
    assert not outs[-1].state.known and not outs[-1].held
    # the illegal unknown state repeated over an occluded frame keeps its own reason too
    assert outs[0].remembered and 'larger on smaller' in outs[0].state.reason


def test_bad_arguments():
    with pytest.raises(ValueError):
        TemporalFilter(stability_frames=0)
    with pytest.raises(ValueError):
        TemporalFilter(max_hold_frames=-1)


def test_kinds_exported():
    assert KNOWN == 'known'


@pytest.mark.parametrize('stability, max_hold', [(1, 0), (2, 0), (3, 2), (4, 1)])
def test_a_known_state_not_read_from_the_latest_frame_is_always_remembered(stability, max_hold):
    rng = random.Random(stability * 100 + max_hold)
    frames = [lambda t: _known(A, t), lambda t: _known(B, t),
              lambda t: _unknown(OCCLUDED, 'not visible: b1 (occluded?)', t),
              lambda t: _unknown(ILLEGAL, 'b3 on b1: larger on smaller', t)]
    f = TemporalFilter(stability_frames=stability, max_hold_frames=max_hold)
    for t in range(400):
        frame = rng.choice(frames[:2] * 3 + frames[2:])(float(t))
        out = f.update(frame)
        assert out.state.stamp == t
        if out.held:
            assert out.remembered and out.state.reason.startswith('held: ')
        if out.state.known and not out.remembered:
            assert frame.kind == KNOWN and out.state == frame.state and out.state.reason == ''
        if out.remembered:
            assert out.state.reason


def test_a_block_in_the_hand_and_the_same_block_on_the_table_are_different_candidates():
    from nsvla_planner.state import LoosePose, TABLE
    rest = {'b3': 'p1', 'b2': 'b3'}
    held = SymbolicState(3, 3, rest, 'b1', source='classic')
    loose = SymbolicState(3, 3, rest, None, loose={'b1': TABLE},
                          poses={'b1': LoosePose(0.5, 0.1, 0.02, 0.0, True)}, source='classic')
    assert held.stacks() == loose.stacks()          # what the old key compared
    f = TemporalFilter(stability_frames=2)
    outs = [f.update(Perception(s, KNOWN)) for s in (held, held, loose, loose)]
    assert outs[1].state.holding == 'b1'
    assert outs[2].remembered and outs[2].state.holding == 'b1'   # not stable yet: says so
    assert outs[3].state.loose == {'b1': TABLE} and outs[3].changed
    assert not outs[3].remembered

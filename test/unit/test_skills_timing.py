# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Skill geometry and trajectory timing (pure)."""

import numpy as np
import pytest

from nsvla_common.errors import ValidationError
from nsvla_control.skills import move_of, steps_to_moves
from nsvla_control.timing import time_parameterise
from nsvla_planner.state import SymbolicState

VMAX = np.array([2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61]) * 0.5
AMAX = np.array([15.0, 7.5, 10.0, 12.5, 15.0, 20.0, 20.0]) * 0.3


def test_move_of_levels():
    s = SymbolicState.from_stacks({'p1': ['b4', 'b2', 'b1'], 'p3': ['b3']}, 4, 3)
    m = move_of(s, 'b1', 'b3')
    assert (m.src_peg, m.src_level, m.dst_peg, m.dst_level) == (1, 2, 3, 1)
    with pytest.raises(ValidationError, match='not on top'):
        move_of(s, 'b2', 'p2')


def test_steps_to_moves_both_forms():
    pp = [{'action': 'pick', 'args': ['b1', 'b2']}, {'action': 'place', 'args': ['b1', 'p3']}]
    assert steps_to_moves(pp) == [('b1', 'b2', 'p3')]
    assert steps_to_moves([{'action': 'move', 'args': ['b1', 'b2', 'p3']}]) == [
        ('b1', 'b2', 'p3')]
    with pytest.raises(ValidationError, match='ends holding'):
        steps_to_moves(pp[:1])


@pytest.mark.parametrize('span', [0.01, 0.5, 2.0])
def test_timing_respects_velocity_and_acceleration_limits(span):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, 7)
    path = [a, a + span * rng.uniform(-1, 1, 7)]
    timed = time_parameterise(path, VMAX, AMAX)
    t, q, v = timed.times, timed.positions, timed.velocities
    assert np.all(np.diff(t) > 0)
    assert np.allclose(q[0], path[0]) and np.allclose(q[-1], path[1])
    fd_vel = np.diff(q, axis=0) / np.diff(t)[:, None]
    assert np.all(np.abs(fd_vel) <= VMAX * 1.001)
    assert np.all(np.abs(v) <= VMAX + 1e-9)
    assert np.allclose(v[0], 0) and np.allclose(v[-1], 0)
    mid_t = (t[:-1] + t[1:]) / 2
    acc = np.diff(fd_vel, axis=0) / np.diff(mid_t)[:, None]
    assert np.all(np.abs(acc) <= AMAX * 1.05)


def test_timing_rejects_bad_limits():
    with pytest.raises(ValidationError):
        time_parameterise([[0.0, 0.0], [1.0, 1.0]], [1.0], [1.0])


def test_a_kinked_path_is_slowed_until_a_limit_checking_controller_accepts_it():
    import numpy as np

    from nsvla_control.timing import limit_demand, TimedPath, within_limits
    vmax, amax = [1.0, 1.0], [2.0, 2.0]
    # a sharp velocity reversal over 10 ms: far beyond 2 rad/s^2
    kinked = TimedPath(np.array([0.0, 0.5, 0.51, 1.0]),
                       np.array([[0.0, 0.0], [0.4, 0.0], [0.4, 0.0], [0.0, 0.0]]),
                       np.array([[0.0, 0.0], [0.8, 0.0], [-0.8, 0.0], [0.0, 0.0]]))
    assert limit_demand(kinked, vmax, amax) > 10
    fixed = within_limits(kinked, vmax, amax)
    assert limit_demand(fixed, vmax, amax) <= 0.95
    assert np.allclose(fixed.positions, kinked.positions)
    assert fixed.duration > kinked.duration
    calm = TimedPath(np.array([0.0, 1.0]), np.array([[0.0, 0.0], [0.1, 0.0]]),
                     np.array([[0.0, 0.0], [0.0, 0.0]]))
    assert within_limits(calm, vmax, amax) is calm


def _standing_b1(x, y, line):
    from nsvla_planner.state import LoosePose
    return SymbolicState(3, 3, {'b3': 'p1', 'b2': 'b3'}, loose={'b1': 'table'},
                         poses={'b1': LoosePose(x, y, 0.018, line, False, 1.5)})


def test_a_ring_on_its_edge_is_pushed_along_its_axis_from_the_side_with_room():
    """In the open the shut fingers push through it along its axis; nothing is grasped."""
    import math
    from nsvla_common.rig import load_scene
    from nsvla_control.skills import Skills
    spec = load_scene('scene_default.yaml')
    state = _standing_b1(0.60, 0.08, 0.4)
    wps = Skills(spec).tip_over_waypoints('b1', state, state.poses['b1'], 0.018)
    assert [w.gripper for w in wps] == ['shut', None, None, 'open']
    (x0, y0, _), (x1, y1, z1) = wps[1].pos, wps[2].pos
    heading = math.atan2(y1 - y0, x1 - x0)
    assert abs(math.remainder(heading - (0.4 + math.pi / 2), math.pi)) < 1e-6  # its axis
    assert wps[1].pos[2] == z1 > 0.018               # above its centre, below its top
    assert z1 < 0.018 + 0.018 / math.cos(math.pi / 8)


def test_a_ring_on_its_edge_against_a_peg_is_set_down_in_the_open_then_pushed():
    """Standing 27 mm in front of p2, its face along the peg: no way down for the fingers."""
    import math
    from nsvla_common.rig import load_scene
    from nsvla_control.skills import Skills
    spec = load_scene('scene_default.yaml')
    state = _standing_b1(0.527, -0.005, 0.0)
    wps = Skills(spec).tip_over_waypoints('b1', state, state.poses['b1'], 0.018)
    assert [w.gripper for w in wps] == ['open', 'close', None, None, 'open', None,
                                        'shut', None, None, 'open']
    assert wps[1].pos[:2] == (0.527, -0.005)         # gripped by its edges where it stands
    set_down = wps[4].pos
    px, py = spec.peg_xy(2)
    assert math.hypot(set_down[0] - px, set_down[1] - py) > math.hypot(0.527 - px, -0.005 - py)


def test_a_ring_on_its_edge_with_no_room_around_it_is_refused_with_the_reason():
    """Five rings lying 60 mm around it: no spot within reach to push it over."""
    import math
    from nsvla_common.rig import load_scene
    from nsvla_control.skills import Skills
    from nsvla_planner.state import LoosePose
    spec = load_scene('scene_default.yaml')
    poses = {'b1': LoosePose(0.62, 0.0, 0.018, 0.3, False, 1.5)}
    for k in range(5):
        a = 2 * math.pi * k / 5
        poses['b%d' % (k + 2)] = LoosePose(0.62 + 0.06 * math.cos(a), 0.06 * math.sin(a), 0.01)
    state = SymbolicState(6, 3, {}, loose={b: 'table' for b in poses}, poses=poses)
    with pytest.raises(ValidationError, match='no room to push it over'):
        Skills(spec).tip_over_waypoints('b1', state, state.poses['b1'], 0.018)


def test_a_tilted_ring_is_set_down_where_it_has_room_and_the_camera_sees_it():
    """Leaning on p2's stack: set down the nearest spot clear of the stacks, in the image."""
    import math
    from nsvla_common.camera import camera_from_spec
    from nsvla_common.rig import load_scene
    from nsvla_control.skills import SET_DOWN_IN_IMAGE_PX, Skills
    from nsvla_planner.state import LoosePose
    spec = load_scene('scene_default.yaml')
    pose = LoosePose(0.46, 0.0, 0.03, 0.0, False, math.radians(50))     # behind p2's stack
    state = SymbolicState(3, 3, {'b3': 'p2', 'b2': 'b3'}, loose={'b1': 'table'},
                          poses={'b1': pose})
    wps, (x, y) = Skills(spec).set_down_waypoints('b1', state, pose, 0.018)
    assert [w.gripper for w in wps] == ['open', 'close', None, None, 'open', None]
    assert wps[1].pos[:2] == (0.46, 0.0) and wps[4].pos[:2] == (x, y)
    apothems = spec.block_apothems(3)
    for k in (1, 2, 3):
        px, py = spec.peg_xy(k)
        reach = apothems[2] if k == 2 else spec.peg_radius
        assert math.hypot(x - px, y - py) - reach > 0.04 + 0.012, (k, x, y)
    camera = camera_from_spec(spec)
    u, v = camera.project([(x, y, 0.02)])[0]
    assert SET_DOWN_IN_IMAGE_PX <= u <= 640 - SET_DOWN_IN_IMAGE_PX
    assert SET_DOWN_IN_IMAGE_PX <= v <= 480 - SET_DOWN_IN_IMAGE_PX
    # not behind p2's stack from the camera: the stack is off the line of sight to it
    eye = camera.position
    dx, dy = x - eye[0], y - eye[1]
    t = ((0.5 - eye[0]) * dx + (0.0 - eye[1]) * dy) / (dx * dx + dy * dy)
    off = math.hypot(eye[0] + t * dx - 0.5, eye[1] + t * dy)
    assert not 0 < t < 1 or off > apothems[2]


def test_a_tilted_ring_with_no_room_in_view_is_refused_with_the_reason():
    import math
    from nsvla_common.rig import load_scene
    from nsvla_control.skills import Skills
    from nsvla_planner.state import LoosePose
    spec = load_scene('scene_default.yaml')
    poses = {'b1': LoosePose(0.62, 0.0, 0.03, 0.3, False, 0.7)}
    for k in range(5):        # a ring of loose rings all round it, and further out
        for d in (0.05, 0.1):
            a = 2 * math.pi * k / 5 + d
            poses['b%d' % (len(poses) + 1)] = LoosePose(0.62 + d * math.cos(a), d * math.sin(a),
                                                        0.01)
    state = SymbolicState(len(poses), 3, {}, loose={b: 'table' for b in poses}, poses=poses)
    with pytest.raises(ValidationError, match='no room to set it down'):
        Skills(spec).set_down_waypoints('b1', state, state.poses['b1'], 0.018)

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Joint-trajectory validation and following (pure Python, no MuJoCo, no ROS)."""

import math

import numpy as np
import pytest

from nsvla_sim.trajectory import (ControllerSpec, linear_trajectory, RawPoint, TrajectoryError,
                                  TrajectoryFollower, validate_trajectory)

ARM = ControllerSpec('arm_controller', ('j1', 'j2', 'j3'), (-1.0, -2.0, -3.0), (1.0, 2.0, 3.0))
GRIPPER = ControllerSpec('gripper_controller', ('f1',), (0.0,), (0.04,), mimic=(('f2', 'f1'),))


def test_accepts_and_reorders_joints():
    traj = validate_trajectory(ARM, ['j3', 'j1', 'j2'],
                               [RawPoint(0.5, [0.3, 0.1, 0.2]), RawPoint(1.0, [0.0, 0.0, 0.0])])
    assert traj.points[0].positions == (0.1, 0.2, 0.3)
    assert traj.duration == 1.0 and not traj.cubic


@pytest.mark.parametrize('names, points, words', [
    (['j1', 'j2', 'jX'], [RawPoint(1.0, [0, 0, 0])], "unknown joint name(s) 'jX'"),
    (['j1', 'j2'], [RawPoint(1.0, [0, 0])], 'joint(s) j3 missing'),
    (['j1', 'j1', 'j2'], [RawPoint(1.0, [0, 0, 0])], 'repeated: j1'),
    (['j1', '', 'j3'], [RawPoint(1.0, [0, 0, 0])], "empty joint name in ['j1', '', 'j3']"),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, math.nan, 0])], 'NaN'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, math.inf, 0])], 'NaN or infinity'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, 0, 0]), RawPoint(1.0, [0, 0, 0])],
     'does not increase'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, 0, 0]), RawPoint(0.5, [0, 0, 0])],
     'does not increase'),
    (['j1', 'j2', 'j3'], [RawPoint(-0.1, [0, 0, 0])], 'negative'),
    (['j1', 'j2', 'j3'], [RawPoint(math.nan, [0, 0, 0])], 'not a finite number'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, 2.5, 0])], 'j2 = 2.5000 is outside its limits'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, 0])], '2 positions for 3 joint names'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, 0, 0], [0, 0])], '2 velocities'),
    (['j1', 'j2', 'j3'], [RawPoint(1.0, [0, 0, 0], [0, math.nan, 0])], 'velocities contain'),
])
def test_rejects_bad_arm_trajectories_with_a_reason(names, points, words):
    with pytest.raises(TrajectoryError) as err:
        validate_trajectory(ARM, names, points)
    assert words in str(err.value)
    assert err.value.status == 'invalid_trajectory'


def test_gripper_takes_either_coupled_finger_and_checks_they_agree():
    assert validate_trajectory(GRIPPER, ['f2'], [RawPoint(0.5, [0.01])]).points[0].positions \
        == (0.01,)
    both = validate_trajectory(GRIPPER, ['f1', 'f2'], [RawPoint(0.5, [0.0200, 0.0204])])
    assert both.points[0].positions[0] == pytest.approx(0.0202)
    with pytest.raises(TrajectoryError, match='coupled'):
        validate_trajectory(GRIPPER, ['f1', 'f2'], [RawPoint(0.5, [0.0, 0.03])])
    with pytest.raises(TrajectoryError, match='outside its limits'):
        validate_trajectory(GRIPPER, ['f1'], [RawPoint(0.5, [0.05])])


def test_empty_trajectory_means_stop():
    traj = validate_trajectory(ARM, [], [])
    assert traj.points == () and traj.duration == 0.0


def test_linear_interpolation_from_the_current_setpoint_and_hold_at_the_end():
    f = TrajectoryFollower(ARM, [0.0, 0.0, 0.0])
    f.set_trajectory(validate_trajectory(ARM, ARM.joints, [RawPoint(1.0, [1.0, 2.0, -1.0]),
                                                           RawPoint(3.0, [0.0, 0.0, 0.0])]),
                     now=10.0)
    q, v = f.sample(10.5)
    assert np.allclose(q, [0.5, 1.0, -0.5]) and np.allclose(v, [1.0, 2.0, -1.0])
    q, v = f.sample(12.0)
    assert np.allclose(q, [0.5, 1.0, -0.5]) and np.allclose(v, [-0.5, -1.0, 0.5])
    assert f.active(12.9) and not f.active(13.0)
    q, v = f.sample(20.0)
    assert np.allclose(q, 0.0) and np.allclose(v, 0.0)


def test_cubic_when_every_point_has_velocities():
    f = TrajectoryFollower(ARM, [0.0, 0.0, 0.0])
    traj = validate_trajectory(ARM, ARM.joints, [RawPoint(1.0, [0.5, 0.5, 0.5], [1.0, 1.0, 1.0]),
                                                 RawPoint(2.0, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])])
    assert traj.cubic
    f.set_trajectory(traj, now=0.0)
    q1, v1 = f.sample(1.0 - 1e-9)
    q2, v2 = f.sample(1.0 + 1e-9)
    assert np.allclose(q1, 0.5, atol=1e-6) and np.allclose(v1, 1.0, atol=1e-5)
    assert np.allclose(v2, 1.0, atol=1e-5)   # velocity continuous through the knot
    q_mid, _ = f.sample(0.5)
    assert not np.allclose(q_mid, 0.25)      # not the linear value: a cubic segment


def test_new_trajectory_replaces_the_running_one_without_a_jump():
    f = TrajectoryFollower(ARM, [0.0, 0.0, 0.0])
    f.set_trajectory(linear_trajectory(ARM, [[1.0, 1.0, 1.0]], [2.0]), now=0.0)
    before, _ = f.sample(1.0)
    f.set_trajectory(linear_trajectory(ARM, [[-1.0, -1.0, -1.0]], [1.0]), now=1.0)
    after, _ = f.sample(1.0)
    assert np.allclose(before, after) and np.allclose(after, 0.5)
    q, _ = f.sample(1.5)
    assert np.allclose(q, -0.25)
    assert np.allclose(f.sample(5.0)[0], -1.0)


def test_stop_holds_where_the_setpoint_is():
    f = TrajectoryFollower(ARM, [0.0, 0.0, 0.0])
    f.set_trajectory(linear_trajectory(ARM, [[1.0, 1.0, 1.0]], [2.0]), now=0.0)
    f.set_trajectory(validate_trajectory(ARM, [], []), now=1.0)
    assert np.allclose(f.sample(5.0)[0], 0.5) and not f.active(1.5)


def test_first_point_at_time_zero_is_the_start():
    f = TrajectoryFollower(ARM, [0.0, 0.0, 0.0])
    f.set_trajectory(validate_trajectory(ARM, ARM.joints, [RawPoint(0.0, [0.2, 0.2, 0.2]),
                                                           RawPoint(1.0, [0.4, 0.4, 0.4])]),
                     now=0.0)
    assert np.allclose(f.sample(0.0)[0], 0.2) and np.allclose(f.sample(0.5)[0], 0.3)

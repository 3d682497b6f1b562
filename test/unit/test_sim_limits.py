# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Joint velocity / acceleration limits of the arm controller (pure: no MuJoCo, no ROS)."""

import numpy as np
import pytest

from nsvla_sim.mjcf import ARM_JOINTS, ARM_MOTION_LIMITS
from nsvla_sim.trajectory import (check_motion_limits, ControllerSpec, motion_limit_usage,
                                  MotionLimitError, RawPoint, TrajectoryError,
                                  validate_trajectory)

VMAX = tuple(ARM_MOTION_LIMITS[j][0] for j in ARM_JOINTS)
AMAX = tuple(ARM_MOTION_LIMITS[j][1] for j in ARM_JOINTS)
ARM = ControllerSpec('arm_controller', ARM_JOINTS, (-10.0,) * 7, (10.0,) * 7,
                     max_velocity=VMAX, max_acceleration=AMAX)
REST = np.zeros(7)


def _q(j2):
    """Arm positions with joint 2 (panda_joint2: 2.175 rad/s, 7.5 rad/s^2) at ``j2``."""
    q = np.zeros(7)
    q[1] = j2
    return list(q)


def _check(points, start=REST, start_velocity=None, **kwargs):
    traj = validate_trajectory(ARM, ARM_JOINTS, points)
    check_motion_limits(ARM, traj, start, start_velocity, **kwargs)
    return traj


def _ramp(peak, accel, dt=0.01):
    """Joint 2 from rest to ``peak`` rad/s and back at ``accel`` rad/s^2, sampled every dt."""
    t_acc = peak / accel
    times = np.arange(dt, 2 * t_acc + 1e-9, dt)
    vel = np.where(times <= t_acc, accel * times, accel * (2 * t_acc - times))
    pos = np.where(times <= t_acc, 0.5 * accel * times ** 2,
                   peak * t_acc - 0.5 * accel * (2 * t_acc - times) ** 2)
    return times, pos, vel


def test_limits_are_the_franka_datasheet_values():
    assert VMAX == (2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61)
    assert AMAX == (15.0, 7.5, 10.0, 12.5, 15.0, 20.0, 20.0)


def test_a_30_rad_per_s_trajectory_is_refused_with_the_joint_value_and_limit():
    # 30 rad/s given in the points ...
    with pytest.raises(MotionLimitError) as err:
        _check([RawPoint(0.1, _q(3.0), _q(30.0)), RawPoint(0.2, _q(6.0), _q(0.0))])
    assert 'panda_joint2 velocity 30.000 rad/s given at point 0' in str(err.value)
    assert 'velocity limit 2.175 rad/s (5 % tolerance)' in str(err.value)
    # ... or implied by positions and times alone
    with pytest.raises(MotionLimitError) as err:
        _check([RawPoint(0.1, _q(3.0))])
    assert 'panda_joint2 velocity 30.000 rad/s on average from the set-point to point 0' \
        in str(err.value) and 'velocity limit 2.175 rad/s' in str(err.value)
    assert isinstance(err.value, TrajectoryError) and err.value.status == 'motion_limit'


def test_a_velocity_step_is_refused_as_over_acceleration():
    # 2.0 rad/s (inside the velocity limit) from rest within 10 ms: >= 400 rad/s^2 needed
    points = [RawPoint(0.01 * k, _q(0.02 * k)) for k in range(1, 30)]
    with pytest.raises(MotionLimitError) as err:
        _check(points)
    assert 'panda_joint2 acceleration of at least 400.000 rad/s^2 from the set-point to ' \
        'point 0' in str(err.value) and 'acceleration limit 7.500 rad/s^2' in str(err.value)
    # from 1 rad/s, reached smoothly, to 2 rad/s between two points
    times, pos, _ = _ramp(1.0, 5.0)
    half = len(times) // 2   # 0.2 s: at 1 rad/s
    smooth = [RawPoint(t, _q(q)) for t, q in zip(times[:half], pos[:half])]
    t0, q0 = times[half - 1], pos[half - 1]
    faster = [RawPoint(t0 + 0.01 * k, _q(q0 + 0.02 * k)) for k in range(1, 11)]
    t1, q1 = t0 + 0.1, q0 + 0.2
    faster += [RawPoint(t1 + t, _q(q1 + 2.0 * t - 2.5 * t * t))   # and a smooth stop
               for t in np.arange(0.01, 0.4 + 1e-9, 0.01)]
    _check(smooth[:-1] + [RawPoint(t0 + 0.5, _q(q0 + 0.5 - 0.1))])   # slowing down: fine
    inner = r'panda_joint2 acceleration of at least 5\d\.\d+ rad/s\^2 around point 19'
    with pytest.raises(MotionLimitError, match=inner):
        _check(smooth + faster)


def test_a_step_jump_at_time_zero_is_refused_and_the_start_point_is_fine():
    with pytest.raises(MotionLimitError, match='at time 0 panda_joint2 is at 0.3000 rad, '
                                               '0.3000 rad from its set-point: a step jump'):
        _check([RawPoint(0.0, _q(0.3)), RawPoint(1.0, _q(0.4))])
    _check([RawPoint(0.0, _q(0.002)), RawPoint(1.0, _q(0.3))])   # where the arm is: fine
    with pytest.raises(MotionLimitError, match='a velocity step'):
        _check([RawPoint(0.0, _q(0.0), _q(1.0)), RawPoint(1.0, _q(0.3), _q(0.0))])
    # the executor plans from the measured joints: a start where the arm is (sagging 0.02 rad
    # below a set-point it cannot reach) is no jump either
    sagging = np.array(_q(-0.02))
    _check([RawPoint(0.0, list(sagging)), RawPoint(1.0, _q(0.3))], actual=sagging)
    with pytest.raises(MotionLimitError, match='from its set-point and the arm: a step jump'):
        _check([RawPoint(0.0, _q(0.3)), RawPoint(1.0, _q(0.4))], actual=sagging)
    # sent a little before the last one ended, while the set-point still slows down
    _check([RawPoint(0.0, _q(0.0), _q(0.0)), RawPoint(1.0, _q(0.3), _q(0.0))],
           start_velocity=_q(0.05))


def test_sparse_waypoints_a_smooth_controller_can_follow_are_accepted():
    # one point 0.4 rad away in 1 s, then another: a rest-to-rest move needs 1.6 rad/s^2
    _check([RawPoint(1.0, _q(0.4))])
    _check([RawPoint(1.0, _q(0.4)), RawPoint(2.5, _q(-0.2))])
    # a dense trapezoid at 95 % of the limits, positions only and with velocities
    times, pos, vel = _ramp(0.95 * 2.175, 0.95 * 7.5)
    _check([RawPoint(t, _q(q)) for t, q in zip(times, pos)])
    traj = _check([RawPoint(t, _q(q), _q(v)) for t, q, v in zip(times, pos, vel)])
    usage = motion_limit_usage(ARM, traj, REST)
    assert usage['velocity'] == pytest.approx(0.95, abs=0.01)
    assert 0.9 < usage['acceleration'] < 1.0


def test_tolerance_over_the_limits():
    times, pos, vel = _ramp(1.04 * 2.175, 7.0)
    points = [RawPoint(t, _q(q), _q(v)) for t, q, v in zip(times, pos, vel)]
    _check(points)                                   # 4 % over: inside the 5 % tolerance
    with pytest.raises(MotionLimitError, match='velocity limit 2.175 rad/s'):
        _check(points, tolerance=0.0)
    times, pos, vel = _ramp(1.0, 1.06 * 7.5, dt=0.005)
    with pytest.raises(MotionLimitError, match='acceleration limit 7.500 rad/s'):
        _check([RawPoint(t, _q(q), _q(v)) for t, q, v in zip(times, pos, vel)])


def test_replacing_a_running_motion_starts_from_the_setpoint_velocity():
    moving = _q(1.0)   # joint 2 at 1 rad/s now
    # carrying on at the same speed is fine; reversing at once is not
    _check([RawPoint(0.1, _q(0.1), _q(1.0)), RawPoint(0.4, _q(0.25), _q(0.0))],
           start_velocity=moving)
    with pytest.raises(MotionLimitError, match='panda_joint2 acceleration'):
        _check([RawPoint(0.05, _q(-0.05))], start_velocity=moving)


def test_stops_and_controllers_without_limits_are_never_refused():
    stop = validate_trajectory(ARM, [], [])
    check_motion_limits(ARM, stop, REST, _q(2.0))
    assert motion_limit_usage(ARM, stop, REST) == {'velocity': 0.0, 'acceleration': 0.0}
    gripper = ControllerSpec('gripper_controller', ('f1',), (0.0,), (0.04,))
    fast = validate_trajectory(gripper, ['f1'], [RawPoint(0.001, [0.04])])
    check_motion_limits(gripper, fast, [0.0])

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""toppra timing of joint paths (pure; skipped where the optional toppra is not installed)."""

import numpy as np
import pytest

from nsvla_common.errors import ValidationError
from nsvla_control.motion import PANDA_AMAX, PANDA_VMAX
from nsvla_control.timing import (densify, limit_demand, time_parameterise, timed_within_limits,
                                  within_limits)
from nsvla_sim.trajectory import (check_motion_limits, ControllerSpec, Trajectory,
                                  TrajectoryPoint)

pytest.importorskip('toppra', reason='toppra is optional (pip install toppra); the default '
                    'trapezoid timing does not need it')

from nsvla_control.timing_toppra import time_parameterise_toppra  # noqa: E402

VMAX = np.array(PANDA_VMAX) * 0.4
AMAX = np.array(PANDA_AMAX) * 0.3
Q0 = np.array([0.0, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8])
TURN = Q0 + np.array([0, 0, 0, 0, 0, 0, 1.5])             # a grasp yaw turn (joint 7) ...
KINKED = [Q0, TURN, TURN + np.array([0, 0.4, 0, -0.3, 0, 0.2, 0])]  # ... then a 90 deg bend
SMOOTH = [Q0 + 0.6 * np.array([np.sin(a), np.cos(a) - 1, 0.5 * a, -a, 0.3 * a, a, 0.2 * a])
          for a in np.linspace(0.0, 1.2, 25)]
ARM = ControllerSpec('arm_controller', tuple('j%d' % i for i in range(7)), (-9.0,) * 7,
                     (9.0,) * 7, max_velocity=PANDA_VMAX, max_acceleration=PANDA_AMAX)
SCALED = ControllerSpec('arm_controller', ARM.joints, ARM.lower, ARM.upper,
                        max_velocity=tuple(VMAX), max_acceleration=tuple(AMAX))


def _sim_check(spec, timed):
    traj = Trajectory(spec.name, tuple(
        TrajectoryPoint(float(t), tuple(q), tuple(v))
        for t, q, v in zip(timed.times, timed.positions, timed.velocities)))
    check_motion_limits(spec, traj, timed.positions[0], tolerance=0.0)


@pytest.mark.parametrize('points', [KINKED, SMOOTH], ids=['kinked', 'smooth'])
def test_toppra_keeps_the_limits_the_executor_and_the_sim_check(points):
    timed = time_parameterise_toppra(points, VMAX, AMAX)
    assert limit_demand(timed, VMAX, AMAX) <= 0.95     # within_limits has nothing to stretch
    assert within_limits(timed, VMAX, AMAX) is timed
    _sim_check(SCALED, timed)                          # the sim's lower bounds, scaled limits
    _sim_check(ARM, timed)


@pytest.mark.parametrize('points', [KINKED, SMOOTH], ids=['kinked', 'smooth'])
def test_toppra_starts_and_ends_at_rest_on_the_trapezoid_samples(points):
    timed = time_parameterise_toppra(points, VMAX, AMAX)
    trap = time_parameterise(points, VMAX, AMAX)
    assert timed.positions.shape == trap.positions.shape == densify(points).shape
    assert timed.velocities.shape == timed.positions.shape == (len(timed.times), 7)
    np.testing.assert_allclose(timed.positions, densify(points))
    assert timed.times[0] == 0.0 and np.all(np.diff(timed.times) > 0)
    assert np.all(timed.velocities[0] == 0.0) and np.all(timed.velocities[-1] == 0.0)


def test_toppra_beats_the_stretched_trapezoid_on_a_bend():
    toppra = timed_within_limits(KINKED, VMAX, AMAX, 'toppra')
    trap = timed_within_limits(KINKED, VMAX, AMAX, 'trapezoid')
    assert limit_demand(time_parameterise(KINKED, VMAX, AMAX), VMAX, AMAX) > 5
    assert toppra.duration < 0.5 * trap.duration
    smooth = timed_within_limits(SMOOTH, VMAX, AMAX, 'toppra')
    assert smooth.duration <= timed_within_limits(SMOOTH, VMAX, AMAX, 'trapezoid').duration


def test_toppra_handles_a_tiny_move_and_no_move():
    tiny = time_parameterise_toppra([Q0, Q0 + 1e-3], VMAX, AMAX)
    assert len(tiny.times) == 3 and tiny.duration > 0
    assert limit_demand(tiny, VMAX, AMAX) <= 0.95
    still = time_parameterise_toppra([Q0, Q0], VMAX, AMAX)
    assert still.duration == 0.0 and still.positions.shape == (1, 7)


def test_unknown_method_and_bad_limits_are_refused():
    with pytest.raises(ValidationError, match='unknown time parameterization'):
        timed_within_limits(KINKED, VMAX, AMAX, 'spline')
    with pytest.raises(ValidationError, match='one velocity'):
        time_parameterise_toppra(KINKED, VMAX[:3], AMAX)


def test_the_executor_parameter_reaches_the_builtin_backend():
    from nsvla_common.rig import load_scene
    from nsvla_control.executor import load_parameters, make_motion
    from nsvla_control.motion import ArmSegment, BuiltinMotion, MotionError
    params = load_parameters()
    assert params['time_parameterization'] == 'trapezoid'      # the shipped default
    scene = load_scene(params['scene_config'])
    motion = make_motion('builtin', scene, dict(params, time_parameterization='toppra'))
    assert motion.time_parameterization == 'toppra'
    (seg,) = motion.joint_move(motion.q_rest, np.asarray(motion.q_rest) + 0.3)
    assert isinstance(seg, ArmSegment)
    assert limit_demand(seg, motion.vmax, motion.amax) <= 0.95
    with pytest.raises(MotionError, match='unknown time_parameterization'):
        BuiltinMotion.for_scene(scene, time_parameterization='spline')

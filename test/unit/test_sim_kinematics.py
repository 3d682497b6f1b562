# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Damped-least-squares IK over mj_jacSite on the scene's Panda model."""

import math

import mujoco
import numpy as np
import pytest

from nsvla_common.errors import ValidationError
from nsvla_common.robot import top_down_quat
from nsvla_control.kinematics import IKError, IKSolver, quat_error
from nsvla_sim import mjcf
from nsvla_sim.scene import load_scene, make_layout


@pytest.fixture(scope='module')
def spec():
    return load_scene()


@pytest.fixture(scope='module')
def model(spec):
    return mujoco.MjModel.from_xml_string(mjcf.build_mjcf(spec, make_layout(spec, 3)))


@pytest.fixture
def ik(model, spec):
    return IKSolver(model, mjcf.TCP_SITE, mjcf.ARM_JOINTS, q_rest=spec.home)


def test_top_down_quat_points_the_tcp_down_with_fingers_along_yaw():
    for yaw in (0.0, math.pi / 4, -math.pi / 2):
        mat = np.zeros(9)
        mujoco.mju_quat2Mat(mat, top_down_quat(yaw))
        mat = mat.reshape(3, 3)
        assert np.allclose(mat[:, 2], [0, 0, -1], atol=1e-9)                  # approach
        assert np.allclose(mat[:, 1], [math.cos(yaw), math.sin(yaw), 0], atol=1e-9)  # fingers
        assert np.linalg.det(mat) == pytest.approx(1.0)


@pytest.mark.parametrize('peg, z, yaw', [(1, 0.015, -math.pi / 2), (2, 0.075, -math.pi / 2),
                                         (3, 0.135, 0.0), (2, 0.20, -math.pi / 4)])
def test_reaches_grasp_poses_over_every_peg(ik, spec, peg, z, yaw):
    x, y = spec.peg_xy(peg)
    target = np.array([x, y, z])
    quat = top_down_quat(yaw)
    res = ik.solve(target, quat, q_init=spec.home)
    assert res.success, res.reason
    pos, got = ik.forward(res.q)
    assert np.linalg.norm(pos - target) < 5e-4
    assert np.linalg.norm(quat_error(quat, got)) < 5e-3
    assert np.all(res.q >= ik.lower - 1e-12) and np.all(res.q <= ik.upper + 1e-12)


def test_stays_inside_joint_limits_and_reports_an_unreachable_target(ik, spec):
    res = ik.solve([1.6, 0.0, 0.3], top_down_quat(0.0), q_init=spec.home, max_iters=150)
    assert not res.success
    assert 'did not converge' in res.reason and 'mm' in res.reason
    assert np.all(res.q >= ik.lower - 1e-12) and np.all(res.q <= ik.upper + 1e-12)
    with pytest.raises(IKError) as err:
        ik.solve_or_raise([1.6, 0.0, 0.3], top_down_quat(0.0), q_init=spec.home, max_iters=50)
    assert err.value.status == 'ik_failed'


def test_does_not_touch_the_simulation_data(model, spec):
    data = mujoco.MjData(model)
    before = data.qpos.copy()
    IKSolver(model, mjcf.TCP_SITE, mjcf.ARM_JOINTS).solve([0.5, 0.0, 0.1], top_down_quat(0.0))
    assert np.array_equal(before, data.qpos)


def test_position_only_and_bad_input(ik):
    res = ik.solve([0.45, 0.1, 0.3])
    assert res.success and res.rotation_error == 0.0
    with pytest.raises(ValidationError):
        ik.solve([0.4, math.nan, 0.2])
    with pytest.raises(ValidationError):
        ik.solve([0.4, 0.0, 0.2], [0, 0, 0, 0])
    with pytest.raises(ValidationError):
        IKSolver(ik.model, 'no_such_site', mjcf.ARM_JOINTS)

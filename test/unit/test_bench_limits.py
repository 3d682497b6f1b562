# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""bench/limits.py: per-move velocity and acceleration against the Panda's limits."""

import numpy as np
import pytest

from conftest import load_bench
from nsvla_common.robot import ARM_JOINTS, ARM_MOTION_LIMITS


@pytest.fixture(scope='module')
def limits():
    return load_bench('limits')


def test_a_command_s_demand_is_its_largest_speed_and_mean_acceleration(limits):
    v1, a1 = ARM_MOTION_LIMITS['panda_joint1']
    # joint 1 speeds up to half its limit in 1 s, then stops in 0.5 s; the others stand still
    points = [(0.0, [0.0] * 7, [0.0] * 7),
              (1.0, [0.2] + [0.0] * 6, [0.5 * v1] + [0.0] * 6),
              (1.5, [0.4] + [0.0] * 6, [0.0] * 7)]
    v, a = limits.command_demand(list(ARM_JOINTS), points)
    assert v[0] == pytest.approx(0.5) and not v[1:].any()
    assert a[0] == pytest.approx(0.5 * v1 / 0.5 / a1) and not a[1:].any()
    # the names in another order: the same demand
    order = list(reversed(ARM_JOINTS))
    flipped = [(t, q[::-1], dq[::-1]) for t, q, dq in points]
    v2, a2 = limits.command_demand(order, flipped)
    assert np.allclose(v, v2) and np.allclose(a, a2)


def test_executed_acceleration_is_measured_over_the_window_not_one_sample(limits):
    v7, a7 = ARM_MOTION_LIMITS['panda_joint7']
    t = np.arange(0.0, 2.0, 0.02)
    vel = np.clip(t, 0.0, 1.0) * 0.5 * v7        # ramps to half the limit in 1 s
    samples = []
    for ti, vi in zip(t, vel):
        dq = np.zeros(7)
        dq[6] = vi
        samples.append((ti, ti, np.zeros(7), dq))
    spike = list(samples[60])
    spike[3] = samples[60][3].copy()
    spike[3][6] += 0.05                           # one noisy sample, after the ramp
    samples[60] = tuple(spike)
    v, a = limits.executed_demand(samples, 0.1)
    assert v[6] == pytest.approx(0.5 + 0.05 / v7, rel=1e-6)
    # the ramp's 0.5 v7 per second; the noise spread over 0.1 s is less than that
    assert a[6] == pytest.approx(max(0.5 * v7, 0.05 / 0.1) / a7, rel=0.05)
    _v, a_raw = limits.executed_demand(samples, 0.0)
    assert a_raw[6] > a[6]                        # a single sample's jump is larger

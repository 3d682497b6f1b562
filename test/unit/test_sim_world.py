# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""HanoiWorld in physics: scripted pick-and-place, grasp physics, faults, control, rendering."""

import math

import numpy as np
import pytest

from nsvla_common.errors import ValidationError
from nsvla_common.robot import top_down_quat
from nsvla_planner.state import SymbolicState
from nsvla_sim.pick_place import choose_move, PickPlaceScript
from nsvla_sim.trajectory import RawPoint, TrajectoryError
from nsvla_sim.world import HanoiWorld


@pytest.fixture
def world3():
    world = HanoiWorld(num_blocks=3, seed=0)
    yield world
    world.close()


def test_scripted_pick_and_place_moves_the_top_block_by_friction(world3):
    result = PickPlaceScript(world3).run('p1', 'p3')
    assert result.moved, result.reason
    assert result.before == SymbolicState.tower(3, 3)
    assert result.after == SymbolicState.from_stacks({'p1': ['b3', 'b2'], 'p3': ['b1']}, 3, 3)
    kinds = [e['event'] for e in result.events]
    assert kinds.count('lift') == 1 and 'release' in kinds
    # The fingers carried it: no weld was ever switched on.
    assert 'weld_on' not in kinds
    assert not world3.data.eq_active[list(world3._weld_eq.values())].any()
    pos, _ = world3.block_pose('b1')
    assert np.linalg.norm(pos[:2] - world3.peg_position(3)[:2]) < 0.006


@pytest.mark.parametrize('n, seed', [(4, 3), (6, 0)])
def test_pick_and_place_from_random_starts_and_tall_stacks(n, seed):
    world = HanoiWorld(num_blocks=n, seed=seed, start='random' if seed else 'tower')
    try:
        before = world.ground_truth()
        result = PickPlaceScript(world).run()
        assert result.moved, result.reason
        src, dst = result.source, result.target
        assert result.after.stacks()[dst][-1] == before.stacks()[src][-1] == result.block
        assert result.after.stacks()[src] == before.stacks()[src][:-1]
    finally:
        world.close()


def test_the_block_is_held_by_the_fingers_in_transit(world3):
    """Stop mid-transport: ground truth says holding(b1), and b1 moves with the TCP."""
    script = PickPlaceScript(world3)
    quat = top_down_quat(world3.grasp_yaw('b1'))
    src = world3.block_pose('b1')[0]
    grasp = np.r_[src[:2], world3.block_grasp_height(2)]
    script._grip(0.04, 0.3)
    script._move([grasp + [0, 0, 0.06], grasp], [0.25, 0.08], quat)
    script._grip(0.0, 0.5)
    script._move([grasp + [0, 0, 0.10]], [0.1], quat)
    state = world3.ground_truth()
    assert state.known and state.holding == 'b1', state
    tcp_before, blk_before = world3.tcp_pose()[0], world3.block_pose('b1')[0]
    script._move([grasp + [0.0, 0.08, 0.10]], [0.1], quat)
    tcp_after, blk_after = world3.tcp_pose()[0], world3.block_pose('b1')[0]
    assert np.linalg.norm((blk_after - blk_before) - (tcp_after - tcp_before)) < 0.003
    assert world3.held_block() == 'b1'


def test_without_finger_friction_the_block_stays_behind():
    world = HanoiWorld(num_blocks=3)
    try:
        world._pad_friction[:] = 0.0
        world.model.geom_friction[world._pad_geoms] = 0.0
        result = PickPlaceScript(world).run('p1', 'p2')
        assert not result.moved and result.after.peg_of('b1') == 'p1'
    finally:
        world.close()


def test_weld_assist_carries_a_block_the_fingers_cannot():
    world = HanoiWorld(num_blocks=3, weld_assist=True)
    try:
        world._pad_friction[:] = 0.0
        world.model.geom_friction[world._pad_geoms] = 0.0
        result = PickPlaceScript(world).run('p1', 'p2')
        assert result.moved, result.reason
        kinds = [e['event'] for e in result.events]
        assert 'weld_on' in kinds and 'weld_off' in kinds
        assert not world.data.eq_active.any() or world._weld_on is None
    finally:
        world.close()


def test_fault_injection_drops_the_block_mid_transport():
    world = HanoiWorld(num_blocks=3, seed=0, drop_probability=1.0)
    try:
        result = PickPlaceScript(world).run('p1', 'p2')
        assert not result.moved
        kinds = [e['event'] for e in result.events]
        assert 'drop_injected' in kinds
        drop = next(e for e in result.events if e['event'] == 'drop_injected')
        lift = next(e for e in result.events if e['event'] == 'lift')
        assert lift['drop_at'] is not None and drop['time'] >= lift['drop_at'] - 1e-6
        assert result.after.peg_of('b1') != 'p2'
        assert world.model.geom_friction[world._pad_geoms, 0].min() > 0   # friction restored
        events, total = world.events_since(0)
        assert total == len(events) == len(result.events)
        assert world.events_since(total) == ([], total)
        assert world.events_since(total - 1)[0] == events[-1:]
    finally:
        world.close()


def test_fault_decisions_follow_the_seed():
    from nsvla_sim.faults import DropInjector
    a = DropInjector(0.5, seed=3)
    b = DropInjector(0.5, seed=3)
    seq_a = [a.on_lift('b1', t) for t in range(20)]
    seq_b = [b.on_lift('b1', t) for t in range(20)]
    assert seq_a == seq_b
    assert 3 < sum(x is not None for x in seq_a) < 17
    low, high = a.delay
    assert (low, high) == (0.1, 1.6)
    assert all(d is None or low <= d - t <= high for t, d in enumerate(seq_a))
    assert all(x is None for x in (DropInjector(0.0, seed=1).on_lift('b1', 0.0)
                                   for _ in range(10)))


def test_bad_trajectory_is_rejected_and_the_arm_holds_still(world3):
    q0 = world3.arm_positions()
    bad = list(world3.home)
    bad[3] = 0.5   # joint 4 must stay below -0.0698
    with pytest.raises(TrajectoryError, match='panda_joint4 = 0.5000 is outside'):
        world3.set_trajectory('arm', world3.arm_joint_names, [RawPoint(1.0, bad)])
    with pytest.raises(TrajectoryError, match='unknown joint'):
        world3.set_trajectory('arm', ['elbow'] + list(world3.arm_joint_names[1:]),
                              [RawPoint(1.0, list(world3.home))])
    with pytest.raises(TrajectoryError, match='unknown controller'):
        world3.set_trajectory('legs', [], [])
    world3.advance(0.5)
    assert np.max(np.abs(world3.arm_positions() - q0)) < 1e-3
    assert not world3.busy()


def test_arm_follows_a_joint_trajectory(world3):
    goal = np.array(world3.home)
    goal[0] += 0.4
    goal[5] -= 0.2
    world3.set_trajectory('arm', world3.arm_joint_names, [RawPoint(1.0, list(goal))])
    assert world3.busy()
    world3.advance(0.5)
    mid = world3.arm_positions()
    assert 0.1 < mid[0] - world3.home[0] < 0.3
    world3.run_until_idle(5.0)
    assert np.max(np.abs(world3.arm_positions() - goal)) < 2e-3
    world3.set_trajectory('gripper', ['panda_finger_joint2'], [RawPoint(0.4, [0.01])])
    world3.run_until_idle(5.0)
    assert world3.gripper_opening() == pytest.approx(0.01, abs=1e-3)
    names, pos, vel, eff = world3.joint_state()
    assert names[:7] == list(world3.arm_joint_names) and len(pos) == len(vel) == len(eff) == 9


def test_ground_truth_loose_when_a_block_lies_off_the_pegs(world3):
    adr = world3._block_qpos['b1']
    world3.data.qpos[adr:adr + 3] = (0.30, 0.30, 0.012)
    world3.advance(0.3)
    state = world3.ground_truth()
    assert state.known and state.loose == {'b1': 'table'}, state
    assert state.stacks()['p1'] == ['b3', 'b2']


def test_a_block_past_the_table_s_edge_falls_off_and_says_so_once(world3):
    adr = world3._block_qpos['b1']
    # over the floor beyond the table's far edge (the table spans y -0.5..0.5)
    world3.data.qpos[adr:adr + 3] = (0.40, 0.62, 0.05)
    world3.advance(0.3)
    assert set(world3.fallen) == {'b1'}
    (event,) = [e for e in world3.events if e['event'] == 'fell_off_table']
    assert event['block'] == 'b1' and event['y'] > 0.5
    world3.advance(0.3)
    assert len([e for e in world3.events if e['event'] == 'fell_off_table']) == 1
    # a block on the table is not fallen; a reset forgets the fall
    world3.reset()
    world3.advance(0.1)
    assert world3.fallen == {}


def test_reset_random_start_and_clock_never_runs_back(world3):
    world3.advance(0.5)
    t = world3.time
    state = world3.reset(seed=7, start='random')
    assert world3.time > t
    assert state == world3.layout.start_state(3)
    assert world3.reset(seed=7, start='random') == state
    state5 = world3.reset(seed=1, num_blocks=5, start='tower:2')
    assert state5.stacks()['p2'] == ['b5', 'b4', 'b3', 'b2', 'b1']


def test_geometry_helpers_for_ik(world3):
    assert world3.peg_position(2)[:2] == pytest.approx(world3.spec.peg_xy(2))
    levels = [world3.block_grasp_height(k) for k in range(4)]
    height = world3.spec.block_height
    assert all(b - a == pytest.approx(height) for a, b in zip(levels, levels[1:]))
    # the grasp is 5 mm above the disk centre
    assert levels[0] == pytest.approx(world3.spec.block_height / 2 + 0.005)
    assert world3.block_place_height(1) > world3.block_grasp_height(1)
    assert world3.blocks_on_peg(1) == ['b3', 'b2', 'b1']
    yaw = world3.grasp_yaw('b1')
    assert math.isclose((yaw + math.pi / 2) % (math.pi / 4), 0.0, abs_tol=0.02) or \
        math.isclose((yaw + math.pi / 2) % (math.pi / 4), math.pi / 4, abs_tol=0.02)
    limits = world3.joint_limits()
    assert limits['panda_joint4'][1] < 0 and limits['panda_finger_joint1'] == (0.0, 0.04)
    assert world3.ik_solver().solve(world3.tcp_pose()[0], world3.tcp_pose()[1],
                                    q_init=world3.arm_positions()).success


def test_render_and_camera_model(world3):
    img = world3.render(224, 168)
    assert img.shape == (168, 224, 3) and img.dtype == np.uint8 and img.std() > 5
    img = world3.render()
    assert img.shape == (480, 640, 3)
    info = world3.camera_info(640, 480)
    assert info['k'][0] == pytest.approx(info['k'][4]) and info['k'][2] == pytest.approx(319.5)
    # the pinhole model matches the renderer: each block's top face projects onto its colour
    for b in world3.block_names:
        pos, _ = world3.block_pose(b)
        apothem = world3.block_apothem(b)
        ring = pos + [0, apothem - 0.003, world3.spec.block_height / 2 - 0.001]
        u, v = world3.project([ring])[0]
        pixel = img[int(round(v)), int(round(u))].astype(float)
        colour = np.array(world3.layout.blocks[int(b[1:]) - 1].colour) * 255
        assert np.argmax(pixel) == np.argmax(colour), (b, pixel, colour)
    with pytest.raises(ValidationError, match='render size'):
        world3.render(4000, 3000)
    overview = world3.render(320, 240, camera='overview')
    assert overview.shape == (240, 320, 3)


def test_choose_move_is_legal():
    state = SymbolicState.from_stacks({'p1': ['b3', 'b1'], 'p2': ['b2']}, 3, 3)
    assert tuple(choose_move(state)) == ('p1', 'p2')
    assert tuple(choose_move(state, 'p2')) == ('p2', 'p3')
    with pytest.raises(ValidationError, match='smaller'):
        choose_move(state, 'p2', 'p1')

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Every tower size 3..6 fits the default scene: sizes, colours, camera, pegs, reach, physics.

The pegs (45 mm) thread the two lowest rings and the bottom of the third; higher rings rest on
the ring below. They cannot be taller: grasping a ring on the table puts the palm of the Panda
hand (37 mm above the TCP) 52 mm above the table, so a taller peg tip would stop the hand.
"""

import math

import mujoco
import numpy as np
import pytest

from nsvla_common.robot import top_down_quat
from nsvla_control.motion import BuiltinMotion
from nsvla_control.skills import MoveSpec, Skills
from nsvla_planner.state import SymbolicState
from nsvla_sim import mjcf
from nsvla_sim.scene import GRIPPER_MAX_OPENING, load_scene
from nsvla_sim.world import HanoiWorld

SIZES = (3, 4, 5, 6)
MOST = max(SIZES)
HAND_CLEARANCE = 0.003      # m the palm stays above a peg tip at the lowest grasp
IMAGE_MARGIN_PX = 20


@pytest.fixture(scope='module')
def spec():
    return load_scene()


@pytest.fixture(scope='module')
def world6():
    world = HanoiWorld(num_blocks=MOST, seed=0)
    yield world
    world.close()


def _ring_outline(spec, num_blocks, peg, level, block_index):
    """Corner points of the bottom and top outline of a ring at ``level`` on ``peg``."""
    x, y = spec.peg_xy(peg)
    corner = spec.block_apothems(num_blocks)[block_index - 1] / math.cos(math.pi / spec.segments)
    pts = []
    for z in (spec.block_bottom_z(level), spec.block_bottom_z(level + 1)):
        for k in range(spec.segments):
            a = (k + 0.5) * 2 * math.pi / spec.segments
            pts.append((x + corner * math.cos(a), y + corner * math.sin(a), z))
    return pts


def _hand_lowest_z(world):
    """Lowest z of the hand's collision mesh (the palm), fingers excluded."""
    m, d = world.model, world.data
    hand = m.body(mjcf.HAND_BODY).id
    low = math.inf
    for g in range(m.ngeom):
        if m.geom_bodyid[g] != hand or m.geom_type[g] != mujoco.mjtGeom.mjGEOM_MESH:
            continue
        mesh = m.geom_dataid[g]
        start = m.mesh_vertadr[mesh]
        verts = m.mesh_vert[start:start + m.mesh_vertnum[mesh]]
        low = min(low, float((verts @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g])[:, 2]
                             .min()))
    return low


def test_the_scene_has_six_sizes_colours_and_names(spec):
    sizes = spec.block_apothems(MOST)
    steps = np.diff(sizes)
    assert steps.min() >= 0.003 - 1e-12, sizes       # tell-apart sizes, one step each
    assert 2 * sizes[-1] < 2 * GRIPPER_MAX_OPENING - 0.008   # the open hand passes over b6
    assert sizes[0] > spec.hole_apothem + 0.005               # the smallest ring is a ring
    names = [spec.block_colour_name(i) for i in range(1, MOST + 1)]
    assert all(names) and len(set(names)) == MOST
    colours = [spec.block_colour(i) for i in range(1, MOST + 1)]
    assert len(set(colours)) == MOST


@pytest.mark.parametrize('n', SIZES)
def test_a_tower_of_n_stands_on_p1_and_ground_truth_reads_it(spec, n):
    world = HanoiWorld(spec, num_blocks=n, seed=0, start='tower')
    try:
        world.advance(1.0)
        px, py = spec.peg_xy(1)
        for i in range(1, n + 1):
            pos, quat = world.block_pose('b%d' % i)
            level = n - i
            assert abs(pos[2] - spec.block_centre_z(level)) < 0.001, ('b%d' % i, pos)
            assert math.hypot(pos[0] - px, pos[1] - py) < 0.002, ('b%d' % i, pos)
            assert abs(world.data.xmat[world.model.body('b%d' % i).id][8]) > 0.999
        assert world.ground_truth() == SymbolicState.tower(n, spec.num_pegs)
        assert world.blocks_on_peg(1) == ['b%d' % i for i in range(n, 0, -1)]
    finally:
        world.close()


def test_the_camera_sees_every_level_of_a_six_tower_on_every_peg(spec, world6):
    pts = [p for k in range(1, spec.num_pegs + 1) for level in range(MOST)
           for p in _ring_outline(spec, MOST, k, level, MOST - level)]
    pts += [tuple(world6.peg_top(k)) for k in range(1, spec.num_pegs + 1)]
    uv = world6.project(pts)
    w, h = spec.camera.width, spec.camera.height
    assert uv[:, 0].min() > IMAGE_MARGIN_PX and uv[:, 0].max() < w - IMAGE_MARGIN_PX, uv
    assert uv[:, 1].min() > IMAGE_MARGIN_PX and uv[:, 1].max() < h - IMAGE_MARGIN_PX, uv


@pytest.mark.parametrize('n', SIZES)
def test_travel_height_clears_stacks_and_peg_tips_with_a_ring_in_the_fingers(spec, n):
    travel = Skills(spec).travel_z(n)
    hanging_bottom = travel - (spec.block_height / 2 + spec.grasp_above_centre)
    assert hanging_bottom >= spec.block_bottom_z(n) + 0.03     # over a full tower
    assert hanging_bottom >= spec.peg_height + 0.03            # over the peg tips


def test_the_pegs_leave_room_for_the_palm_at_the_lowest_grasp(spec, world6):
    ik = world6.ik_solver()
    m, d = world6.model, world6.data
    q = np.array(spec.home)
    for k in range(1, spec.num_pegs + 1):
        x, y = spec.peg_xy(k)
        res = ik.solve((x, y, spec.grasp_z(0)), top_down_quat(-math.pi / 2), q_init=q)
        assert res.success, res.reason
        d.qpos[[m.joint(j).qposadr[0] for j in mjcf.ARM_JOINTS]] = res.q
        mujoco.mj_kinematics(m, d)
        assert _hand_lowest_z(world6) > spec.peg_height + HAND_CLEARANCE, k
    world6.reset()


def test_ik_reaches_every_level_on_every_peg(spec):
    """Grasp, lift, travel and release poses of six-block moves from and to every level."""
    motion = BuiltinMotion.for_scene(spec)
    skills = Skills(spec)
    q = np.array(spec.home)
    for src in range(1, spec.num_pegs + 1):
        for level in range(MOST):
            for dst in [p for p in range(1, spec.num_pegs + 1) if p != src]:
                move = MoveSpec('b1', src, level, dst, MOST - 1 - level)
                segments, q = motion.plan_move(q, skills.move_waypoints(move, MOST), 0.02)
                assert segments


def test_six_block_top_moves_run_in_physics_through_the_executor(world6):
    from nsvla_control.sim_robot import make_sim_executor
    world6.reset(seed=0, start='tower')
    executor = make_sim_executor(world6, 'ground_truth')
    state = world6.ground_truth()
    assert state == SymbolicState.tower(MOST, 3)
    for block, onto in (('b1', 'p3'), ('b2', 'p2'), ('b1', 'b2'), ('b3', 'p3')):
        ok, why = executor.execute_move(state, block, onto)
        assert ok, why
        state = executor.observe()
        assert state.known, state.reason
        assert state.stacks()[onto if onto.startswith('p') else state.peg_of(onto)][-1] == block
    assert state.stacks() == {'p1': ['b6', 'b5', 'b4'], 'p2': ['b2', 'b1'], 'p3': ['b3']}
    kinds = [e['event'] for e in world6.events]
    assert kinds.count('lift') == 4 and 'weld_on' not in kinds and 'drop_injected' not in kinds


@pytest.mark.slow
def test_a_six_block_tower_is_moved_end_to_end():
    from nsvla_control.bench_cli import run_one
    result = run_one(MOST, 0, 0.0, 'ground_truth', 'tower', 3)
    assert result.solved, result.reason
    assert result.moves == 2 ** MOST - 1 and result.replans == 0

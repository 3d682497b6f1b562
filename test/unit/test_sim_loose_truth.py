# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Ground truth of loose blocks: off the pegs, perched, tilted (hand-made poses, then physics)."""

import math

import mujoco
import numpy as np
import pytest

from nsvla_planner import domain
from nsvla_planner.planning import Planner
from nsvla_planner.state import Goal, SymbolicState, TABLE
from nsvla_sim import mjcf
from nsvla_sim.ground_truth import BlockObservation, symbolic_from_observations
from nsvla_sim.scene import load_scene
from nsvla_sim.world import HanoiWorld

TILT_30 = math.cos(math.radians(30))


@pytest.fixture(scope='module')
def spec():
    return load_scene()


def _on(spec, name, peg, level, dx=0.0, up=1.0, **kwargs):
    x, y = spec.peg_xy(peg)
    return BlockObservation(name, (x + dx, y, spec.block_centre_z(level)), up, **kwargs)


def _read(spec, obs, n=3):
    return symbolic_from_observations(spec, n, obs, stamp=4.0)


def test_a_block_on_the_table_is_loose_there_with_its_pose(spec):
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1),
           BlockObservation('b1', (0.62, 0.25, 0.01), 1.0, yaw=0.3)]
    state = _read(spec, obs)
    assert state.known and state.source == 'ground_truth' and state.stamp == 4.0
    assert state.loose == {'b1': TABLE} and state.stacks()['p1'] == ['b3', 'b2']
    pose = state.poses['b1']
    assert (pose.x, pose.y, pose.z, pose.yaw, pose.upright) == (0.62, 0.25, 0.01, 0.3, True)
    assert state.min_confidence() == 1.0
    back = SymbolicState.from_json(state.to_json())
    assert back == state and back.poses == state.poses


def test_a_larger_block_perched_on_a_smaller_one_is_loose_on_it(spec):
    obs = [_on(spec, 'b1', 1, 0), _on(spec, 'b3', 1, 1, dx=0.003), _on(spec, 'b2', 2, 0)]
    state = _read(spec, obs)
    assert state == SymbolicState(3, 3, {'b1': 'p1', 'b2': 'p2'}, loose={'b3': 'b1'})
    assert state.poses['b3'].z == pytest.approx(spec.block_centre_z(1))


def test_only_the_block_off_the_rules_is_loose_the_legal_ones_below_stay_stacked(spec):
    obs = [_on(spec, 'b4', 2, 0), _on(spec, 'b1', 2, 1), _on(spec, 'b3', 2, 2),
           _on(spec, 'b2', 3, 0)]
    state = _read(spec, obs, n=4)
    assert state.stacks() == {'p1': [], 'p2': ['b4', 'b1'], 'p3': ['b2']}
    assert state.loose == {'b3': 'b1'}


def test_a_ring_tilted_on_a_peg_tip_is_loose_on_the_peg(spec):
    x, y = spec.peg_xy(2)
    obs = [_on(spec, 'b3', 1, 0), _on(spec, 'b1', 3, 0),
           BlockObservation('b2', (x + 0.004, y, 0.04), TILT_30, yaw=0.1)]
    state = _read(spec, obs)
    assert state.known and state.loose == {'b2': 'p2'} and not state.poses['b2'].upright
    assert ('clear', ('p2',)) not in state.fact_keys()


def test_a_ring_tilted_on_top_of_a_stack_is_loose_on_the_top_block(spec):
    x, y = spec.peg_xy(1)
    obs = [_on(spec, 'b3', 1, 0), BlockObservation('b1', (x, y, 0.035), TILT_30),
           _on(spec, 'b2', 2, 0)]
    state = _read(spec, obs)
    assert state.known and state.loose == {'b1': 'b3'} and state.stacks()['p1'] == ['b3']


def test_a_larger_ring_perched_off_centre_on_a_small_one_is_loose_on_it(spec):
    """Its centre is farther from the peg than the capture radius, but b1 holds it up."""
    obs = [_on(spec, 'b1', 1, 0), _on(spec, 'b3', 1, 1, dx=0.016), _on(spec, 'b2', 3, 0)]
    state = _read(spec, obs)
    assert state.known and state.loose == {'b3': 'b1'}


def test_two_loose_blocks_and_one_in_the_hand(spec):
    obs = [BlockObservation('b1', (0.62, 0.25, 0.01), 1.0),
           BlockObservation('b2', (0.30, -0.30, 0.021), TILT_30),
           _on(spec, 'b3', 2, 0),
           BlockObservation('b4', (0.5, 0.0, 0.2), 1.0, finger_contacts=2, supported=False)]
    state = _read(spec, obs, n=4)
    assert state.known and state.holding == 'b4'
    assert state.loose == {'b1': TABLE, 'b2': TABLE} and state.stacks()['p2'] == ['b3']
    assert state.poses['b1'].upright and not state.poses['b2'].upright
    assert math.isnan(state.poses['b1'].yaw)


@pytest.mark.parametrize('b1, words', [
    (BlockObservation('b1', (0.62, 0.25, 0.05), 1.0, supported=False), 'b1 is still moving'),
    (BlockObservation('b1', (0.62, 0.25, 0.01), 1.0, speed=0.2), 'b1 is still moving'),
    (BlockObservation('b1', (0.50, 0.00, 0.03), TILT_30, finger_contacts=1, supported=False),
     'b1 is still moving'),
])
def test_a_block_still_moving_is_unknown_never_a_guess(spec, b1, words):
    state = _read(spec, [_on(spec, 'b3', 1, 0), _on(spec, 'b2', 1, 1), b1])
    assert not state.known and words in state.reason


@pytest.mark.parametrize('layout, words', [
    # a pile off the pegs: b1 lies on b2, which lies on the table
    ([(0.62, 0.25, 0.01, 1.0, 'b2'), (0.623, 0.25, 0.03, 1.0, 'b1'), (3, 0, 'b3')],
     'b2, which is loose itself'),
    # b2 lies on b3, which is perched on the smaller b1
    ([(1, 0, 'b1'), (1, 1, 'b3'), (1, 2, 'b2')], 'nothing may rest on a loose block'),
    # b1 tilted on the empty p2, and b2 tilted on the same peg above it
    ([(3, 0, 'b3'), (0.50, 0.0, 0.02, TILT_30, 'b1'), (0.50, 0.0, 0.04, TILT_30, 'b2')],
     'b1, which is loose itself'),
])
def test_what_the_rules_cannot_say_stays_unknown(spec, layout, words):
    obs = [_on(spec, o[2], o[0], o[1]) if len(o) == 3
           else BlockObservation(o[4], o[:3], o[3]) for o in layout]
    state = _read(spec, obs)
    assert not state.known and words in state.reason, state.reason


def test_the_planner_plans_from_a_hand_made_loose_truth(spec):
    obs = [_on(spec, 'b1', 1, 0), _on(spec, 'b3', 1, 1), _on(spec, 'b2', 2, 0)]
    state = _read(spec, obs)
    result = Planner('fast-downward').plan(state, Goal.tower(3, 3))
    assert result.ok, result.reason
    assert result.plan[0] == {'action': 'pick_loose', 'args': ['b3', 'b1']}
    assert Goal.tower(3, 3).satisfied_by(domain.replay(state, result.plan))


# ----------------------------------------------------------------------------- physics
@pytest.fixture
def world3():
    world = HanoiWorld(num_blocks=3, seed=0)
    yield world
    world.close()


def _put(world, name, xyz, yaw=0.0, up_tilt=0.0):
    """Place a block's free joint by hand (at rest) and let the physics take it from there."""
    adr = world._block_qpos[name]
    quat = np.zeros(4)
    turn = np.r_[math.cos(up_tilt / 2), math.sin(up_tilt / 2), 0.0, 0.0]
    mujoco.mju_mulQuat(quat, turn, np.asarray(mjcf.yaw_quat(yaw)))
    world.data.qpos[adr:adr + 3] = xyz
    world.data.qpos[adr + 3:adr + 7] = quat
    dof = int(world.model.body_dofadr[world._block_body[name]])
    world.data.qvel[dof:dof + 6] = 0.0


def test_physics_a_block_put_on_the_table_reads_loose_there_and_gets_planned_back(world3):
    spec = world3.spec
    _put(world3, 'b1', (0.62, 0.25, spec.block_centre_z(0) + 0.002), yaw=0.3)
    world3.advance(0.05)
    falling = world3.ground_truth()          # dropped 2 mm: not yet at rest, or just landed
    assert not falling.known or falling.loose == {'b1': TABLE}
    world3.advance(0.5)
    state = world3.ground_truth()
    assert state.known and state.source == 'ground_truth', state.reason
    assert state.loose == {'b1': TABLE} and state.stacks()['p1'] == ['b3', 'b2']
    pos, _ = world3.block_pose('b1')
    pose = state.poses['b1']
    assert np.linalg.norm(np.r_[pose.x, pose.y, pose.z] - pos) < 0.002
    assert np.linalg.norm(pos[:2] - [0.62, 0.25]) < 0.002 and pose.upright
    period = 2 * math.pi / spec.segments
    assert math.remainder(pose.yaw - 0.3, period) == pytest.approx(0.0, abs=0.02)
    result = Planner('fast-downward').plan(state, Goal.tower(3, 3))
    assert result.ok, result.reason
    assert 'pick_loose' in [s['action'] for s in result.plan]
    assert Goal.tower(3, 3).satisfied_by(domain.replay(state, result.plan))


def test_physics_a_large_ring_dropped_on_a_small_one_is_loose_on_it(world3):
    spec = world3.spec
    x, y = spec.peg_xy(3)
    _put(world3, 'b1', (x, y, spec.block_centre_z(0) + 0.0005))
    _put(world3, 'b2', (*spec.peg_xy(2), spec.block_centre_z(0) + 0.0005))
    _put(world3, 'b3', (x, y, spec.block_centre_z(1) + 0.01))
    world3.advance(1.0)
    state = world3.ground_truth()
    assert state == SymbolicState(3, 3, {'b1': 'p3', 'b2': 'p2'}, loose={'b3': 'b1'}), state
    assert state.poses['b3'].z == pytest.approx(world3.block_pose('b3')[0][2], abs=1e-6)


def test_physics_a_ring_standing_on_its_edge_is_loose_on_the_table_not_upright(world3):
    _put(world3, 'b1', (0.62, 0.25, 0.03), up_tilt=math.radians(85))
    world3.advance(5.0)                       # it rocks on its flat side a while, then stands
    state = world3.ground_truth()
    assert state.known and state.loose == {'b1': TABLE}, state.reason
    pose = state.poses['b1']
    assert not pose.upright and pose.z == pytest.approx(world3.block_apothem('b1'), abs=0.002)


def _stand(world, name, xy, axis):
    """Stand ``name`` on one of its flats, its axis heading ``axis`` (rad), and let it settle."""
    adr = world._block_qpos[name]
    apothem = world.spec.block_apothems(world.num_blocks)[int(name[1:]) - 1]
    line = np.array([-math.sin(axis), math.cos(axis), 0.0])     # the line in its plane
    quat = np.zeros(4)
    mujoco.mju_axisAngle2Quat(quat, line, math.pi / 2)
    world.data.qpos[adr:adr + 3] = (xy[0], xy[1], apothem + 0.001)
    world.data.qpos[adr + 3:adr + 7] = quat
    dof = int(world.model.body_dofadr[world._block_body[name]])
    world.data.qvel[dof:dof + 6] = 0.0
    mujoco.mj_forward(world.model, world.data)
    world.advance(1.0)


@pytest.mark.parametrize('axis', [0.5, -1.0, 2.0])
def test_physics_a_ring_on_its_edge_is_lifted_with_the_fingers_along_its_plane(axis):
    """
    Lift a ring standing on its edge with the fingers closing along its plane.

    The ring reads tilted, its yaw the line in its plane; the loose grasp closes the fingers
    along that line onto its edges and lifts it. Along its axis (the yaw a quarter turn off)
    the fingers pass its faces and it stays on the table.
    """
    from nsvla_control.sim_robot import make_sim_executor
    from nsvla_control.skills import LOOSE_PEG, MoveSpec
    held = {}
    for turn in (0.0, math.pi / 2):
        world = HanoiWorld(num_blocks=3, seed=0)
        try:
            _stand(world, 'b1', (0.56, 0.08), axis)
            truth = world.ground_truth()
            pose = truth.poses['b1']
            assert truth.loose == {'b1': TABLE} and not pose.upright
            line = math.remainder(axis + math.pi / 2, math.pi)
            assert abs(math.remainder(pose.yaw - line, math.pi)) < 0.05, (pose.yaw, line)
            ex = make_sim_executor(world, 'ground_truth')
            turned = type(pose)(pose.x, pose.y, pose.z, pose.yaw + turn, False)
            waypoints = ex.skills.loose_waypoints(MoveSpec('b1', LOOSE_PEG, 0, 3, 0), 3,
                                                  turned)[:3]     # above, grasp, lift
            apothem = world.spec.block_apothems(3)[0]
            segments, _ = ex.motion.plan_move(ex.arm.joint_positions(), waypoints,
                                              apothem - ex.params['grasp_squeeze'])
            assert ex.follow(segments) == (True, '')
            held[turn] = world.held_block()
        finally:
            world.close()
    assert held == {0.0: 'b1', math.pi / 2: None}, held


@pytest.mark.parametrize('name, xy, axis', [
    ('b1', (0.58, 0.08), 0.5),       # in the open: pushed over where it stands
    ('b3', (0.60, -0.10), 2.0),
    # facing p2 35 mm from its axis: no room for the fingers between them, and pushed
    # towards the peg it would land on it; lifted by its edges and set down further away
    ('b1', (0.5 + 0.035 * math.cos(0.3), 0.035 * math.sin(0.3)), 0.3),
])
def test_physics_a_ring_on_its_edge_is_pushed_flat_then_put_on_a_peg(name, xy, axis):
    """
    A ring standing on its edge is pushed over, then moved onto a peg by the next plan.

    Lifted by its edges it would stay on its edge in the fingers, and no peg goes through a
    ring on its edge. The first move ends after the push (the ring has to be seen again); the
    truth then reads it lying flat, and the same move from that state puts it on p3.
    """
    from nsvla_control.sim_robot import make_sim_executor
    world = HanoiWorld(num_blocks=3, seed=0)
    try:
        _stand(world, name, xy, axis)
        truth = world.ground_truth()
        assert truth.loose.get(name) == TABLE
        assert truth.poses[name].tilt > math.radians(80), truth.poses[name]
        ex = make_sim_executor(world, 'ground_truth')
        assert ex.standing(truth.poses[name])
        ok, why = ex.execute_move(truth, name, 'p3')
        assert not ok and why.startswith('pushed %s over from its edge' % name), why
        world.advance(1.0)
        lying = world.ground_truth()
        assert lying.loose.get(name) == TABLE, (lying.stacks(), lying.loose)
        assert lying.poses[name].upright and not ex.standing(lying.poses[name])
        assert lying.stacks() == truth.stacks()      # nothing else moved
        onto = 'p3' if not lying.stacks()['p3'] else lying.stacks()['p3'][-1]
        assert ex.execute_move(lying, name, onto) == (True, '')
        world.advance(1.0)
        assert world.ground_truth().stacks()['p3'][-1] == name
    finally:
        world.close()


def _lean_b1_on_b2(world):
    """Lay b2 flat on the table and lean b1 on its rim, about 40 degrees from flat."""
    h = world.spec.block_height
    r1, r2 = (a / math.cos(math.pi / 8) for a in world.spec.block_apothems(3)[:2])
    tilt = math.radians(40)
    _put(world, 'b2', (0.62, 0.08, 0.5 * h + 0.0005))
    # its high side over b2's rim, its low side on the table beyond
    _put(world, 'b1', (0.62, 0.08 + r2 + r1 * math.cos(tilt),
                       r1 * math.sin(tilt) + 0.5 * h * math.cos(tilt) + 0.001), up_tilt=-tilt)
    mujoco.mj_forward(world.model, world.data)
    world.advance(1.5)


@pytest.mark.parametrize('carry_tilt', [30.0, 90.0])
def test_physics_a_tilted_ring_is_set_down_flat_then_put_on_a_peg(carry_tilt):
    """
    A ring leaning 40 degrees is set down in the open, falls flat, then goes onto p3.

    Gripped by its edges it stays tilted in the fingers: carried as gripped (carry_tilt_deg
    90) it is let go over p3 and stays on the peg's tip, tilted, off the peg.
    """
    from nsvla_control.sim_robot import make_sim_executor
    world = HanoiWorld(num_blocks=3, seed=0)
    try:
        _lean_b1_on_b2(world)
        truth = world.ground_truth()
        pose = truth.poses['b1']
        assert truth.loose.get('b1') == TABLE and not pose.upright
        assert 30 < math.degrees(pose.tilt) < 50, pose
        ex = make_sim_executor(world, 'ground_truth', overrides={'carry_tilt_deg': carry_tilt})
        ok, why = ex.execute_move(truth, 'b1', 'p3')
        world.advance(1.0)
        after = world.ground_truth()
        if carry_tilt == 90.0:
            assert ok, why
            assert after.stacks()['p3'] == [] and after.loose.get('b1'), after.stacks()
            assert not after.poses['b1'].upright        # on the tip, tilted
            return
        assert not ok and why.startswith('set b1 down at ('), why
        lying = after.poses['b1']
        assert after.loose.get('b1') == TABLE and lying.upright, lying
        assert math.hypot(lying.x - pose.x, lying.y - pose.y) > 0.02    # in the open
        assert after.stacks() == truth.stacks()        # nothing else moved
        assert ex.execute_move(after, 'b1', 'p3') == (True, '')
        world.advance(1.0)
        assert world.ground_truth().stacks()['p3'] == ['b1']
    finally:
        world.close()


def _behind_stack(world, peg, gap):
    """Return the table point ``gap`` m beyond peg ``peg``'s axis on the camera's line to it."""
    axis = np.asarray(world.spec.peg_xy(peg), float)
    away = axis - world.camera_pose()[0][:2]
    return axis + gap * away / np.linalg.norm(away)


def test_visible_share_is_whole_in_the_open_and_small_behind_a_stack(world3):
    from nsvla_control.sim_robot import IN_VIEW_SHARE
    from nsvla_common.errors import ValidationError
    z = world3.spec.block_centre_z(0) + 0.0005
    _put(world3, 'b1', (0.62, 0.05, z))          # the open table in front of the pegs
    world3.advance(0.3)
    assert world3.ground_truth().loose == {'b1': TABLE}
    qpos, qvel, t = world3.data.qpos.copy(), world3.data.qvel.copy(), world3.time
    rgb = world3.render()
    share = world3.visible_share(world3.block_names)
    assert share['b1'] > 0.98, share
    # b2 on b3 on p1: b2 covers half of b3; of b2 only the peg tip hides a little (in its hole)
    assert share['b3'] < 0.6 < share['b2'] < 1.0, share
    assert share['b3'] < IN_VIEW_SHARE
    # the physics did not move and render() still gives the same RGB picture
    assert world3.time == t and np.array_equal(world3.data.qpos, qpos)
    assert np.array_equal(world3.data.qvel, qvel)
    assert np.array_equal(world3.render(), rgb)
    x, y = _behind_stack(world3, 1, 0.05)         # right behind b3 and b2 on p1
    _put(world3, 'b1', (x, y, z))
    world3.advance(0.3)
    assert world3.ground_truth().loose == {'b1': TABLE}
    hidden = world3.visible_share(['b1'])
    assert list(hidden) == ['b1'] and 0.0 < hidden['b1'] < 0.5, hidden
    assert world3.visible_share([]) == {}
    with pytest.raises(ValidationError, match='no block'):
        world3.visible_share(['b9'])


class _TruthPerceiver:
    """Reads the world's truth as a known perception (a stand-in for a backend)."""

    def __init__(self, world):
        self.world = world
        self.hand_empty = None

    def perceive(self, rgb, stamp=None):
        from nsvla_perception.symbols import KNOWN, Perception
        assert rgb.shape == (480, 640, 3)
        return Perception(self.world.ground_truth(), KNOWN)


def test_the_eyes_audit_counts_a_loose_block_in_view_only_when_the_camera_sees_it(world3):
    from nsvla_control.sim_robot import SimEyes
    z = world3.spec.block_centre_z(0) + 0.0005
    counts = []
    for xy in ((0.62, 0.05), tuple(_behind_stack(world3, 1, 0.05))):
        _put(world3, 'b1', (xy[0], xy[1], z))
        world3.advance(0.3)
        eyes = SimEyes(world3, _TruthPerceiver(world3), stability_frames=2)
        assert eyes.look(1.0, lambda: False).loose == {'b1': TABLE}
        out = eyes.audit.summary()
        counts.append((out['loose_seen'], out['loose_found'], out['loose_in_view'],
                       out['loose_found_in_view']))
    assert counts == [(2, 2, 2, 2), (2, 2, 0, 0)], counts

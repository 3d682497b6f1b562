# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Loose blocks in perception: a block lying flat on the table off the pegs, and what is not."""

import math
import os
import random

import numpy as np
import pytest

pytest.importorskip('mujoco')
pytest.importorskip('cv2')

from nsvla_perception.classic import ClassicPerceiver, HANGING_MAX_TILT_DEG  # noqa: E402
from nsvla_perception.classic import table_edge_pixels  # noqa: E402
from nsvla_perception.geometry import (camera_from_spec, feature_residuals,  # noqa: E402
                                       fit_camera, offset_camera, ring_outline)
from nsvla_perception.render import ArmPoser, SceneRenderer  # noqa: E402
from nsvla_perception.symbols import (BlockReading, decide, KNOWN,  # noqa: E402
                                      LOW_CONFIDENCE, OCCLUDED)
from nsvla_planner.state import LoosePose, SymbolicState, TABLE  # noqa: E402
from nsvla_sim.scene import load_scene, make_layout  # noqa: E402

SEED = 2_300_000   # far from any training seed
STACKS = {'p1': ['b3'], 'p2': ['b2'], 'p3': []}   # b1 lies on the table


@pytest.fixture(scope='module')
def spec():
    return load_scene('scene_default.yaml')


@pytest.fixture(scope='module')
def renderer(spec):
    with SceneRenderer(spec, 3) as r:
        yield r


def _render(spec, renderer, seed, xy, yaw=0.4, stacks=STACKS, **kwargs):
    """Render b1 lying flat at ``xy`` (the others on pegs), randomised; return the image."""
    start = {p: list(c) for p, c in stacks.items()}
    start['p3'].append('b1')                     # b1 is on top of p3 first, then on the table
    layout = make_layout(spec, 3, seed=seed, start=start, randomise=True)
    renderer.set_layout(layout, block_poses={'b1': ((xy[0], xy[1], spec.block_centre_z(0)),
                                                    yaw)}, **kwargs)
    return renderer.render()


def _truth(stacks=STACKS):
    return SymbolicState.from_stacks(stacks, 3, 3, loose={'b1': TABLE})


# ---------------------------------------------------------------------- decide
def test_a_loose_reading_makes_a_loose_fact_with_its_pose_and_confidence():
    pose = LoosePose(0.4, 0.1, 0.01)
    readings = [BlockReading('b1', 0, 0.8, True, pose=pose),
                BlockReading('b2', 1, 1.0, True, 1.0, 1.0),
                BlockReading('b3', 1, 0.9, True, 0.0, 0.0)]
    out = decide(readings, 3, 3, 'classic')
    assert out.kind == KNOWN, out.state.reason
    assert out.state.loose == {'b1': TABLE} and out.state.poses['b1'] == pose
    assert out.state.stacks()['p1'] == ['b3', 'b2']
    assert out.state.confidence(('loose', ('b1', TABLE))) == 0.8
    assert out.state.confidence(('on', ('b2', 'b3'))) == 0.9
    again = SymbolicState.from_json(out.state.to_json()).poses['b1']
    assert (again.x, again.y, again.z, again.upright) == (0.4, 0.1, 0.01, True)
    readings[0].confidence = 0.3
    weak = decide(readings, 3, 3, 'classic')
    assert weak.kind == LOW_CONFIDENCE and 'b1 on the table 0.30' in weak.state.reason
    readings[0].pose = None                       # off the pegs, not placed on the table
    assert decide(readings, 3, 3, 'classic').kind == OCCLUDED


# ---------------------------------------------------------------------- geometry
def test_back_projection_meets_the_plane_where_the_point_projects(spec):
    cam = camera_from_spec(spec)
    pts = np.array([[0.4, 0.1, 0.01], [0.7, -0.3, 0.01], [0.3, 0.35, 0.01]])
    assert np.allclose(cam.on_plane(cam.project(pts), 0.01), pts, atol=1e-9)
    assert np.isnan(cam.on_plane([(320.0, -2000.0)], 0.0)).all()   # above the horizon
    outline = ring_outline(cam, pts[0], 0.02, 0.02, 8)
    assert outline.shape[1] == 2 and len(outline) >= 8


def test_fit_camera_recovers_a_moved_camera_from_points_and_lines(spec):
    nominal = camera_from_spec(spec)
    true_offset = np.array([0.012, -0.01, 0.008, -0.006, 0.007, 0.004])
    true = offset_camera(nominal, true_offset)
    rng = np.random.default_rng(0)
    pegs = np.array([(x, y, z) for x, y in spec.peg_positions for z in (0.0, spec.peg_height)])
    a = np.array([(-0.25, -0.5, 0.0)] * 20 + [(-0.25, -0.5, 0.0)] * 6)
    b = np.array([(-0.25, 0.5, 0.0)] * 20 + [(0.95, -0.5, 0.0)] * 6)
    on_far = np.column_stack([np.full(20, -0.25), np.linspace(-0.45, 0.45, 20), np.zeros(20)])
    on_side = np.column_stack([np.linspace(-0.2, 0.05, 6), np.full(6, -0.5), np.zeros(6)])
    seen_lines = true.project(np.concatenate([on_far, on_side])) + rng.normal(0, 0.3, (26, 2))
    seen_pegs = true.project(pegs) + rng.normal(0, 0.3, (len(pegs), 2))
    seen_pegs[0] += 15.0                                   # one wrong feature
    fit = fit_camera(nominal, [0.015] * 3 + [0.01] * 3, (pegs, seen_pegs, 1.0),
                     (a, b, seen_lines, 1.0))
    assert fit.rejected >= 2                               # the wrong point, both coordinates
    table = np.array([(x, y, 0.01) for x in (0.3, 0.5, 0.7) for y in (-0.3, 0.0, 0.3)])
    back = fit.camera.on_plane(true.project(table), 0.01)
    assert np.abs(back - table).max() < 0.003
    assert nominal.on_plane(true.project(table), 0.01)[:, :2].std() > 0   # sanity
    assert np.abs(nominal.on_plane(true.project(table), 0.01) - table).max() > 0.01
    assert 0.0 < fit.plane_sigma(true.project(table[:1])[0], 0.01) < 0.003
    assert np.abs(feature_residuals(fit.camera, (pegs[1:], seen_pegs[1:], 1.0), None)).max() < 2


def test_table_edges_are_found_where_the_true_camera_puts_them(spec, renderer):
    layout = make_layout(spec, 3, seed=SEED, start='random', randomise=True)
    renderer.set_layout(layout)
    grey = renderer.render().mean(axis=2)
    true = camera_from_spec(spec, layout.camera_position, layout.camera_look_at)
    a, b, px = table_edge_pixels(grey, camera_from_spec(spec), spec)
    assert len(a) >= 30
    res = np.abs(feature_residuals(true, None, (a, b, px, 1.0)))
    assert np.median(res) < 0.5 and np.mean(res < 1.5) > 0.9


# ---------------------------------------------------------------------- classic on renders
@pytest.mark.parametrize('j, xy', [(0, (0.40, 0.09)), (1, (0.66, -0.10)), (2, (0.33, -0.28)),
                                   (3, (0.62, 0.22))])
def test_classic_places_a_block_lying_on_the_table(spec, renderer, j, xy):
    perceiver = ClassicPerceiver(spec, 3)
    out = perceiver.perceive(_render(spec, renderer, SEED + 10 + j, xy, yaw=0.3 * j))
    assert out.kind == KNOWN, out.state.reason
    assert out.state == _truth()
    pose = out.state.poses['b1']
    assert math.hypot(pose.x - xy[0], pose.y - xy[1]) < 0.01
    assert pose.z == pytest.approx(spec.block_centre_z(0)) and pose.upright
    assert math.isnan(pose.yaw)
    assert out.state.confidence(('loose', ('b1', TABLE))) >= 0.5


@pytest.mark.parametrize('gate', [True, False])
def test_a_camera_fit_far_outside_the_prior_does_not_replace_a_plausible_one(
        spec, gate, monkeypatch):
    """
    Keep the plausible fit of 3 blocks, seed 20034 (its camera 13 mm below the nominal pose).

    The first look's fit, from
    the peg tips (no table edge found), is 1.1 prior sigmas off the nominal pose. In the look
    after the first move the table's edges found (the arm and the base across them) fit a
    camera 59 mm off sideways and 37 mm up, 4 sigmas: with that fit b3 was 'level -1.2' and
    b1 and b2 tilted off the pegs. The plausible fit is kept, and the frame reads as it is.
    """
    from PIL import Image
    import nsvla_perception.classic as classic
    if not gate:
        monkeypatch.setattr(classic, 'FIT_PLAUSIBLE_SIGMAS', math.inf)
    data = os.path.join(os.path.dirname(__file__), '..', 'data')
    first, after = (np.asarray(Image.open(os.path.join(data, name)).convert('RGB'))
                    for name in ('seed20034_whole_view_fit_from_peg_tips.png',
                                 'seed20034_edges_that_fit_a_camera_40mm_off.png'))
    p = ClassicPerceiver(spec, 3)
    p.hand_empty = True
    assert p.perceive(first).state.stacks() == {'p1': ['b3', 'b2', 'b1'], 'p2': [], 'p3': []}
    fit = p.last_fit
    assert np.max(np.abs(fit.offset) / p.pose_sigma) < 1.5
    out = p.perceive(after)
    if gate:
        assert p.last_fit is fit
        assert out.state.stacks() == {'p1': ['b3', 'b2'], 'p2': [], 'p3': ['b1']}
    else:     # what it read before the gate: the fit replaced, the frame not read
        assert np.max(np.abs(p.last_fit.offset) / p.pose_sigma) > 3.0
        read = {'p1': ['b3', 'b2'], 'p2': [], 'p3': ['b1']}
        assert not out.state.known or out.state.stacks() != read


def test_stacks_alone_keep_their_reading_and_the_camera_fit_is_kept(spec, renderer):
    perceiver = ClassicPerceiver(spec, 3)
    layout = make_layout(spec, 3, seed=SEED + 20, start='random', randomise=True)
    renderer.set_layout(layout)
    img = renderer.render()
    out = perceiver.perceive(img)
    assert out.state == layout.start_state(spec.num_pegs) and not out.state.loose
    first = perceiver.last_fit
    perceiver.perceive(img)
    assert perceiver.last_fit is first                     # same camera: fit kept
    other = make_layout(spec, 3, seed=SEED + 21, start='random', randomise=True)
    renderer.set_layout(other)
    perceiver.perceive(renderer.render())
    assert perceiver.last_fit is not first                 # the camera moved: fitted again


def test_a_block_held_above_the_table_is_not_loose(spec, renderer):
    poser = ArmPoser(renderer)
    perceiver = ClassicPerceiver(spec, 3)
    rng = random.Random(3)
    for j in range(4):
        layout = make_layout(spec, 3, seed=SEED + 30 + j, start=dict(STACKS, p3=['b1']),
                             randomise=True)
        x, y = rng.uniform(0.36, 0.62), rng.uniform(-0.1, 0.1) + (0.085 if j % 2 else -0.085)
        arm_q = poser.pose((x, y, rng.uniform(0.04, 0.12)))
        assert arm_q is not None
        renderer.set_layout(layout, arm_q=arm_q)
        tcp = poser.tcp()
        renderer.set_layout(layout, arm_q=arm_q, gripper=0.018, block_poses={
            'b1': ((tcp[0], tcp[1], tcp[2] - spec.grasp_above_centre), 0.0)})
        out = perceiver.perceive(renderer.render())
        assert not out.state.known, out.state            # in the hand, not on the table


@pytest.mark.parametrize('inside_px, read', [(8, True), (-12, False)])
def test_a_block_across_the_image_edge_is_read_from_its_part_in_the_frame(
        spec, renderer, inside_px, read):
    """
    Read a flat ring across the border where it lies, or refuse it when most is beyond.

    With its centre 8 px inside the border about half of it is in the frame: read; with its
    centre 12 px beyond the border: refused.
    """
    cam = camera_from_spec(spec)
    y = 0.0
    while cam.project([(0.66, y, 0.01)])[0, 0] < spec.camera.width - inside_px:
        y += 0.002                                        # walk right to the image border
    out = ClassicPerceiver(spec, 3).perceive(_render(spec, renderer, SEED + 40, (0.66, y)))
    if read:
        assert out.state.known and out.state.loose == {'b1': TABLE}, out.state.reason
        pose = out.state.poses['b1']
        assert math.dist((pose.x, pose.y), (0.66, y)) < 0.004, (pose, y)
    else:
        assert not out.state.known
        assert out.kind == OCCLUDED and 'image edge' in out.state.reason


def test_a_block_hidden_behind_a_stack_is_not_guessed(spec, renderer):
    """b1 on the table just behind the stack on p2 shows only in part: never a wrong state."""
    stacks = {'p1': [], 'p2': ['b3', 'b2'], 'p3': []}
    x, y = spec.peg_xy(2)
    perceiver = ClassicPerceiver(spec, 3)
    for j, dx in enumerate((0.05, 0.06, 0.07)):
        out = perceiver.perceive(_render(spec, renderer, SEED + 50 + j, (x - dx, y),
                                         stacks=stacks))
        assert not out.state.known or out.state == _truth(stacks), out.state


def test_learned_takes_the_classical_reading_of_a_loose_block(spec, renderer):
    pytest.importorskip('torch')
    from nsvla_perception.learned import check_loose, LearnedPerceiver
    perceiver = LearnedPerceiver(spec, 3)
    out = perceiver.perceive(_render(spec, renderer, SEED + 60, (0.40, 0.09)))
    assert out.kind == KNOWN, out.state.reason
    assert out.state == _truth()
    assert math.hypot(out.state.poses['b1'].x - 0.40, out.state.poses['b1'].y - 0.09) < 0.01
    # The network puts a block on a peg that the colours see elsewhere: not a guess.
    net = [BlockReading('b1', 2, 0.99, True, 0.0, 0.0)]
    check_loose(net, [BlockReading('b1', 0, 0.0, True, note='3.1 levels above its stack')])
    assert net[0].peg == 0 and 'the network puts it on p2' in net[0].note
    net = [BlockReading('b1', 2, 0.99, True, 0.0, 0.0)]
    check_loose(net, [BlockReading('b1', 0, 0.9, True, pose=LoosePose(0.4, 0.1, 0.01))])
    assert net[0].loose and net[0].confidence == 0.9 and 'network put it on p2' in net[0].note
    # Not seen by the network at all (under a larger ring), seen on p2 by the colours: there.
    net = [BlockReading('b1', 0, 0.0, False, note='not seen (p=0.97)')]
    check_loose(net, [BlockReading('b1', 2, 0.8, True, 0.1, 0.0, (300.0, 280.0), 120)])
    assert (net[0].peg, net[0].confidence, net[0].visible, net[0].level) == (2, 0.8, True, 0.0)
    assert net[0].note == 'the network did not see it (not seen (p=0.97))', net[0].note
    # Seen by neither: still not seen
    net = [BlockReading('b1', 0, 0.0, False, note='not seen (p=0.97)')]
    check_loose(net, [BlockReading('b1', 0, 0.0, False, note='colour not seen')])
    assert net[0].peg == 0 and not net[0].visible


def test_markers_and_the_overlay_show_a_loose_block_where_it_was_seen(spec, renderer):
    from nsvla_perception.overlay import draw_overlay
    perceiver = ClassicPerceiver(spec, 3)
    img = _render(spec, renderer, SEED + 40, (0.40, 0.09))
    out = perceiver.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    where = perceiver.positions(out)
    assert set(where) == {'b1', 'b2', 'b3'}
    assert math.hypot(where['b1'][0] - 0.40, where['b1'][1] - 0.09) < 0.01
    assert where['b2'][:2] == pytest.approx(spec.peg_xy(2))
    drawn = draw_overlay(img, out)
    assert drawn.shape == img.shape and not np.array_equal(drawn, img)


def test_a_slipped_ring_leaning_on_the_stack_beside_it_is_loose_not_upright(spec):
    """
    Read the last camera frame of a launched episode (``nsvla demo --faults 0.2 --seed 4``).

    The orange ring slipped and lies against the yellow one on p3: not a whole flat ring
    (overlap 0.89), refused until the episode gave up; then loose there, flagged not upright.
    Its blob took the yellow pixels of the ring on p3 as its own lit face; without those
    (where b3 shows at its place) it fits flat (overlap 0.93), where it lies.
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', 'slipped_ring_beside_stack.png')
    small = Image.open(path).convert('RGB')
    img = np.asarray(small.resize((640, 480), Image.BILINEAR))
    perceiver = ClassicPerceiver(spec, 3)
    out = perceiver.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b1'], 'p2': [], 'p3': ['b3']}
    assert out.state.loose == {'b2': TABLE}
    pose = out.state.poses['b2']
    assert pose.upright and math.hypot(pose.x - 0.496, pose.y - 0.118) < 0.01
    assert perceiver.last_fits['b2']['overlap'] >= 0.925
    assert out.state.confidence(('loose', ('b2', TABLE))) >= 0.6


def test_a_remembered_camera_fit_that_misses_a_peg_tip_is_fitted_again(spec):
    """
    A block is never called off its peg on a remembered camera fit alone.

    On the launched graph (``nsvla demo --faults 0.2 --seed 8``) the ring put back on p1 read
    'the tip of p1 is not seen above it' for 35 s, and the episode gave up, while the same
    frames read right with a fresh fit: the fit kept was one the frames with the arm over p1
    had made. Here (a camera frame of that episode, ``test/data/ring_back_on_p1.png``) such a
    stale fit is made by moving the fitted camera a few millimetres: kept, it refuses the ring
    on p1; the perceiver fits again before refusing, and reads the stacks.
    """
    import dataclasses

    from PIL import Image

    from nsvla_perception.classic import stack_pixels
    path = os.path.join(os.path.dirname(__file__), '..', 'data', 'ring_back_on_p1.png')
    img = np.asarray(Image.open(path).convert('RGB'))
    truth = SymbolicState.from_stacks({'p1': ['b1'], 'p2': ['b2'], 'p3': ['b3']}, 3, 3)

    def with_stale_fit(delta):
        p = ClassicPerceiver(spec, 3)
        assert p.perceive(img).state == truth
        fit = p.last_fit
        camera = offset_camera(fit.camera, delta)
        p.last_fit = dataclasses.replace(fit, camera=camera)
        p._fit_points = 2                 # fitted while one tip was hidden
        p._fit_columns = stack_pixels(spec, camera, p.columns.shape[1])
        return p

    rng = np.random.default_rng(1)
    stale = None
    for _ in range(300):
        delta = np.concatenate([rng.normal(0, 0.002, 3), rng.normal(0, 0.004, 3)])
        p = with_stale_fit(delta)
        original = p.camera_fit
        p.camera_fit = lambda rgb, out, roi=None, keep=True: original(rgb, out, roi, True)
        out = p.perceive(img)          # the fit kept whatever the frame shows
        if p.fit_kept and 'is not seen above it' in out.state.reason:
            stale = delta
            break
    assert stale is not None, 'no stale fit hides a tip: the case is not made'
    p = with_stale_fit(stale)
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state == truth
    assert not p.fit_kept


def test_a_frame_with_the_arm_in_front_does_not_replace_the_fit_of_the_whole_view(spec):
    """
    The camera fit of a clear view is kept through a frame that shows less (the arm in front).

    5 blocks, the bench's seed 3 (camera 14 mm off in x and y, 8 mm in z): the fit of the
    whole table (``seed3_camera_whole_view.png``, the start) is within 4 mm of it in x and y.
    With the hand over p1 (``seed3_camera_hand_over_p1.png``), part of the table's far edge is
    hidden and edges are found on the arm; a fit of that frame alone puts the camera 9 mm
    lower, and lost the tip of p3 and refused b3 on it (in that episode 19 of the 31 looks
    after a move were refused until the arm left the view; a tip found beside where the fit
    puts it now counts as seen, so that frame alone reads too). The perceiver that saw the
    clear view keeps its fit, which the second frame agrees with, and reads it.
    """
    from PIL import Image
    data = os.path.join(os.path.dirname(__file__), '..', 'data')
    whole, hand = (np.asarray(Image.open(os.path.join(data, name)).convert('RGB'))
                   for name in ('seed3_camera_whole_view.png',
                                'seed3_camera_hand_over_p1.png'))
    seen = {'p1': ['b5', 'b2'], 'p2': ['b4', 'b1'], 'p3': ['b3']}
    alone = ClassicPerceiver(spec, 5)
    alone.hand_empty = True
    alone.perceive(hand)
    p = ClassicPerceiver(spec, 5)
    p.hand_empty = True
    assert p.perceive(whole).state.stacks() == {'p1': ['b5', 'b4', 'b3', 'b2', 'b1'],
                                                'p2': [], 'p3': []}
    fit = p.last_fit
    assert np.abs(fit.offset[:2] - (-0.0141, -0.0143)).max() < 0.004
    assert fit.offset[2] - alone.last_fit.offset[2] > 0.006      # the hand's frame alone: lower
    out = p.perceive(hand)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == seen
    assert p.last_fit is fit


def test_a_ring_across_an_empty_peg_tip_is_loose_there_only_when_the_hand_is_empty(spec):
    """
    Read the last camera frame of ``nsvla demo --faults 0.2 --seed 5`` (launched graph).

    b1 slipped and came to rest across p1's tip, tilted (ground truth: loose(b1, p1), centre
    at (0.501, -0.170, 0.035)). Seen above its place, it could be in the gripper: with the
    hand unknown or closed it is not placed (the episode gave up on it); with the gripper last
    opened wider than every block it is loose across p1 where it is.
    """
    from PIL import Image

    from nsvla_perception.backend import hand_empty_after
    path = os.path.join(os.path.dirname(__file__), '..', 'data', 'ring_across_p1_tip.png')
    img = np.asarray(Image.open(path).convert('RGB'))
    for hand in (None, False):
        p = ClassicPerceiver(spec, 3)
        p.hand_empty = hand
        out = p.perceive(img)
        assert out.kind == OCCLUDED and 'b1' in out.state.reason, (hand, out.state.reason)
    p = ClassicPerceiver(spec, 3)
    p.hand_empty = hand_empty_after(0.04, spec, 3)     # the executor's open command
    assert p.hand_empty is True
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2'], 'p3': ['b3']}
    assert out.state.loose == {'b1': 'p1'}
    pose = out.state.poses['b1']
    assert not pose.upright
    assert math.dist((pose.x, pose.y, pose.z), (0.5014, -0.1700, 0.0354)) < 0.005
    assert out.state.confidence(('loose', ('b1', 'p1'))) >= 0.5


def test_the_hand_is_empty_only_after_a_command_wider_than_every_block(spec):
    from nsvla_perception.backend import hand_empty_after
    widest = max(spec.block_apothems(5))
    assert hand_empty_after(None, spec, 5) is None
    assert hand_empty_after(0.04, spec, 5) is True
    assert hand_empty_after(widest, spec, 5) is False          # could close on b5
    assert hand_empty_after(min(spec.block_apothems(3)) - 0.004, spec, 3) is False


def test_a_ring_leaning_on_a_stack_is_loose_on_the_table_when_the_hand_is_empty(spec):
    """
    Read the last camera frame of ``nsvla demo --faults 0.2 --seed 12`` (launched graph).

    b2 slipped and leans with one edge on the table against the stack on p3 (ground truth:
    loose(b2, table) at (0.506, 0.128), not upright). No flat ring fits its blob (overlap
    0.80, area 1.23), so it was refused until the episode gave up; a ring leaning on its edge
    fits (with the hand empty: held above the table, a ring looks the same).
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', 'ring_leaning_on_p3_stack.png')
    img = np.asarray(Image.open(path).convert('RGB'))
    out = ClassicPerceiver(spec, 3).perceive(img)
    assert out.kind == OCCLUDED and 'b2' in out.state.reason
    p = ClassicPerceiver(spec, 3)
    p.hand_empty = True
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b1'], 'p2': [], 'p3': ['b3']}
    assert out.state.loose == {'b2': TABLE}
    pose = out.state.poses['b2']
    assert not pose.upright and math.hypot(pose.x - 0.506, pose.y - 0.128) < 0.01
    assert p.last_fits['b2']['lean_tilt_deg'] >= 25.0


def test_a_tilted_outline_goes_down_on_the_side_it_leans_towards(spec):
    cam = camera_from_spec(spec)
    centre = (0.45, 0.0, 0.03)
    flat = ring_outline(cam, centre, 0.02, 0.02, 8)
    towards_camera = ring_outline(cam, centre, 0.02, 0.02, 8, tilt=math.radians(40),
                                  tilt_towards=0.0)      # +x: the camera's side goes down
    away = ring_outline(cam, centre, 0.02, 0.02, 8, tilt=math.radians(40),
                        tilt_towards=math.pi)
    # the camera looks down from +x: with that side down the top face turns to it and shows
    # more than flat; with the far side down it turns away and shows less
    import cv2
    area = [cv2.contourArea(o) for o in (flat, towards_camera, away)]
    assert area[1] > area[0] > area[2], area


def test_a_ring_lying_against_a_stack_is_loose_not_refused_as_on_it(spec):
    """
    Read the last camera frame of ``nsvla demo --faults 0.2 --seed 16`` (launched graph).

    b2 lies flat on the table touching the stack on p3 (truth: (0.5006, 0.1202)). Read 3 mm
    from there, it was refused as reaching 5 mm into the stack: the clearance took the two
    octagons' corner radii, which overlap for rings touching flat to flat. Their apothems do
    not, so it is loose on the table.
    """
    p, pose = _b2_loose_beside_p3_stack(spec, 'ring_flat_against_p3_stack.png')
    # 0.3 mm off since its blob leaves b3's pixels at b3's place to b3 (3 mm before)
    assert math.hypot(pose.x - 0.5006, pose.y - 0.1202) < 0.002
    assert abs(p.last_fits['b2']['gap']) <= 0.004        # touching the stack


def test_the_largest_ring_across_a_tip_is_on_the_peg_not_leaning_on_the_table(spec):
    """
    Read the last camera frame of ``nsvla demo --faults 0.2 --seed 18`` (launched, ca52b72).

    b3 came to rest across p1's tip (truth: loose(b3, p1) at (0.4997, -0.161, 0.040)). Seen
    1.7 levels above its stack it is flagged lifted; a ring leaning on the table fits its blob
    too, 2 cm off and on the wrong support, so the column's reading is tried first: across
    the tip, where the ray meets the peg's axis.
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', 'big_ring_across_p1_tip.png')
    img = np.asarray(Image.open(path).convert('RGB'))
    assert ClassicPerceiver(spec, 3).perceive(img).kind == OCCLUDED     # hand not known
    p = ClassicPerceiver(spec, 3)
    p.hand_empty = True
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2', 'b1'], 'p3': []}
    assert out.state.loose == {'b3': 'p1'}
    pose = out.state.poses['b3']
    assert math.dist((pose.x, pose.y, pose.z), (0.4997, -0.161, 0.040)) < 0.006


def test_a_ring_across_the_tip_above_a_stack_hides_the_tip_but_not_the_stack(spec):
    """
    Read the end of an in-process episode (``nsvla bench`` seed 20003, 20 % slips).

    b1 came to rest across p3's tip, above b3 (truth: loose(b1, b3) at (0.501, 0.170,
    0.063)). The tip of p3 is not seen above b3, which made b3 look off its peg; the block
    seen above the stack in that column is what hides it: b3 stays on p3, b1 is loose on it.
    """
    p, out = _read_frame(spec, 'ring_across_tip_over_stack.png', 3)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2'], 'p3': ['b3']}
    assert out.state.loose == {'b1': 'b3'}
    pose = out.state.poses['b1']
    assert math.dist((pose.x, pose.y, pose.z), (0.501, 0.170, 0.063)) < 0.005


def test_a_ring_standing_on_its_edge_by_a_peg_is_loose_on_the_table(spec):
    """
    Read the end of an in-process episode (``nsvla bench`` seed 20004, 20 % slips).

    b1 stands nearly on its edge on the table beside p1 (truth: (0.502, -0.149, 0.018), not
    upright); read as off the p1 column, it was refused. It fits a ring leaning at 85 degrees.
    """
    p, out = _read_frame(spec, 'ring_on_its_edge_by_p1.png', 3)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': [], 'p3': ['b3', 'b2']}
    assert out.state.loose == {'b1': TABLE}
    pose = out.state.poses['b1']
    assert not pose.upright
    assert math.dist((pose.x, pose.y, pose.z), (0.502, -0.149, 0.018)) < 0.006


@pytest.mark.parametrize('image, support, truth', [
    ('ring_on_stack_beside_p2_tip.png', 'b3', (0.5013, 0.0227, 0.0510)),
    ('ring_on_stack_beside_p1_tip.png', 'b4', (0.5065, -0.1430, 0.0500)),
])
def test_a_ring_lying_on_a_stack_beside_the_tip_is_loose_on_it_when_the_hand_is_empty(
        spec, image, support, truth):
    """
    Read frames of 5-block in-process episodes with slips (seeds 20000 and 20004).

    b1 slipped onto a two-ring stack, whose peg ends 5 mm into the third level, and lies on
    the top ring beside the tip, 1-2 cm off the axis (ground truth: loose(b1, that ring)). It
    was refused as off the column ('23 mm off the p2 column') until the episode ended "lost
    sight". With the hand empty it is loose on that ring where it lies; with the hand unknown
    or closed it is still refused (it could be in the fingers).
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', image)
    img = np.asarray(Image.open(path).convert('RGB'))
    for hand in (None, False):
        p = ClassicPerceiver(spec, 5)
        p.hand_empty = hand
        out = p.perceive(img)
        assert not out.state.known and 'b1' in out.state.reason, (hand, out.state.reason)
    p = ClassicPerceiver(spec, 5)
    p.hand_empty = True
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.loose == {'b1': support}
    pose = out.state.poses['b1']
    assert math.dist((pose.x, pose.y, pose.z), truth) < 0.01, (pose, truth)
    assert out.state.confidence(('loose', ('b1', support))) >= 0.5


def test_a_ring_on_its_edge_against_an_empty_peg_is_not_read_on_the_peg(spec):
    """
    Read a frame of a 3-block in-process episode with slips (seed 20071).

    b1 stands on its edge against p1, facing the camera, 19 mm from the axis (ground truth:
    loose on the table). Its blob fell in p1's column at level 0 with the tip showing, so it
    was read on p1 (16 wrong frames of 349, and the grasp at the peg missed it five times).
    Alone on its peg, its blob is now checked against the place's outline: it is off the peg,
    and with the hand empty it is the ring standing on the table.
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', 'ring_on_its_edge_against_p1.png')
    img = np.asarray(Image.open(path).convert('RGB'))
    p = ClassicPerceiver(spec, 3)                 # hand unknown: never on p1
    out = p.perceive(img)
    assert not (out.state.known and 'b1' in out.state.stacks()['p1']), out.state
    p = ClassicPerceiver(spec, 3)
    p.hand_empty = True
    out = p.perceive(img)
    assert out.kind == KNOWN and out.state.loose == {'b1': 'table'}, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2'], 'p3': ['b3']}
    pose = out.state.poses['b1']
    assert not pose.upright and pose.z > 0.015         # standing: its centre high


@pytest.mark.parametrize('image, blocks, stacks, block, support, truth', [
    # 5 blocks, seed 20008: b1 on its edge against p1 (it nearly fits tilted flat, 11 mm 'into'
    # the peg's footprint)
    ('ring_on_its_edge_beside_p1_5_blocks.png', 5, {'p1': [], 'p2': ['b4', 'b3', 'b2'],
                                                    'p3': ['b5']},
     'b1', TABLE, (0.5050, -0.1528, 0.0180)),
    # 5 blocks, seed 20020: b4 leaning against b5 on p3 (6 mm 'into' the stack flat)
    ('ring_leaning_against_p3_stack_5_blocks.png', 5, {'p1': ['b3', 'b2', 'b1'], 'p2': [],
                                                       'p3': ['b5']},
     'b4', TABLE, (0.5051, 0.1095, 0.0205)),
    # 5 blocks, seed 20024: b2 flat on b5 beside p1's tip, which stands above b2's bottom
    ('small_ring_on_big_ring_beside_p1.png', 5, {'p1': ['b5'], 'p2': ['b4', 'b3'],
                                                 'p3': ['b1']},
     'b2', 'b5', (0.4992, -0.1363, 0.0300)),
    # 4 blocks, seed 20012: b2 leaning 36 degrees from the table onto b1 on p2; its high side
    # reaches over b1's footprint, above b1's top (6 mm 'into' it, counted flat)
    ('ring_leaning_from_table_onto_p2_stack.png', 4, {'p1': ['b4', 'b3'], 'p2': ['b1'],
                                                      'p3': []},
     'b2', TABLE, (0.488, -0.029, 0.021)),
    # 4 blocks, seed 20013: b2 (orange) leaning 23 degrees on b1 on p2, its lit face reads
    # yellow (67 % orange); flat it fitted 11 mm off (overlap 0.90), so it was refused
    ('orange_ring_leaning_on_red_stack_lit_yellow.png', 4, {'p1': ['b3'], 'p2': ['b1'],
                                                            'p3': ['b4']},
     'b2', TABLE, (0.501, -0.042, 0.018)),
    # 4 blocks, seed 20078: b2 on its edge 27 mm in front of p1, its face to the camera, the
    # tip showing above it: nearly all inside its place on p1 (91 %), but of another shape
    # (overlap 0.67 there, 0.95 leaning); read on p1 for 12 frames
    ('ring_on_its_edge_facing_the_camera_before_p1.png', 4, {'p1': [], 'p2': ['b3'],
                                                             'p3': ['b4', 'b1']},
     'b2', TABLE, (0.527, -0.154, 0.023)),
    # 4 blocks, seed 20084: b4 missed p3 at the release and leans 66 degrees on its tip, one
    # edge on the table; the leaning fit (0.97) reached 4.5 mm into the peg and was refused
    ('large_ring_leaning_on_p3_tip.png', 4, {'p1': [], 'p2': ['b3', 'b2', 'b1'], 'p3': []},
     'b4', TABLE, (0.514, 0.147, 0.031)),
    # 5 blocks, seed 20036: b1 tilted 13 degrees on b3 on p2, 18 mm off the axis; read leaning
    # on the table 48 mm behind the stack (0.89), the grasp there found nothing five times
    ('small_ring_tilted_on_stack_beside_p2_tip.png', 5, {'p1': ['b5', 'b2'],
                                                         'p2': ['b4', 'b3'], 'p3': []},
     'b1', 'b3', (0.501, 0.018, 0.052)),
    # 5 blocks, seed 20025 (this machine, 2026-12-04): b3 leaning 47 degrees from the table
    # onto b5 alone on p3, in front of it; b3 was read, but b5 refused for b3's pixels over
    # a third of its place ("hidden: b3 shows where it would be on p3") until the end
    ('large_ring_behind_a_ring_leaning_on_it_on_p3.png', 5, {'p1': ['b4'], 'p2': ['b2', 'b1'],
                                                             'p3': ['b5']},
     'b3', TABLE, (0.5115, 0.1299, 0.0259)),
])
def test_rings_against_a_peg_or_stack_or_on_a_larger_ring_are_loose_where_they_are(
        spec, image, blocks, stacks, block, support, truth):
    """
    Read the last unread frames of in-process episodes with 20 % slips that ended "lost sight".

    Each ring was refused until the episode gave up (``nsvla bench --perception classic
    --faults 0.2 --seed 20000 --random-share 0.5``). With the hand empty each is now loose on
    what the ground truth says it rests on, within 5 mm of the true centre (``truth``, from
    the sim); with the hand unknown none is placed (the ring could be in the fingers).
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', image)
    img = np.asarray(Image.open(path).convert('RGB'))
    p = ClassicPerceiver(spec, blocks)
    out = p.perceive(img)
    assert not (out.state.known and block in out.state.loose), out.state
    p = ClassicPerceiver(spec, blocks)
    p.hand_empty = True
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.loose == {block: support}
    assert out.state.stacks() == stacks
    pose = out.state.poses[block]
    assert math.hypot(pose.x - truth[0], pose.y - truth[1]) < 0.005, (pose, truth)
    assert abs(pose.z - truth[2]) < 0.005, (pose, truth)


def test_a_flat_ring_under_a_finger_just_after_its_release_is_read_flat_where_it_lies(spec):
    """
    A flat ring a finger still hides a tenth of, just after its release, is read flat.

    3 blocks with slips, seed 20076 (this machine, 2026-12-04), the first look after b1 was
    let go on the table: a finger still hides a tenth of it.

    Fitted flat 3 mm from the truth, at overlap 0.80, it was refused as flat, fitted leaning
    and read on its edge 20 mm off. With the hand empty the arm's grey pixels inside its
    outline are taken as the ring's, as a peg's are: flat, within 2 mm. With a block perhaps
    in the hand the arm is not taken for anything.
    """
    name = 'flat_ring_under_a_finger_just_after_its_release.png'
    p, out = _read_frame(spec, name, 3)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b3', 'b2'], 'p2': [], 'p3': []}
    assert out.state.loose == {'b1': TABLE}
    pose = out.state.poses['b1']
    assert pose.upright and pose.tilt == 0.0, pose
    assert math.hypot(pose.x - 0.5047, pose.y - 0.1366) < 0.002, pose
    p, out = _read_frame(spec, name, 3, hand_empty=False)
    assert out.state.known and not out.state.poses['b1'].upright, out.state


def test_a_ring_leaning_in_front_of_a_larger_one_is_not_under_it_and_the_larger_is_seen(spec):
    """
    5 blocks with slips, seed 20076 (this machine, 2026-12-04), the last frame of the episode.

    b1 leans 44 degrees from the table onto b2, alone on p2, in front of it. b1 fell in p2's
    column at level -0.8 and was read under b2; b2, 17 % of it seen past b1 (most through
    b1's hole), was refused a level low until the episode was lost. A ring under a larger one
    must lie inside its place; b1 does not, and is read leaning on the table where it is. b2's
    share seen is judged by what b1 leaves of it.
    """
    name = 'small_ring_leaning_in_front_of_a_ring_alone_on_p2.png'
    p, out = _read_frame(spec, name, 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b5', 'b4', 'b3'], 'p2': ['b2'], 'p3': []}
    assert out.state.loose == {'b1': TABLE}
    pose = out.state.poses['b1']
    assert math.hypot(pose.x - 0.5402, pose.y - 0.0003) < 0.005, pose
    b2 = next(r for r in out.readings if r.name == 'b2')
    assert 0.5 <= b2.confidence < 1.0 and 'in front leaves' in b2.note, b2
    # with the hand not known b1 is not put under b2 either
    p, out = _read_frame(spec, name, 5, hand_empty=None)
    assert not (out.state.known and 'b1' in out.state.stacks()['p2']), out.state


def test_a_small_ring_on_its_edge_on_a_stack_against_the_tip_is_loose_on_that_stack(spec):
    """
    Read b1 standing tilted on b2, alone on p2, leaning on p2's tip, as loose on b2.

    5 blocks with slips, seed 20014 (this machine, 2026-12-04), the last frame: truth b1 at
    (0.5007, -0.0095, 0.0403), tilted 59 degrees. Its fit on b2 (overlap 0.96) is 2 mm from
    the truth, but reaches 6.5 mm into the peg it leans on, and was refused until the episode
    was lost. The truth itself reaches 3.6 mm or more into the peg in the ring's solid model.
    """
    name = 'small_ring_on_its_edge_on_b2_against_the_tip_of_p2.png'
    p, out = _read_frame(spec, name, 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2'], 'p3': ['b5', 'b4', 'b3']}
    assert out.state.loose == {'b1': 'b2'}
    pose = out.state.poses['b1']
    assert not pose.upright, pose
    assert math.hypot(pose.x - 0.5007, pose.y + 0.0095) < 0.005, pose
    assert abs(pose.z - 0.0403) < 0.005, pose


@pytest.mark.parametrize('name, stacks, truth', [
    # seed 20056: b1 tilted 12 degrees, centre 12.9 mm off p1's axis (the hole's 12 mm)
    ('small_ring_on_b2_13mm_off_the_axis_above_the_tip_of_p1.png',
     {'p1': ['b5', 'b2'], 'p2': ['b4', 'b3'], 'p3': []}, (0.5129, -0.1701, 0.0526, 0.003)),
    # seed 20099: b1 tilted 17 degrees across p1's tip, 15.3 mm off its axis
    ('small_ring_tilted_on_b2_across_the_tip_of_p1.png',
     {'p1': ['b3', 'b2'], 'p2': ['b5'], 'p3': ['b4']}, (0.5022, -0.1548, 0.0518, 0.007)),
])
def test_a_top_ring_above_the_tip_with_its_hole_clear_of_the_peg_is_loose_on_the_stack(
        spec, name, stacks, truth):
    """
    Read b1 on b2 at level 2 (above p1's tip), off the axis by more than its hole, as loose.

    5 blocks with slips (this machine, 2026-12-04): the truth has it loose on b2, its hole
    clear of the peg's axis; both were read stacked on b2, on the column's 15 mm band. Fitted
    lying or tilted on b2 it is within ``tol`` of the truth and beyond the hole's apothem.
    """
    x, y, z, tol = truth
    p, out = _read_frame(spec, name, 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == stacks
    assert out.state.loose == {'b1': 'b2'}
    pose = out.state.poses['b1']
    assert math.hypot(pose.x - x, pose.y - y) < tol, pose
    assert abs(pose.z - z) < 0.005, pose
    assert math.hypot(pose.x - 0.5, pose.y + 0.17) > spec.hole_apothem


@pytest.mark.parametrize('name, ring, stacks, support, truth', [
    # seed 20051: b1 tilted 57 degrees on b5, alone on p2, leaning on its tip; was read on the
    # table 43 mm behind p2, b5 hiding its low half
    ('small_ring_tilted_on_b5_beside_the_tip_of_p2.png', 'b1',
     {'p1': ['b3', 'b2'], 'p2': ['b5'], 'p3': ['b4']}, 'b5', (0.5009, -0.0101, 0.0410)),
    # seed 20033: b2 on its edge on b3 on p1, a lit third of it yellow; was read on the table
    # 55 mm behind p1
    ('orange_ring_on_its_edge_on_b3_on_p1_lit_yellow.png', 'b2',
     {'p1': ['b4', 'b3'], 'p2': ['b5'], 'p3': ['b1']}, 'b3', (0.5017, -0.1418, 0.0618)),
])
def test_a_ring_seen_over_a_nearer_stacked_ring_rests_on_its_stack_not_behind_it(
        spec, name, ring, stacks, support, truth):
    """
    Read a ring tilted on a stack's top ring as loose on that ring, not on the table behind.

    5 blocks with slips (this machine, 2026-12-04). From one camera a ring tilted on a stack
    and one lying on the table behind it, the stack hiding its low part, have one
    silhouette; but a ring behind cannot show inside the nearer ring's silhouette, and these
    do (over the top ring's face).
    """
    x, y, z = truth
    p, out = _read_frame(spec, name, 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == stacks
    assert out.state.loose == {ring: support}
    pose = out.state.poses[ring]
    assert not pose.upright, pose
    assert math.hypot(pose.x - x, pose.y - y) < 0.007, pose
    assert abs(pose.z - z) < 0.006, pose


def test_a_camera_fit_is_kept_when_half_of_what_the_arm_leaves_lies_on_it(spec):
    """
    Keep the whole view's camera fit through a frame where the arm hides some of the table.

    Three frames of one 4-block episode without faults (seed 20048, in-process): the whole
    view, then the arm over p2 hiding a third of the table's edges, then b3 on b4.

    In the second frame 44 of 61 edge points lie within 0.1 px of the first frame's fit, the
    rest on the arm; a new fit through all of them was 1.1 px off them and 13 mm lower, and
    with it (as the learned backend's camera) b3 on b4 fitted its place at 0.70 and was read
    tilted beside the tip in 6 frames. The first fit is kept, and b3's place fits it well.
    """
    from PIL import Image
    p = ClassicPerceiver(spec, 4)
    p.hand_empty = True
    outs = []
    for k in (1, 4, 9):
        path = os.path.join(os.path.dirname(__file__), '..', 'data',
                            'four_blocks_seed_20048_frame_%d.png' % k)
        outs.append(p.perceive(np.asarray(Image.open(path).convert('RGB'))))
        if k == 1:
            first = p.last_fit
        else:
            assert p.last_fit is first and p.fit_kept, k
    assert [o.state.stacks() for o in outs] == [
        {'p1': ['b4', 'b3', 'b2', 'b1'], 'p2': [], 'p3': []},
        {'p1': ['b4', 'b3', 'b2'], 'p2': ['b1'], 'p3': []},
        {'p1': ['b4', 'b3'], 'p2': ['b1'], 'p3': ['b2']}]
    assert not outs[-1].state.loose
    assert p._place_fits['b3'] > 0.9


def test_an_orange_ring_on_its_peg_lit_yellow_stays_on_its_peg(spec):
    """
    Read b2 on b3 on p3, its lit face yellow, as stacked: not tilted on b3.

    5 blocks with slips, seed 20006 (this machine, 2026-12-04). In its own colour alone b2
    fits its place at 0.57; with its lit face (the close colour touching it) a ring tilted 11
    degrees on b3 fitted it at 0.91, and it was read so in 20 frames until the episode gave
    up. Judged on the same pixels its place fits it better.
    """
    p, out = _read_frame(spec, 'orange_ring_on_b3_lit_yellow_stacked.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b5', 'b4', 'b1'], 'p2': [], 'p3': ['b3', 'b2']}
    assert not out.state.loose


def test_a_ring_beside_the_tip_rests_on_the_top_of_what_stays_on_that_peg(spec):
    """
    Read b3 lying on b4 beside p3's tip as loose on b4, though b4 was doubted first.

    5 blocks with slips, seed 20042 (this machine, 2026-12-04): b3 tilted 13 degrees on b4
    on b5 on p3, 24 mm off the axis (truth at (0.5109, 0.1513)). b3 hides some of b4, which
    is read 16 mm off the column and checked before b3: b3 was put on b5, under it. b4 stays
    on p3 in the end, and b3 rests on it.
    """
    p, out = _read_frame(spec, 'ring_on_b4_beside_the_tip_of_p3_b4_doubted.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b1'], 'p2': ['b2'], 'p3': ['b5', 'b4']}
    assert out.state.loose == {'b3': 'b4'}
    pose = out.state.poses['b3']
    assert math.hypot(pose.x - 0.5109, pose.y - 0.1513) < 0.007, pose
    assert 'on b4 beside the tip of p3' in next(r.note for r in out.readings if r.name == 'b3')


def test_a_larger_ring_flat_on_a_smaller_one_atop_a_tall_stack_is_loose_on_it(spec):
    """
    Read b4 lying flat on b1, atop b5, b3, b2 and b1 on p2 (above the tip), as loose on b1.

    5 blocks with slips, seed 20045 (this machine, 2026-12-04), the last frame: truth b4 at
    (0.5010, 0.0082, 0.0900), flat. Its level was judged against the rings larger than it
    and read 4.6 levels too high, in the hand; b1, which b4 hides, was then read on the table
    behind the stack, and the episode was lost.
    """
    name = 'larger_ring_flat_on_a_smaller_one_atop_a_stack_of_four_on_p2.png'
    p, out = _read_frame(spec, name, 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b5', 'b3', 'b2', 'b1'], 'p3': []}
    assert out.state.loose == {'b4': 'b1'}
    pose = out.state.poses['b4']
    assert pose.upright, pose
    assert math.hypot(pose.x - 0.5010, pose.y - 0.0082) < 0.01, pose
    assert abs(pose.z - 0.0900) < 0.005, pose


@pytest.mark.parametrize('image, truth', [
    ('orange_ring_on_its_edge_lit_yellow_before_p2.png', (0.560, -0.050, 0.022)),
    ('orange_ring_on_its_edge_lit_yellow_behind_p2.png', (0.440, 0.050, 0.022)),
])
def test_an_orange_ring_on_its_edge_lit_yellow_is_loose_where_it_stands(spec, image, truth):
    """
    Read b2 (orange) standing on its edge 6 cm before or behind p2, its face to the camera.

    The frames are rendered by the sim (``HanoiWorld``, 5 blocks, seed 20068, randomised): b3
    to b5 on p1, b1 flat on the table at (0.42, 0.22), b2 set on its edge and left to settle
    (true tilt 90 degrees, centre ``truth``), as in 5-block bench episodes with slips (seeds
    20068, 20086) where b2 stood so until the episode was lost. Its lit top face reads
    yellow, so its blob is mixed in colour; its leaning fit (overlap 0.87-0.89, no larger than
    its outline) used to be refused for falling short of a nearly flat ring's 0.90. With the
    hand empty it is loose on the table within the issue's 1 cm; with the hand unknown it is
    not placed (a ring in the fingers looks the same).
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', image)
    img = np.asarray(Image.open(path).convert('RGB'))
    p = ClassicPerceiver(spec, 5)
    out = p.perceive(img)
    assert not (out.state.known and 'b2' in out.state.loose), out.state
    p = ClassicPerceiver(spec, 5)
    p.hand_empty = True
    out = p.perceive(img)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.loose == {'b1': TABLE, 'b2': TABLE}
    assert out.state.stacks() == {'p1': ['b5', 'b4', 'b3'], 'p2': [], 'p3': []}
    pose = out.state.poses['b2']
    assert math.hypot(pose.x - truth[0], pose.y - truth[1]) < 0.01, (pose, truth)
    assert not pose.upright and math.degrees(pose.tilt) >= 70.0, pose


@pytest.mark.parametrize('image, truth', [
    ('ring_on_its_edge_side_on_behind_p2_turned_46_deg.png', (0.4398, -0.0002)),
    ('ring_on_its_edge_side_on_behind_p2_turned_138_deg.png', (0.4407, -0.0007)),
])
def test_a_ring_tilted_with_nothing_to_lean_on_is_read_on_its_edge(spec, image, truth):
    """
    Read b2 on its edge 6 cm behind p2, tipped up about a line at heading 46 or 138 degrees.

    Rendered as the frames above (5 blocks, seed 20068; b2 set on its edge, left to settle:
    true tilt 90 degrees). Seen from above, its silhouette is much like a nearly flat ring's:
    the leaning fit's best was tilted 11-12 degrees, 15 mm off, with nothing near to lean on.
    Tilted so it would fall; it is read on its edge (70 degrees or more, what the executor
    pushes over), within the issue's 1 cm.
    """
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', image)
    p = ClassicPerceiver(spec, 5)
    p.hand_empty = True
    out = p.perceive(np.asarray(Image.open(path).convert('RGB')))
    assert out.kind == KNOWN, out.state.reason
    assert out.state.loose == {'b1': TABLE, 'b2': TABLE}
    pose = out.state.poses['b2']
    assert math.degrees(pose.tilt) >= 70.0, pose
    assert math.hypot(pose.x - truth[0], pose.y - truth[1]) < 0.01, (pose, truth)
    assert p.last_fits['b2']['unsupported_lean_deg'] < 70.0


def test_a_ring_whose_lit_face_reads_in_the_colour_of_the_stack_it_leans_on_is_loose(spec):
    """
    Read the last frame of a 3-block bench episode with slips (seed 20092, in-process).

    b2 (orange) lies tilted 7 degrees with one edge on b3 (yellow) on p3; truth: b2 loose on
    the table at (0.500, 0.121, 0.013), b3 on p3, b1 on p1. b2's lit top face reads yellow, so
    its blob took b3's pixels too, fitted 14 mm off towards b3 and was refused; b3, with b2's
    yellow face in its blob, was only 78 % inside its place. Both until the episode ended.
    """
    _, pose = _b2_loose_beside_p3_stack(spec, 'orange_ring_tilted_on_yellow_stack.png',
                                        hand_empty=True)
    assert math.hypot(pose.x - 0.500, pose.y - 0.121) < 0.005


def _b2_loose_beside_p3_stack(spec, name, hand_empty=None):
    """Read ``test/data/<name>``: b1 on p1, b3 on p3, b2 loose on the table; b2's pose."""
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', name)
    p = ClassicPerceiver(spec, 3)
    p.hand_empty = hand_empty
    out = p.perceive(np.asarray(Image.open(path).convert('RGB')))
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b1'], 'p2': [], 'p3': ['b3']}
    assert out.state.loose == {'b2': TABLE}
    return p, out.state.poses['b2']


def test_a_leaning_ring_keeps_clear_of_what_it_reaches_over_only_below_its_top():
    """A ring leaning from the table over a short stack clears it; into a peg it does not."""
    from nsvla_perception.classic import _solid_gap
    from nsvla_perception.geometry import ring_solid_points
    apothem, height, tilt = 0.03, 0.015, math.radians(35)
    r_out = apothem / math.cos(math.pi / 8)
    # low side towards +x at the origin: the high side reaches out to about -r_out cos(tilt)
    z = r_out * math.sin(tilt) + 0.5 * height * math.cos(tilt)
    pts = ring_solid_points((0.0, 0.0, z), apothem, height, 8, tilt, 0.0)
    assert abs(pts[:, 2].min()) < 2e-3    # the low edge on the table (a flat low, not a corner)
    assert pts[:, 0].min() < -0.8 * r_out * math.cos(tilt)
    # a block 10 mm high whose side is 10 mm in under the high side: the ring is above it
    top = 0.010
    reach = -pts[:, 0].min()
    under = ((-reach - 0.02 + 0.01, 0.0), 0.02, 'p2', top)
    gap, what = _solid_gap(pts, [under])
    assert gap > 0.0 and what == 'p2'
    # a peg as tall as the ring is high, at the same place: the ring runs into it
    gap, _ = _solid_gap(pts, [((-reach - 0.02 + 0.01, 0.0), 0.02, 'p2', 0.2)])
    assert gap < -0.008
    assert _solid_gap(pts, []) == (math.inf, '')


@pytest.mark.parametrize('hand_empty', [None, True])
def test_a_flat_ring_behind_a_peg_is_loose_with_the_peg_across_it(spec, hand_empty):
    """
    Read the last frame of a 4-block bench episode with slips (seed 20036, in-process).

    b1 lies flat on the table behind p2 at (0.454, -0.011), the peg in front of it across its
    silhouette. Without the peg's pixels its blob fitted a flat ring at overlap 0.61, and it
    was read 1.5 levels above p2's (empty) stack until the episode ended. A flat ring needs no
    word on the hand.
    """
    p, out = _read_frame(spec, 'ring_flat_behind_p2.png', 4, hand_empty)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b2'], 'p2': [], 'p3': ['b4', 'b3']}
    assert out.state.loose == {'b1': TABLE}
    pose = out.state.poses['b1']
    assert pose.upright and math.hypot(pose.x - 0.454, pose.y + 0.011) < 0.003, pose


def test_a_ring_jammed_tilted_on_a_peg_is_read_there_once_the_ring_under_it_is_off(spec):
    """
    Read a frame of a 4-block bench episode with slips (seed 20078, in-process).

    b1 hangs 33 degrees tilted on p1, its centre at (0.498, -0.172, 0.037): loose(b1, p1) in
    the truth; b2 lies flat on the table in front of p1 at (0.543, -0.125). b2 was first
    read under b1 on p1, which put b1 at its place there; once b2 was on the table, b1 stood
    1.4 levels above an empty peg and was still read on p1 (wrong, 2 frames). The blocks
    left on a peg are checked again; b1's tilted outline across the tip fits better than an
    upright one (0.67) or one leaning on the table (0.84).
    """
    p, out = _read_frame(spec, 'ring_jammed_tilted_on_p1.png', 4)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b3'], 'p3': ['b4']}
    assert out.state.loose == {'b1': 'p1', 'b2': TABLE}
    b1, b2 = out.state.poses['b1'], out.state.poses['b2']
    assert math.dist((b1.x, b1.y, b1.z), (0.498, -0.172, 0.037)) < 0.006, b1
    assert math.hypot(b2.x - 0.543, b2.y + 0.125) < 0.003, b2


def test_a_large_ring_lying_on_a_small_one_on_a_peg_leaves_the_small_one_on_the_peg(spec):
    """
    Read a frame of a 5-block bench episode with slips (seed 20018, in-process).

    b3 slipped onto b2, b1 on p2 and lies flat on b1, centred (truth: loose(b3, b1) at
    (0.501, -0.002, 0.050)). b3 was read across p2's tip, but then b3's yellow covered 64 %
    of b1's place, and b1 was taken for a block behind the stack: the state was unknown
    until the episode gave up. A ring across the tip covers the block under it from above.
    """
    p, out = _read_frame(spec, 'large_ring_flat_on_small_ring_on_p2.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2', 'b1'], 'p3': ['b5', 'b4']}
    assert out.state.loose == {'b3': 'b1'}
    b3 = out.state.poses['b3']
    assert math.dist((b3.x, b3.y, b3.z), (0.501, -0.002, 0.050)) < 0.006, b3


def test_a_peg_tip_found_beside_where_the_fit_puts_it_is_seen(spec):
    """
    Read a frame of a 6-block bench episode without faults (seed 20037, in-process).

    b6 alone on p3, whose tip shows above it, 9 px right of where the camera fitted to this
    frame puts it and 1 px up; the tip was taken for hidden, b6 refused for the rest of the
    episode ("lost sight"). Sideways is the fit's error about the vertical, not a tip hidden.
    """
    p, out = _read_frame(spec, 'six_blocks_tip_of_p3_beside_the_fit.png', 6)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b5'], 'p2': ['b4', 'b3', 'b2', 'b1'], 'p3': ['b6']}
    assert 3 in p.tips_seen


def _read_frame(spec, name, blocks, hand_empty=True):
    """Read ``test/data/<name>`` with a fresh classic perceiver; return it and the perception."""
    from PIL import Image
    path = os.path.join(os.path.dirname(__file__), '..', 'data', name)
    p = ClassicPerceiver(spec, blocks)
    p.hand_empty = hand_empty
    return p, p.perceive(np.asarray(Image.open(path).convert('RGB')))


def test_a_ring_whose_top_the_rings_above_hide_is_at_its_place(spec):
    """
    Read the last frame of a 6-block bench episode without faults (seed 20082, in-process).

    p3 holds b6, b5, b4, b1: b5 hides all of b6 but a thin band at its front, whose centre is
    seen at level -1.0 of p3's column with b6 at level 0, and b6 was refused as off its place
    ("lost sight" after 56 moves). The centre of the part of its place that the rings above
    leave in view lies at level -0.86: it is where a ring at that place is seen.
    """
    p, out = _read_frame(spec, 'six_blocks_big_ring_under_four.png', 6)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b3', 'b2'], 'p3': ['b6', 'b5', 'b4', 'b1']}
    assert not out.state.loose


def test_a_ring_hanging_on_the_far_side_of_a_peg_rests_on_that_peg(spec):
    """
    Read a frame of b3 dropped tilted over p1 (3 blocks, scene seed 18, in-process physics).

    It hangs on the far side of p1 at 65 degrees, the peg through its hole and in front of
    it, its low edge 10 mm above the table: loose(b3, p1) in the truth, centre at (0.489,
    -0.170, 0.040). It was read leaning on the table, 20 mm off; hung this way from 12 of 16
    headings of the drop, that reading was the one made. Across p1's tip, with the peg's
    pixels in front of it taken as its own, it is loose on p1 within 11 mm.
    """
    p, out = _read_frame(spec, 'large_ring_hanging_behind_p1.png', 3)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b2', 'b1'], 'p3': []}
    assert out.state.loose == {'b3': 'p1'}
    pose = out.state.poses['b3']
    assert not pose.upright
    assert math.hypot(pose.x - 0.489, pose.y + 0.170) < 0.011, pose
    # with the hand not known empty a ring there may be in the gripper: not read loose
    p, out = _read_frame(spec, 'large_ring_hanging_behind_p1.png', 3, hand_empty=None)
    assert 'b3' not in (out.state.loose if out.state.known else {})


def test_a_ring_on_its_edge_against_a_peg_is_on_the_table_not_hanging(spec):
    """
    Read a frame of b5 dropped tilted beside p1 (5 blocks, scene seed 18, in-process physics).

    It stands on its edge against p1, its centre 17 mm off the axis at (0.483, -0.170), the
    peg beside its hole: loose(b5, table) in the truth. Read as a ring hanging on p1 (the
    peg's pixels in front taken as its own, steeper tilts) it was put on p1: a ring read
    on its edge is not tried hanging.
    """
    p, out = _read_frame(spec, 'large_ring_on_its_edge_against_p1.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b4', 'b3', 'b2', 'b1'], 'p3': []}
    assert out.state.loose == {'b5': 'table'}
    pose = out.state.poses['b5']
    assert math.degrees(pose.tilt) > HANGING_MAX_TILT_DEG, pose
    assert math.hypot(pose.x - 0.483, pose.y + 0.170) < 0.006, pose


def test_a_small_ring_below_a_large_ones_place_is_not_under_it(spec):
    """
    Read the last frame of a 4-block bench episode with slips (seed 20043, in-process).

    b1 lies flat on the table in front of b4 on p1, at (0.546, -0.144), seen at level -1.9
    of p1's column. Judged by the part of its place that b4 leaves in view, it was put under
    b4 on p1; b4 was then refused as off its place ("only 81 % inside") until the episode
    ended "lost sight". A ring is not under a larger one: b1 is read on the table.
    """
    p, out = _read_frame(spec, 'small_ring_flat_in_front_of_b4_on_p1.png', 4)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b4'], 'p2': ['b3'], 'p3': ['b2']}
    assert out.state.loose == {'b1': 'table'}
    pose = out.state.poses['b1']
    assert pose.upright and math.hypot(pose.x - 0.5456, pose.y + 0.1442) < 0.003, pose


def test_a_ring_on_its_edge_on_a_stack_is_loose_on_the_top_block(spec):
    """
    Read a frame of a 5-block bench episode with slips (seed 20057, in-process).

    b1 stands on its edge on b5 on p2, its centre at (0.518, -0.011, 0.038), 18 mm off the
    peg's axis: loose(b1, b5) in the truth. It was read stacked on b5 in 14 frames (its place
    fits its blob at 0.47) and the grasp at its place missed until the episode gave up.
    """
    p, out = _read_frame(spec, 'small_ring_on_its_edge_on_b5.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b2'], 'p2': ['b5'], 'p3': ['b4', 'b3']}
    assert out.state.loose == {'b1': 'b5'}
    pose = out.state.poses['b1']
    assert not pose.upright and math.degrees(pose.tilt) > 70, pose
    assert math.hypot(pose.x - 0.518, pose.y + 0.011) < 0.006, pose


def test_a_ring_on_its_edge_in_front_of_a_peg_is_on_the_table_not_across_the_tip(spec):
    """
    Read a frame of a 5-block bench episode with slips (seed 20050, in-process).

    b5 stands on its edge on the table in front of p1, hiding the peg, its centre at (0.520,
    -0.182, 0.034). Its best leaning fit (0.96, 45 degrees) ran into p1 and was refused; the
    ring across p1's tip (0.91) beat only the flat fit (0.73), and b5 was read across the tip
    in 14 frames. The best leaning fit clear of the peg is the ring on its edge.
    """
    p, out = _read_frame(spec, 'large_ring_on_its_edge_in_front_of_p1.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b4', 'b3', 'b2', 'b1'], 'p3': []}
    assert out.state.loose == {'b5': TABLE}
    pose = out.state.poses['b5']
    assert not pose.upright and math.degrees(pose.tilt) > 75, pose
    assert math.hypot(pose.x - 0.520, pose.y + 0.182) < 0.008, pose


def test_a_ring_on_its_edge_on_a_stack_behind_the_tip_is_loose_on_the_top_block(spec):
    """
    Read the last frame of a 4-block bench episode with slips (seed 20098, in-process).

    b2 stands on its edge on b3 on p3, behind the peg's tip, its centre at (0.483, 0.185,
    0.062): loose(b2, b3) in the truth. Seen at level 3.2 of p3's column over a stack of 2 and
    not across the tip (its centre there 73 mm high), it was refused until the episode ended.
    """
    p, out = _read_frame(spec, 'ring_on_its_edge_on_b3_behind_p3_tip.png', 4)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b1'], 'p3': ['b4', 'b3']}
    assert out.state.loose == {'b2': 'b3'}
    pose = out.state.poses['b2']
    assert math.dist((pose.x, pose.y, pose.z), (0.483, 0.185, 0.062)) < 0.006, pose


def test_a_ring_behind_a_stack_counts_the_stack_in_front_of_it_as_its_own(spec):
    """
    Read the last frame of a 4-block bench episode with slips (seed 20098, in-process).

    b2, pushed over from its edge on b3, came to lie leaning on the table behind p3's stack at
    (0.443, 0.222, 0.022); the stack hides its lower left part. Its blob fitted no flat (0.72)
    or leaning ring and the episode ended "lost sight". With the hand empty the pixels of the
    blocks on a peg in front of it, inside its outline, are taken as its own, as a peg's are.
    """
    p, out = _read_frame(spec, 'ring_leaning_behind_p3_stack.png', 4)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': ['b1'], 'p3': ['b4', 'b3']}
    assert out.state.loose == {'b2': TABLE}
    pose = out.state.poses['b2']
    assert math.dist((pose.x, pose.y, pose.z), (0.443, 0.222, 0.022)) < 0.006, pose


def test_a_small_ring_on_its_edge_on_a_rings_rim_leaning_on_the_peg_is_loose_on_it(spec):
    """
    Read a frame of a 4-block bench episode with slips (seed 20040, in-process).

    b1 stands on its edge (81 degrees) on b2's rim on p2, leaning on the peg, its centre at
    (0.494, 0.026, 0.057), 27 mm off the axis, beyond b2's corners (24 mm): loose(b1, b2) in
    the truth. Off the column and fitting no flat ring on b2 (0.59), it was refused until the
    episode ended "lost sight"; tilted on b2 it fits at 0.96, its low edge on b2's rim.
    """
    p, out = _read_frame(spec, 'small_ring_on_its_edge_on_b2_by_p2_tip.png', 4)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b4'], 'p2': ['b3', 'b2'], 'p3': []}
    assert out.state.loose == {'b1': 'b2'}
    pose = out.state.poses['b1']
    assert not pose.upright
    assert math.dist((pose.x, pose.y, pose.z), (0.494, 0.026, 0.057)) < 0.01, pose


def test_a_flat_ring_across_the_image_border_is_fitted_to_its_part_in_the_frame(spec):
    """
    Read the last frame of a 5-block bench episode with slips (seed 20002, in-process).

    b3 slipped and lies flat on the table at (0.4112, 0.3428), two thirds of it in the frame
    at its right side. It was refused "cut by the image edge" until the episode was lost; the
    flat ring whose part in the frame fits the blob is 0.5 mm from the truth.
    """
    p, out = _read_frame(spec, 'ring_flat_across_the_image_edge.png', 5)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': ['b5', 'b4'], 'p2': ['b2', 'b1'], 'p3': []}
    assert out.state.loose == {'b3': TABLE}
    pose = out.state.poses['b3']
    assert pose.upright and math.dist((pose.x, pose.y), (0.4112, 0.3428)) < 0.004, pose
    (b3,) = [r for r in out.readings if r.name == 'b3']
    assert 'cut by the image edge' in b3.note


def test_the_clipped_overlap_judges_an_outline_by_its_part_in_the_image():
    from nsvla_perception.classic import clipped_overlap, overlap
    square = np.array([[-10.0, 20.0], [10.0, 20.0], [10.0, 40.0], [-10.0, 40.0]], np.float32)
    mask = np.ones((20, 10), bool)          # what the image shows: x 0..10, y 20..40
    iou, ratio, in_frame = clipped_overlap(mask, (0, 20, 10, 40), square, (64, 64))
    # (the outline's pixels are those whose centres lie inside it: a pixel's rim differs)
    assert iou > 0.85 and ratio == pytest.approx(1.0, abs=0.2)
    assert in_frame == pytest.approx(0.5, abs=0.06)
    # unclipped, the half beyond the border counts as missed
    assert overlap(mask, (0, 20, 10, 40), square)[0] < 0.5


def test_a_ring_whose_level_counted_a_ring_later_read_off_the_peg_is_on_its_peg(spec):
    """
    Read a frame of a 4-block bench episode with slips (seed 20000, in-process).

    p3 holds b4, b3, b2, centred; b1 stands on its edge in front of b4. Counted in p3's column
    under b2, b1 put b2's place a level up: b2 was doubted and read tilted on b3 beside the
    tip, and five placings of it on p3 were "not seen where planned". Once b1 is read off
    the peg, b2's first reading fits its place: b2 is on p3.
    """
    p, out = _read_frame(spec, 'ring_on_p3_over_a_ring_on_its_edge_in_front.png', 4)
    assert out.kind == KNOWN, out.state.reason
    assert out.state.stacks() == {'p1': [], 'p2': [], 'p3': ['b4', 'b3', 'b2']}
    assert out.state.loose == {'b1': TABLE}

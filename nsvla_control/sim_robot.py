# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The embedded MuJoCo world as the executor's Arm and Eyes, in one process (no DDS).

Benchmarks run hundreds of moves; doing them in one process avoids DDS and process start-up.
The executor itself is the one the node runs (:class:`nsvla_control.executor.Executor`, same
parameters from ``config/nsvla_params.yaml``): only these two adapters differ. The eyes render
the scene camera at the sim node's camera rate and feed the same perception backend and
temporal filter as the perception node, and take only a *fresh* stable reading; with no
perceiver they read the world's ground truth, as the sim node's ``~/ground_truth`` does.
"""

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from nsvla_common.params import load_yaml
from nsvla_common.paths import params_path
from nsvla_control.executor import Executor, load_parameters
from nsvla_control.motion import ArmSegment, GripperSegment, Segment
from nsvla_planner.state import SymbolicState


class SimArm:
    """Trajectory segments straight into ``HanoiWorld``'s controllers; waits advance physics."""

    def __init__(self, world: Any) -> None:
        from nsvla_common.robot import ARM_JOINTS
        self.world = world
        self.arm_joints = tuple(ARM_JOINTS)
        self.gripper_opening: Optional[float] = None   # the last gripper command, m per finger

    def joint_positions(self) -> np.ndarray:
        return np.asarray(self.world.arm_positions(), float)

    def send(self, segment: Segment) -> None:
        from nsvla_sim.trajectory import RawPoint
        w = self.world
        if isinstance(segment, ArmSegment):
            pts = [RawPoint(float(t), q.tolist(), v.tolist())
                   for t, q, v in zip(segment.times, segment.positions, segment.velocities)]
            if pts and pts[0].time_from_start <= 0.0:
                pts = pts[1:]    # as the trajectory message: the start point is where it is
            w.set_trajectory('arm', list(segment.joint_names), pts)
        elif isinstance(segment, GripperSegment):
            self.gripper_opening = float(segment.opening)
            # the same one-point trajectory the node publishes to the gripper controller
            w.set_trajectory('gripper', [w.gripper_joint_names[0]],
                             [RawPoint(0.6 * segment.duration, [segment.opening])])

    def finger_opening(self) -> float:
        """Return the opening of one finger now (m), as joint_states reports it."""
        return float(self.world.gripper_opening())

    def wait(self, seconds: float) -> None:
        self.world.advance(max(0.0, float(seconds)))

    def hold(self) -> None:
        self.world.hold()


def placement(state: SymbolicState) -> Any:
    """Return what a state says about where the blocks are (stacks, hand, loose), for comparing."""
    return (tuple(sorted((p, tuple(c)) for p, c in state.stacks().items())), state.holding,
            tuple(sorted(state.loose.items())))


# A loose block is "in view" for the audit when the camera sees at least this share of its
# silhouette: mostly unoccluded. The classic reader fits the whole ring's outline, so a block
# half behind a stack or under the arm is not one it is expected to find; a few per cent off
# (a finger's edge, a peg tip in front) still is.
IN_VIEW_SHARE = 0.9
# The tolerance on a loose block's estimated position on the table.
LOOSE_TOLERANCE_M = 0.01


class FrameAudit:
    """
    Perceived frames checked against the world's truth at the same instant (in-process only).

    ``wrong``: frames whose fresh published state was known but placed the blocks otherwise
    than the truth (a confidently wrong state); frames where the truth itself is unsettled (a
    block still moving) are not judged. ``loose_seen`` / ``loose_found``: loose blocks in the
    truth and how many of them the frame's perception reported loose, with the position error
    of each found one. A block the camera cannot see (behind a stack, under the arm) counts as
    not found there: that found share is a lower bound of the share found when in view.
    ``loose_in_view`` / ``loose_found_in_view``: the same two counts over the loose blocks in
    view only, those the world's camera sees at least :data:`IN_VIEW_SHARE` of
    (``HanoiWorld.visible_share``, passed to :meth:`check` as ``in_view``); a frame checked
    without ``in_view`` adds to neither. ``loose_read_in_view``: of those in view, how many
    the block's own reading placed loose (passed as ``readings``), even where the frame's
    state was unknown for another block (the arm in front of a stack): found, not acted on.
    ``loose_within_tolerance``: of the found ones, how many were placed within
    :data:`LOOSE_TOLERANCE_M` of the truth (horizontally).
    """

    def __init__(self) -> None:
        self.frames = 0
        self.judged = 0
        self.wrong = 0
        self.examples: List[str] = []
        self.loose_seen = 0
        self.loose_found = 0
        self.loose_in_view = 0
        self.loose_found_in_view = 0
        self.loose_read_in_view = 0
        self.loose_errors: List[float] = []

    def check(self, perceived: SymbolicState, published: Optional[SymbolicState],
              truth: SymbolicState, in_view: Optional[Mapping[str, float]] = None,
              readings: Sequence[Any] = ()) -> None:
        """
        Judge one frame: the raw perception (loose blocks) and what was published.

        ``in_view``: the visible share (0..1) of each of the truth's loose blocks in this frame
        (``HanoiWorld.visible_share``); a block missing from it is not in view. ``readings``:
        the perceiver's per-block readings of the frame (``name``, ``loose``, ``pose``).
        """
        read = {r.name for r in readings
                if getattr(r, 'loose', False) and getattr(r, 'pose', None) is not None}
        self.frames += 1
        if not truth.known:
            return
        for b, pose in truth.poses.items():
            self.loose_seen += 1
            seen = in_view is not None and in_view.get(b, 0.0) >= IN_VIEW_SHARE
            self.loose_in_view += int(seen)
            self.loose_read_in_view += int(seen and b in read)
            got = perceived.poses.get(b) if perceived.known else None
            if got is not None and b in perceived.loose:
                self.loose_found += 1
                self.loose_found_in_view += int(seen)
                self.loose_errors.append(math.hypot(got.x - pose.x, got.y - pose.y))
        if published is None or not published.known:
            return
        self.judged += 1
        if placement(published) != placement(truth):
            self.wrong += 1
            if len(self.examples) < 5:
                self.examples.append('perceived %s, truth %s'
                                     % (placement(published), placement(truth)))

    def summary(self) -> Dict[str, Any]:
        """Return the counts as a record."""
        return {'frames': self.frames, 'judged_frames': self.judged, 'wrong_states': self.wrong,
                'wrong_examples': list(self.examples), 'loose_seen': self.loose_seen,
                'loose_found': self.loose_found, 'loose_in_view': self.loose_in_view,
                'loose_found_in_view': self.loose_found_in_view,
                'loose_read_in_view': self.loose_read_in_view,
                'loose_error_max_m': max(self.loose_errors) if self.loose_errors else None,
                'loose_error_mean_m': (sum(self.loose_errors) / len(self.loose_errors)
                                       if self.loose_errors else None),
                'loose_within_tolerance': sum(1 for e in self.loose_errors
                                              if e <= LOOSE_TOLERANCE_M)}


class SimEyes:
    """Camera frames at ``camera_rate`` through a perceiver and the temporal filter."""

    def __init__(self, world: Any, perceiver: Any = None, camera_rate: float = 10.0,
                 stability_frames: int = 3, max_hold_frames: int = 0,
                 arm: Optional[SimArm] = None) -> None:
        from nsvla_perception.filter import TemporalFilter
        self.world = world
        self.perceiver = perceiver
        self.arm = arm      # its gripper commands tell perception when the hand is empty
        self.period = 1.0 / camera_rate
        self.filter = TemporalFilter(stability_frames, max_hold_frames)
        self.frames = 0
        self.audit = FrameAudit()

    def look(self, timeout_s: float, cancelled: Callable[[], bool],
             max_repeats: int = 0) -> SymbolicState:
        """Perceive frames until one is fresh (:class:`~nsvla_control.executor.Eyes`)."""
        w = self.world
        if self.perceiver is None:
            return w.ground_truth()
        frames = max(1, int(round(timeout_s / self.period)))
        if self.arm is not None:    # as the perception node, from the gripper commands
            from nsvla_perception.backend import hand_empty_after
            self.perceiver.hand_empty = hand_empty_after(self.arm.gripper_opening, w.spec,
                                                         w.num_blocks)
        last = None
        repeats = 0
        for _ in range(frames):
            if cancelled() or 0 < max_repeats <= repeats:
                break
            perception = self.perceiver.perceive(w.render(), stamp=w.time)
            self.frames += 1
            out = self.filter.update(perception)
            truth = w.ground_truth()
            in_view = None
            if truth.known and truth.poses and hasattr(w, 'visible_share'):
                in_view = w.visible_share(sorted(truth.poses))
            self.audit.check(perception.state, None if out.remembered else out.state, truth,
                             in_view, perception.readings or ())
            if not out.remembered and not out.waiting:
                return out.state     # read from this frame: what the node would take too
            last = out
            repeats += out.remembered
            w.advance(self.period)
        reason = 'no fresh symbolic_state within %.1f s' % timeout_s
        if 0 < max_repeats <= repeats:
            reason = ('no fresh symbolic_state in %d frames in a row (the view may be blocked)'
                      % repeats)
        if last is not None and last.candidate_reason:
            reason += ' (%s)' % last.candidate_reason
        return SymbolicState.unknown(w.num_blocks, w.num_pegs, reason)


def sim_parameters(params_file: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Return the ``sim``, ``perception`` and ``planner`` keys of the params YAML (raw values)."""
    path = params_path(params_file)
    return {name: load_yaml(path, name) for name in ('sim', 'perception', 'planner')}


def make_sim_executor(world: Any, perception: str = 'ground_truth',
                      params_file: Optional[str] = None,
                      overrides: Optional[Mapping[str, Any]] = None,
                      planner: Any = None) -> Executor:
    """
    Build the executor node's Executor on ``world``: same class, same params file.

    ``perception`` is ``ground_truth`` (the world's truth, as the sim node's ~/ground_truth)
    or a perception backend (its settings from the ``perception`` key of the params file).
    ``planner`` defaults to a Planner with the ``planner`` key's engine, timeout and form.
    """
    from nsvla_planner.planning import Planner
    params = load_parameters(params_file, overrides)
    others = sim_parameters(params_file)
    perceiver = None
    pp = others['perception']
    if perception != 'ground_truth':
        from nsvla_perception.backend import make_perceiver
        from nsvla_perception.settings import load_settings
        perceiver = make_perceiver(
            perception, world.spec, world.num_blocks, float(pp.get('min_confidence', 0.5)),
            pp.get('model_path') or None,
            load_settings(pp.get('perception_config', 'perception.yaml')))
    arm = SimArm(world)
    eyes = SimEyes(world, perceiver, float(others['sim'].get('camera_rate', 10.0)),
                   int(pp.get('stability_frames', 3)), int(pp.get('max_hold_frames', 0)), arm)
    if planner is None:
        plan = others['planner']
        planner = Planner(plan.get('engine', 'fast-downward'), float(plan.get('timeout_s', 30.0)),
                          plan.get('plan_form', 'pick_place'))
    return Executor(world.spec, params, arm, eyes, planner.plan)

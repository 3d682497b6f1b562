# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
THE executor: one class, no rclpy, used by the executor node and by every benchmark.

:class:`Executor` holds the episode logic (:func:`nsvla_control.episode.run_episode`), the
skills, the motion backend and the parameters (:data:`PARAMETERS`, the ``executor`` key of
``config/nsvla_params.yaml``). What differs between a launched graph and an in-process bench is
only I/O, behind two small protocols:

- an :class:`Arm` sends a trajectory segment to the controllers, waits (in the robot's time)
  and reports joint positions: ROS topics in the node, the MuJoCo world in the bench;
- :class:`Eyes` give the next *fresh* symbolic state after a wait: the ``symbolic_state`` topic
  in the node, the world's camera + the same perception backend and temporal filter in the bench.

The planner is a function ``(state, goal) -> PlanResult``: the planner node's ``plan_task``
action in the node, the same :class:`~nsvla_planner.planning.Planner` with the ``planner`` key
of the params file in the bench.
"""

import dataclasses
import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError, NsvlaError, ValidationError
from nsvla_common.params import load_yaml, Param, resolve
from nsvla_common.paths import params_path
from nsvla_control.episode import EpisodeConfig, EpisodeResult, PlanFn, run_episode, StatusFn
from nsvla_control.motion import ArmSegment, GRIPPER_OPEN, GripperSegment, MotionError, Segment
from nsvla_control.skills import LOOSE_PEG, move_of, Skills, Waypoint
from nsvla_control.timing import TIME_PARAMETERIZATIONS
from nsvla_planner.planning import PlanResult
from nsvla_planner.state import block_index, Goal, SymbolicState, TABLE

NODE_NAME = 'executor'
MOTION_BACKENDS = ('builtin', 'moveit')
TRAJECTORY_INTERFACES = ('auto', 'action', 'topic')
RESYNC_S = 0.5   # s to bring a refused arm's set-point to where the arm is
EMPTY_FINGERS_M = 0.001   # fingers this far inside the flats they closed on hold nothing
# a loose block seen again within this of where it was grasped was not moved by that grasp
LOOSE_RETRY_RADIUS_M = 0.01
# the finger line of each next grasp of a tilted ring at the same place, from the one seen
LOOSE_RETRY_TURNS_DEG = (0.0, 90.0, 45.0, -45.0)
# a ring seen tilted within this of where it was set down and let go is standing there on its
# edge (let go lying less steeply, it falls flat), whatever tilt its image gives
SET_DOWN_STOOD_RADIUS_M = 0.02

PARAMETERS: Tuple[Param, ...] = (
    Param('motion_backend', 'builtin', 'builtin (IK + timed trajectories) or moveit (MoveItPy)',
          read_only=True, choices=MOTION_BACKENDS),
    Param('moveit_config_package', 'moveit_resources_panda_moveit_config',
          'motion_backend moveit: the MoveIt configuration package of the arm (URDF, SRDF, '
          'kinematics, joint limits), read through moveit_configs_utils', read_only=True),
    Param('moveit_cpp_file', '', "motion_backend moveit: MoveItPy's settings (planning "
          "pipelines, request sets nsvla_free and nsvla_straight); '' = "
          'config/moveit/moveit_cpp.yaml', read_only=True),
    Param('trajectory_interface', 'auto', 'how trajectories reach the controllers: action '
          '(control_msgs FollowJointTrajectory / GripperCommand), topic (their '
          'joint_trajectory topics) or auto (the action where control_msgs is importable and '
          'the server is up, the topic otherwise)', read_only=True,
          choices=TRAJECTORY_INTERFACES),
    Param('scene_config', 'scene_default.yaml',
          'scene YAML: peg positions, block sizes, robot home', read_only=True),
    Param('max_replans', 3, 'replans an episode may always make (the budget grows with the '
          'plan: see replans_per_move)', 0, 50),
    Param('replans_per_move', 1.5, 'replans allowed per move of the first plan, beyond '
          'max_replans', 0.0, 10.0),
    # 5 gave up on a run of slips: 5 blocks with slips, seed 20087, slipped on 5 of its first
    # 6 lifts (a 0.16 % draw at 20 %) and was given up one replan before the lift that held.
    # A run of 9 slips is a 5e-7 draw; a loop that cannot progress costs 3 replans more.
    Param('max_stalled_replans', 8, 'replans in a row that may make no progress (the new plan '
          'is not shorter than the one before; a recovery is none); one more gives up', 1, 50),
    Param('max_moves', 2000, 'block moves per episode before giving up', 1, 100000),
    Param('observe_retries', 3, 'looks in a row that may come back unknown before giving up',
          1, 20),
    Param('velocity_scaling', 0.4, 'fraction of the Panda joint velocity limits', 0.01, 1.0,
          read_only=True),
    Param('acceleration_scaling', 0.3, 'fraction of the Panda joint acceleration limits',
          0.01, 1.0, read_only=True),
    Param('time_parameterization', 'trapezoid',
          'how the builtin backend times a joint path: trapezoid along the path, or toppra '
          '(time-optimal under the same limits; pip install toppra)', read_only=True,
          choices=TIME_PARAMETERIZATIONS),
    Param('grasp_squeeze', 0.004, 'close each finger this far inside the block flats (m)',
          0.0, 0.02),
    # The next segment starts at this one's end: a controller refuses a start more than its
    # start tolerance away from where the arm is (the sim and MoveIt: 0.01 rad), so a looser
    # value sends the next segment while the last one still runs on a controller that
    # received it late (seen under load: 0.0135 rad, refused, the move failed).
    Param('goal_tolerance', 0.005,
          "max joint error (rad) to call a trajectory finished; keep it under the "
          "controller's start tolerance (0.01 rad in the sim and MoveIt)", 0.0005, 0.01),
    Param('trajectory_timeout_margin_s', 5.0,
          "seconds past a trajectory's duration before it counts as failed", 0.0, 120.0),
    Param('settle_s', 0.5, 'seconds to wait after a move before looking at the blocks',
          0.0, 30.0),
    Param('observe_timeout_s', 10.0, 'seconds to wait for a fresh symbolic_state after a move',
          0.1, 120.0),
    # A look normally needs 3 stable frames (0.3 s at 10 Hz). When the arm, still over the
    # blocks after a move, is what hides them (a peg's tip behind the retreating hand),
    # waiting the whole observe_timeout_s first cost 10 s per such move (5 blocks, seed 3:
    # 15 s moves, 72 s of perception CPU); the arm now leaves the view after this long and
    # the next look has observe_timeout_s.
    Param('first_look_s', 3.0, 'seconds the first look after a move waits before the arm '
          'leaves the camera view and looks again (observe_timeout_s); 0 = no shorter first '
          'look', 0.0, 120.0),
    # Those 3 s were still 30 frames perceived for nothing per hidden tip (5 blocks, seed 3:
    # 19 such looks, 570 of the episode's 666 frames). A look that is read needs 3 stable
    # frames; one that perception keeps repeating the last state for (each frame seen but not
    # read) is a blocked view whatever the machine's speed, so the first look also ends after
    # this many of those frames in a row. Measured in-process (5 blocks, 286 first looks,
    # with and without slips): a look that is read takes 1 or 3 frames, one that is not
    # takes all 30; 6 leaves 3 frames for a noisier camera.
    Param('first_look_frames', 6, 'frames the first look after a move may get without a '
          'fresh state (perception repeating what it saw before) before the arm leaves the '
          'camera view; 0 = only first_look_s ends it', 0, 1000),
    # A ring standing on its edge is lifted by its edges but stays on its edge in the fingers,
    # and does not go onto a peg (3 blocks with slips: 3 of 6 failures in 100 episodes).
    Param('tip_over_tilt_deg', 70.0, 'a loose ring seen tilted this far from lying flat or '
          'more (standing on its edge) is pushed over onto its face, then seen again, before '
          'it is grasped; 90 = grasp it as it stands', 0.0, 90.0),
    # Gripped by its edges a tilted ring stays tilted in the fingers and jams on a peg's tip
    # or leans on the stack (3 blocks with slips, seeds 20006 and 20013: five times each).
    Param('carry_tilt_deg', 30.0, 'a loose ring seen tilted this far from lying flat or more '
          '(or tilted at all, once a carry of it to a peg has left it loose again) is set '
          'down on the table to fall flat, then seen again, before it is carried to a peg; '
          '90 = carry it as gripped', 0.0, 90.0),
    Param('plan_timeout_s', 120.0, 'seconds to wait for the planner to answer', 1.0, 3600.0),
    Param('planner_action', 'plan_task', 'PlanTask action asked for plans', read_only=True),
)


def load_parameters(params_file: Optional[str] = None,
                    overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Return the executor's parameters from the stack's params YAML (+ overrides), validated."""
    values = load_yaml(params_path(params_file), NODE_NAME)
    values.update(overrides or {})
    return resolve(PARAMETERS, values)


class Arm(Protocol):
    """What the executor needs from an arm under ros2_control-style trajectory controllers."""

    arm_joints: Sequence[str]

    def joint_positions(self) -> np.ndarray:
        """Return the current positions of ``arm_joints`` (MotionError when unknown)."""

    def send(self, segment: Segment) -> None:
        """Hand one arm or gripper segment to its controller (returns at once)."""

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of the robot's time pass (sim time in simulation)."""

    def hold(self) -> None:
        """Stop the arm where it is."""

    # optional: ``finger_opening() -> Optional[float]``, the opening of one finger now (m),
    # None when unknown; without it the executor never opens fingers it cannot see are empty


class Eyes(Protocol):
    """Where symbolic states come from."""

    def look(self, timeout_s: float, cancelled: Callable[[], bool],
             max_repeats: int = 0) -> SymbolicState:
        """
        Return the first fresh state seen from now on (unknown with the reason on timeout).

        ``max_repeats`` > 0 also ends the look (unknown, the reason says so) after that many
        perceived frames in a row that gave no fresh state (``remembered`` repeats).
        """


def make_motion(name: str, scene: Any, params: Mapping[str, Any]) -> Any:
    """Build the motion backend ``name`` for ``scene`` (builtin IK or MoveItPy)."""
    if name == 'builtin':
        from nsvla_control.motion import BuiltinMotion
        return BuiltinMotion.for_scene(scene, velocity_scaling=params['velocity_scaling'],
                                       acceleration_scaling=params['acceleration_scaling'],
                                       time_parameterization=params['time_parameterization'])
    if name == 'moveit':
        from nsvla_control.moveit_backend import MoveItMotion
        from nsvla_common.robot import ARM_JOINTS
        return MoveItMotion(ARM_JOINTS, velocity_scaling=params['velocity_scaling'],
                            acceleration_scaling=params['acceleration_scaling'],
                            q_rest=scene.home, config_package=params['moveit_config_package'],
                            moveit_cpp_file=params['moveit_cpp_file'],
                            base_position=scene.robot_base)
    raise ConfigError('unknown motion_backend %r (choose from %s)'
                      % (name, ', '.join(MOTION_BACKENDS)))


class Executor:
    """Closed-loop execution of goals on an :class:`Arm`, seen through :class:`Eyes`."""

    def __init__(self, scene: Any, params: Mapping[str, Any], arm: Arm, eyes: Eyes,
                 plan_fn: PlanFn, motion: Any = None) -> None:
        self.params = resolve(PARAMETERS, params)
        self.scene = scene
        self.arm = arm
        self.eyes = eyes
        self.plan_fn = plan_fn
        self.skills = Skills(scene)
        self.motion = motion if motion is not None else make_motion(
            self.params['motion_backend'], scene, self.params)
        self._cancelled: Callable[[], bool] = lambda: False
        self._view_cleared = False    # the arm left the view since the last move
        self._closed_on: Optional[float] = None   # apothem the fingers last closed on (m)
        self._grasp_apothem: Optional[float] = None   # of the block the current move grasps
        # where each loose block was grasped this episode (x, y): a grasp there that left it
        # there is not tried the same way again (:meth:`_varied_pose`)
        self._loose_tries: Dict[str, List[Tuple[float, float]]] = {}
        # the last move's deliberate first step ('push over', 'set down') and its block, when
        # the move stopped after it as meant (:meth:`staged`)
        self._first_step: Optional[Tuple[str, str]] = None
        # where each loose block was set down this episode, with the finger line it was gripped
        # by and whether the fingers carried it there (:meth:`_stood_where_set_down`)
        self._set_downs: Dict[str, List[Tuple[float, float, float, bool]]] = {}
        self._stopped_at: Optional[str] = None   # label of the arm segment last sent

    def episode_config(self) -> EpisodeConfig:
        """Return the episode bounds of the parameters."""
        p = self.params
        return EpisodeConfig(max_replans=p['max_replans'], max_moves=p['max_moves'],
                             observe_retries=p['observe_retries'],
                             replans_per_move=p['replans_per_move'],
                             max_stalled_replans=p['max_stalled_replans'])

    def run(self, goal: Goal, episode_id: str, status: Optional[StatusFn] = None,
            initial_plan: Optional[PlanResult] = None,
            cancelled: Callable[[], bool] = lambda: False) -> EpisodeResult:
        """Run one episode for ``goal``; never raises for robot, planner or perception faults."""
        self._cancelled = cancelled
        self._view_cleared = False
        self._loose_tries = {}
        self._first_step = None
        self._set_downs = {}
        try:
            return run_episode(self, self.plan_fn, goal, episode_id, status,
                               self.episode_config(), initial_plan=initial_plan,
                               cancelled=cancelled)
        finally:
            self._cancelled = lambda: False

    # ------------------------------------------------------------ Robot protocol (episode)
    def execute_move(self, state: SymbolicState, block: str, onto: str) -> Tuple[bool, str]:
        """Plan the arm and gripper motion of one block move and follow it."""
        self._view_cleared = False
        self._first_step = None
        try:
            move = move_of(state, block, onto)
            q = self.arm.joint_positions()
            apothem = self.scene.block_apothems(state.num_blocks)[block_index(block) - 1]
            opening = max(0.0, apothem - self.params['grasp_squeeze'])
            pose = state.poses.get(block)
            first = ''        # what the move does first instead: 'push over', 'set down'
            note = ''
            set_down = None   # where a set-down lets go, its finger line, whether it carries
            if move.src_peg == 0:     # already in the fingers: only the place half is left
                waypoints = self.skills.place_waypoints(move, state.num_blocks,
                                                        self.motion.tcp_position(q))
            elif move.src_peg == LOOSE_PEG:   # off the pegs: grasp where it was seen
                if pose is None:
                    return False, 'no pose for loose %s: cannot grasp it' % block
                grasp_pose, note = self._varied_pose(block, pose)
                tilted = self._tilted_for_a_peg(block, pose)
                self._loose_tries.setdefault(block, []).append((float(pose.x), float(pose.y)))
                first, waypoints, why_first, set_down = self._loose_waypoints(
                    move, state, grasp_pose, apothem, tilted)
                note = '; '.join(w for w in (note, why_first) if w)
            else:
                # taken from a peg: what earlier grasps of it as a loose block did is history
                self._loose_tries.pop(block, None)
                self._set_downs.pop(block, None)
                waypoints = self.skills.move_waypoints(move, state.num_blocks)
            segments, _ = self.motion.plan_move(q, waypoints, opening)
        except NsvlaError as exc:
            return False, str(exc)
        self._grasp_apothem = apothem
        self._stopped_at = None
        ok, why = self.follow(segments)
        opened = False
        if not ok and why != 'cancelled' and first:
            # stopped on the way: whatever the fingers hold is let go where it is
            opened, _ = self.follow([GripperSegment(GRIPPER_OPEN, getattr(
                self.motion, 'gripper_seconds', 0.8), 'open: the %s stopped' % first)])
        elif not ok and why != 'cancelled':
            opened = self.release_empty_fingers()
        if opened:
            yaw = next((w.yaw for w in waypoints if w.label == self._stopped_at), None)
            backed, back_why = self.back_off(yaw, state.num_blocks)
            if not backed:
                why = '%s; %s' % (why, back_why)
        if ok and first:
            # the move itself is not done: the plan goes on from where the ring is seen to lie
            self._first_step = (first, block)
            if set_down is not None:
                self._set_downs.setdefault(block, []).append(set_down)
            return False, '%s: it is grasped where it is seen next' % note
        return ok, '; '.join(w for w in (why, note) if w)

    def staged(self, observed: SymbolicState) -> str:
        """
        Name the last move's first step ('push over', 'set down') when ``observed`` shows it done.

        Done: its ring is seen loose on the table, neither on its edge nor tilted for a peg,
        so the next move grasps it flat and carries it to its place. '' after any other move,
        or when the ring is seen elsewhere (on a peg, on another ring) or still tilted.
        """
        if self._first_step is None:
            return ''
        first, block = self._first_step
        pose = observed.poses.get(block)
        if observed.loose.get(block) != TABLE or pose is None:
            return ''
        if self.standing(pose) or self._tilted_for_a_peg(block, pose):
            return ''
        return first

    def _tilted_for_a_peg(self, block: str, pose: Any) -> str:
        """
        Say why a loose ``block`` seen at ``pose`` is set down flat before a peg, or ''.

        A ring seen tilted ``carry_tilt_deg`` or more, or tilted by any angle (or an unknown
        one) once an earlier grasp of it carried it off and it is loose again: an earlier grasp
        farther than ``LOOSE_RETRY_RADIUS_M`` from where it is seen now moved it.
        """
        limit = self.params['carry_tilt_deg']
        if bool(getattr(pose, 'upright', True)) or limit >= 90.0:
            return ''
        tilt = float(getattr(pose, 'tilt', math.nan))
        if math.isfinite(tilt) and math.degrees(tilt) >= limit - 1e-9:   # 30 deg in rad: 29.99..
            return 'seen tilted %.0f deg' % math.degrees(tilt)
        carried = sum(1 for x, y in self._loose_tries.get(block, ())
                      if math.hypot(x - pose.x, y - pose.y) >= LOOSE_RETRY_RADIUS_M)
        if carried:
            return ('seen tilted (%s) again after %d grasp(s) that moved it' % (
                '%.0f deg' % math.degrees(tilt) if math.isfinite(tilt) else 'by an unseen angle',
                carried))
        return ''

    def _varied_pose(self, block: str, pose: Any) -> Tuple[Any, str]:
        """
        Return the pose to grasp a loose ``block`` by, and a note when it is not ``pose``.

        A tilted ring's finger line is the horizontal line in its plane, and the image may
        not say which line that is: the silhouettes of a ring on its edge and of one leaning
        less far, turned, are much alike (5 blocks with slips, seed 20026: b1 on its edge
        beside p1's stack, its plane's line at 143 degrees, fitted leaning 45 degrees at
        overlap 0.97 with the line at 45; the fingers closed along its axis through its
        hole, on nothing, five times, and the episode gave up). Each earlier grasp of the
        block within ``LOOSE_RETRY_RADIUS_M`` of where it is seen now left it there, so the
        next one turns the finger line by the next of ``LOOSE_RETRY_TURNS_DEG``. A ring lying
        flat, or one without a seen yaw, is grasped as seen.
        """
        yaw = float(getattr(pose, 'yaw', math.nan))
        if bool(getattr(pose, 'upright', True)) or not math.isfinite(yaw):
            return pose, ''
        here = sum(1 for x, y in self._loose_tries.get(block, ())
                   if math.hypot(x - pose.x, y - pose.y) < LOOSE_RETRY_RADIUS_M)
        turn = LOOSE_RETRY_TURNS_DEG[here % len(LOOSE_RETRY_TURNS_DEG)]
        if not turn:
            return pose, ''
        varied = dataclasses.replace(pose, yaw=math.remainder(yaw + math.radians(turn),
                                                              math.pi))
        return varied, ('%d earlier grasp(s) left %s where it lies: the finger line turned %+.0f '
                        'deg from the one seen' % (here, block, turn))

    def _loose_waypoints(self, move: Any, state: SymbolicState, pose: Any, apothem: float,
                         tilted: str = ''
                         ) -> Tuple[str, Sequence[Any], str,
                                    Optional[Tuple[float, float, float, bool]]]:
        """
        Return what a loose block's move does first, its waypoints, why, and its set-down.

        What it does first: '' (nothing: the block is carried to its place), 'push over' (a
        ring on its edge is pushed onto its face) or 'set down' (a ring ``tilted`` for a peg,
        :meth:`_tilted_for_a_peg`, is set down on the table to fall flat). Either ends the
        move: the ring is seen again and grasped where it lies. The set-down, for 'set down'
        only: where it lets go, the finger line it grips by and whether it carries the ring
        (:meth:`_stood_where_set_down`).
        """
        block = move.block
        stood, pose = self._stood_where_set_down(block, pose)
        if stood or self.standing(pose):       # on its edge: pushed onto its face first
            try:
                return 'push over', self.skills.tip_over_waypoints(block, state, pose, apothem), (
                    'pushed %s over from its edge (%s)'
                    % (block, stood or 'tilt %.0f deg' % math.degrees(pose.tilt))), None
            except ValidationError:
                # no room around it (against a peg): gripped by its edges as it stands,
                # which sometimes leaves it flat on the way (3 blocks with slips, seed 20071:
                # refused, the episode was lost; gripped, it was solved)
                tilted = tilted or 'on its edge with no room to push it over'
        if tilted:
            try:
                waypoints, (x, y) = self.skills.set_down_waypoints(block, state, pose, apothem)
                carried = math.hypot(x - pose.x, y - pose.y) >= LOOSE_RETRY_RADIUS_M
                return 'set down', waypoints, ('set %s down at (%.3f, %.3f) to fall flat: %s'
                                               % (block, x, y, tilted)), (
                    x, y, float(pose.yaw), carried)
            except ValidationError:
                pass          # no room in view: carried as gripped
        return '', self.skills.loose_waypoints(move, state.num_blocks, pose, state), '', None

    def _stood_where_set_down(self, block: str, pose: Any) -> Tuple[str, Any]:
        """
        Say whether a tilted ``block`` stands where it was set down; return that and its pose.

        Let go just over the table, a ring tilted less than on its edge falls flat: seen
        tilted again within ``SET_DOWN_STOOD_RADIUS_M`` of where it was let go, it stands on
        its edge there, whatever tilt its image gives (5 blocks with slips, seed 20084: b1,
        the smallest ring, on its edge, read 68, 65 and 59 degrees; set down three times, it
        stood each time). Where the set-down carried it there, the finger line that gripped
        it by its edges lies in its plane, and the push goes along its axis from that line
        (the next reading of that ring's yaw was 56 degrees off; pushed along it, the ring
        slid on its edge).
        """
        if bool(getattr(pose, 'upright', True)):
            return '', pose
        for x, y, line, carried in reversed(self._set_downs.get(block, ())):
            if math.hypot(x - pose.x, y - pose.y) < SET_DOWN_STOOD_RADIUS_M:
                if carried and math.isfinite(line):
                    pose = dataclasses.replace(pose, yaw=line)
                return 'stood where it was set down', pose
        return '', pose

    def standing(self, pose: Any) -> bool:
        """Whether a loose block at ``pose`` stands on its edge (``tip_over_tilt_deg``)."""
        limit = self.params['tip_over_tilt_deg']
        tilt = float(getattr(pose, 'tilt', math.nan))
        return limit < 90.0 and math.isfinite(tilt) and math.degrees(tilt) >= limit

    def release_empty_fingers(self) -> bool:
        """
        Open fingers left closed on nothing; return whether they were opened.

        A move that stops between grasp and release (the arm blocked by a ring that slipped
        onto the place it was lowering to) leaves the fingers closed: perception then cannot
        tell a ring resting near a stack from one still in the hand, and refuses it (5 blocks
        with slips: such an episode ended "lost sight"). Fingers closed on a ring stop at its
        flats (measured in the sim: b1, apothem 18 mm, held at 18.0-20.1 mm); closed on
        nothing they go towards the command, ``grasp_squeeze`` inside them (14 mm; one blocked
        by the ring it dropped stayed at 16.4 mm). More than ``EMPTY_FINGERS_M`` (at most half
        the squeeze) inside the flats, the hand holds nothing and is opened; with no finger
        reading it is left closed.
        """
        read = getattr(self.arm, 'finger_opening', None)
        if self._closed_on is None or read is None:
            return False
        try:
            opening = read()
        except NsvlaError:
            return False
        inside = min(EMPTY_FINGERS_M, 0.5 * self.params['grasp_squeeze'])
        if opening is None or inside <= 0.0 or opening >= self._closed_on - inside:
            return False
        ok, _why = self.follow([GripperSegment(GRIPPER_OPEN, getattr(
            self.motion, 'gripper_seconds', 0.8), 'open: nothing between the fingers')])
        return ok

    def back_off(self, yaw: Optional[float], num_blocks: int) -> Tuple[bool, str]:
        """
        Lift the open hand straight up to the travel height, at ``yaw`` (the stopped move's).

        A move that stopped low (the arm blocked lowering a ring onto its place, the ring
        slipped up between the fingers) and opened the fingers leaves them beside the ring:
        one finger props it up, tilted, and perception reads it where it is not yet resting
        (4 blocks with slips, seeds 20063, 20080, 20098: b1 on its peg, tilted 15-22 degrees
        against a finger, read stacked in 3 frames each; it fell flat once the arm left).
        Lifted clear, the ring settles before the next look, and the hand hides less of it.
        Without the stopped move's yaw, or with the hand already up there, it stays.
        """
        if yaw is None:
            return False, 'the hand stayed where the move stopped: no yaw to lift it at'
        try:
            q = self.arm.joint_positions()
            x, y, z = (float(c) for c in self.motion.tcp_position(q))
            top = self.skills.travel_z(num_blocks)
            if z >= top - 0.005:
                return True, ''
            segments, _ = self.motion.plan_move(q, [Waypoint(
                (x, y, top), yaw, None, straight=True,
                label='back off: the open hand straight up, clear of the rings')], 0.0)
        except NsvlaError as exc:
            return False, 'the open hand stayed where the move stopped: %s' % exc
        ok, why = self.follow(segments)
        return ok, '' if ok else 'backing off: %s' % why

    def observe(self) -> SymbolicState:
        """
        Wait ``settle_s`` for the blocks to come to rest, then the next fresh look.

        A look with the arm where the last move left it waits ``first_look_s``, or
        ``first_look_frames`` frames that perception could not read, when the arm can leave the
        view (the episode then clears the view and looks again); a look after
        :meth:`clear_view` waits ``observe_timeout_s``.
        """
        self.arm.wait(self.params['settle_s'])
        timeout = self.params['observe_timeout_s']
        first = self.params['first_look_s']
        if first > 0.0 and not self._view_cleared and self._can_clear_view():
            return self.eyes.look(min(timeout, first), self._cancelled,
                                  max_repeats=self.params['first_look_frames'])
        return self.eyes.look(timeout, self._cancelled)

    def _can_clear_view(self) -> bool:
        return (getattr(self.motion, 'q_rest', None) is not None
                and hasattr(self.motion, 'joint_move'))

    def clear_view(self) -> Tuple[bool, str]:
        """Move the arm home, out of the camera's view, before looking again."""
        home = getattr(self.motion, 'q_rest', None)
        if not self._can_clear_view():
            return False, 'this motion backend cannot move out of the view'
        try:
            segments = self.motion.joint_move(self.arm.joint_positions(), home,
                                              'out of the camera view')
        except NsvlaError as exc:
            return False, str(exc)
        ok, why = self.follow(segments)
        self._view_cleared = ok       # the next look gets observe_timeout_s
        self.release_empty_fingers()
        return ok, why

    # ------------------------------------------------------------ motion
    def _resync(self) -> bool:
        """
        Bring the arm controller's set-point to where the arm is; return whether it went.

        An arm pressed against something (a ring it was lowering onto) stops short of its
        set-point, and a segment planned from the measured arm then starts with a jump from
        the set-point: the controller refused one (5 blocks with slips: panda_joint2 0.055 rad
        off, 9.0 rad/s^2 needed, 7.5 allowed) and the episode gave up. A one-point segment to
        the measured position over ``RESYNC_S`` moves the set-point there within the limits.
        """
        try:
            q = np.asarray(self.arm.joint_positions(), float)
            seg = ArmSegment(tuple(self.arm.arm_joints), np.array([0.0, RESYNC_S]),
                             np.array([q, q]), np.zeros((2, q.size)),
                             'set-point to the measured arm')
            self.arm.send(seg)
        except NsvlaError:
            return False
        self.arm.wait(RESYNC_S)
        return True

    def follow(self, segments: Sequence[Segment]) -> Tuple[bool, str]:
        """Send each segment, wait its duration, check the arm got there; stop on cancel."""
        tol = self.params['goal_tolerance']
        margin = self.params['trajectory_timeout_margin_s']
        for seg in segments:
            if self._cancelled():
                self.arm.hold()
                return False, 'cancelled'
            if isinstance(seg, ArmSegment):
                self._stopped_at = seg.label
            try:
                self.arm.send(seg)
            except NsvlaError as exc:     # a controller that refuses it (limits, bad input)
                self.arm.hold()
                if not isinstance(seg, ArmSegment) or not self._resync():
                    return False, 'the controller refused %r: %s' % (seg.label, exc)
                try:
                    self.arm.send(seg)
                except NsvlaError as again:
                    self.arm.hold()
                    why = ('the controller refused %r: %s (again after its set-point was '
                           'brought to the measured arm: %s)')
                    return False, why % (seg.label, exc, again)
            self.arm.wait(seg.duration)
            if isinstance(seg, GripperSegment):
                self._closed_on = (self._grasp_apothem if seg.opening < GRIPPER_OPEN
                                   else None)
                continue
            assert isinstance(seg, ArmSegment)
            target = np.asarray(seg.positions[-1], float)
            waited = 0.0
            step = 0.01
            while True:
                try:
                    err = float(np.max(np.abs(self.arm.joint_positions() - target)))
                except MotionError as exc:
                    return False, str(exc)
                if err <= tol:
                    break
                if waited > margin or self._cancelled():
                    self.arm.hold()
                    return False, ('cancelled' if self._cancelled() else
                                   'arm did not reach the end of %r (error %.3f rad)'
                                   % (seg.label, err))
                self.arm.wait(step)
                waited += step
        return True, ''

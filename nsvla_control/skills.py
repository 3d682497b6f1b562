# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Skills: plan steps -> Cartesian waypoints of the gripper, from the scene and the symbolic state.

A *move* of block ``x`` from ``f`` to ``t`` (either one ``move`` action or a ``pick`` + ``place``
pair) becomes::

    above source (open) -> grasp (straight down, close) -> lift (straight up)
    -> above target -> release (straight down, open) -> retreat (straight up)

Heights come from the scene (block thickness, grasp point above the block centre, peg height)
and from the state (stack levels). The travel height clears every stack and every peg top with
the carried block hanging below the fingers. No ROS, no MuJoCo: pure geometry.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from nsvla_common.camera import camera_from_spec
from nsvla_common.errors import ValidationError
from nsvla_common.robot import GRIPPER_MAX_OPENING as GRIPPER_OPEN
from nsvla_planner.state import block_index, SymbolicState

Vec3 = Tuple[float, float, float]


@dataclass(frozen=True)
class Waypoint:
    """One gripper target: TCP position, yaw of the finger axis, and what the gripper does."""

    pos: Vec3
    yaw: float = 0.0
    gripper: Optional[str] = None      # 'open' / 'close' (on the block) / 'shut' (on nothing)
    straight: bool = False             # reach pos along a straight Cartesian line
    label: str = ''


@dataclass(frozen=True)
class SkillConfig:
    """Clearances of the skills (metres)."""

    travel_margin: float = 0.04        # above the highest obstacle when travelling
    release_clearance: float = 0.002   # release this far above the resting height
    grasp_yaw: float = -math.pi / 2    # TCP yaw: fingers on two flats of the octagonal rings


@dataclass(frozen=True)
class MoveSpec:
    """A block move in scene terms: which block, from which peg/level to which peg/level."""

    block: str
    src_peg: int
    src_level: int
    dst_peg: int
    dst_level: int


TIP_FINGER_CLEARANCE = 0.006  # m from a standing ring's face where the shut fingers come down
TIP_FINGER_LENGTH = 0.030     # m the shut fingers reach from the TCP along their closing line
TIP_FINGER_WIDTH = 0.012      # m they reach across it
TIP_PUSH_HEIGHT = 0.6         # push height above the ring's centre, in outer radii
TIP_PUSH_PAST = 0.005         # m past the far face where the fingers' leading side stops
TIP_ROOM = 0.003              # m the fingers' way down and the ring's landing keep from the rest
TIP_SHIFTS = (-0.08, -0.06, -0.04, -0.02, 0.0, 0.02, 0.04, 0.06, 0.08)  # m it may be set down
# away along its axis and its face (at most the largest) to push it there
TIP_SET_DOWN = 0.002          # m above where it stood that it is let go
# A tilted ring is gripped by its edges and stays tilted in the fingers: it is set down on the
# table where it has room and falls flat there (see Skills.set_down_waypoints)
SET_DOWN_SHIFTS = tuple(0.02 * k for k in range(-6, 7))   # m from where it was seen, each way
SET_DOWN_ROOM = 0.008      # m its landing and the opening fingers keep from the rest
SET_DOWN_ABOVE = 0.004     # m its lowest point is above the table when let go
SET_DOWN_UNSEEN_TILT_DEG = 60.0   # the tilt assumed of a ring seen tilted by an unknown angle
SET_DOWN_IN_IMAGE_PX = 40  # px a set-down ring's centre keeps inside the image border
FINGER_ROOM = 0.004        # m the open fingers coming down on a loose ring keep from the rest
FINGER_OPEN_SPAN = (GRIPPER_OPEN, 0.070)   # m from the TCP along their line, each open finger
HAND = 'hand'   # the source of a move whose block is already in the gripper
LOOSE_PEG = -1  # MoveSpec.src_peg of a loose block (off every peg: grasped where it was seen)


def _target_peg(state: SymbolicState, onto: str) -> str:
    """Return the peg whose stack ``onto`` (a block or a peg) belongs to."""
    dst_peg = onto if onto.startswith('p') else state.peg_of(onto)
    if dst_peg is None:
        raise ValidationError('%s is not on a peg: cannot place on it' % onto)
    return dst_peg


def _target_level(stacks: Dict[str, List[str]], onto: str, dst_peg: str) -> int:
    """Return the level a block placed on ``onto`` lands at; ``onto`` must top its stack."""
    dst_column = stacks[dst_peg]
    if onto.startswith('b') and (not dst_column or dst_column[-1] != onto):
        raise ValidationError('%s is not on top of %s' % (onto, dst_peg))
    return len(dst_column)


def move_of(state: SymbolicState, block: str, onto: str) -> MoveSpec:
    """
    Peg and level of ``block`` now and after it is placed on ``onto`` (block or peg).

    A block the state says is held (``holding``) has ``src_peg`` 0: only the place half of
    the move is left (after a stop that left it in the fingers). A loose block has
    ``src_peg`` :data:`LOOSE_PEG`: it is grasped where it was seen.
    """
    stacks = state.stacks()
    if block in state.loose or state.holding == block:
        dst_peg = _target_peg(state, onto)
        src = LOOSE_PEG if block in state.loose else 0
        return MoveSpec(block, src, -1, int(dst_peg[1:]), _target_level(stacks, onto, dst_peg))
    src_peg = state.peg_of(block)
    if src_peg is None:
        raise ValidationError('%s is not on a peg (held or unknown): cannot pick it' % block)
    column = stacks[src_peg]
    if column[-1] != block:
        raise ValidationError('%s is not on top of %s (%s is)' % (block, src_peg, column[-1]))
    dst_peg = _target_peg(state, onto)
    if dst_peg == src_peg:
        raise ValidationError('%s is already on %s' % (block, src_peg))
    return MoveSpec(block, int(src_peg[1:]), len(column) - 1, int(dst_peg[1:]),
                    _target_level(stacks, onto, dst_peg))


def steps_to_moves(plan: Sequence[dict]) -> List[Tuple[str, str, str]]:
    """
    Group a plan of either form into ``(block, from, to)`` moves.

    A plan made while a block is in the hand starts with its ``place``: that first move's
    source is :data:`HAND`.
    """
    moves: List[Tuple[str, str, str]] = []
    pending: Optional[Tuple[str, str]] = None
    for i, step in enumerate(plan):
        name, args = step.get('action'), list(step.get('args', []))
        if i == 0 and name == 'place' and len(args) == 2:
            moves.append((args[0], HAND, args[1]))
        elif name in ('move', 'move_loose') and len(args) == 3:
            moves.append((args[0], args[1], args[2]))
        elif name in ('pick', 'pick_loose') and len(args) == 2 and pending is None:
            pending = (args[0], args[1])
        elif name == 'place' and len(args) == 2 and pending and pending[0] == args[0]:
            moves.append((args[0], pending[1], args[1]))
            pending = None
        else:
            raise ValidationError('plan step %d %s%s does not fit a pick/place or move plan'
                                  % (i, name, tuple(args)))
    if pending is not None:
        raise ValidationError('the plan ends holding %s' % pending[0])
    return moves


class Skills:
    """Waypoints for block moves in one scene (a ``nsvla_common.rig.SceneSpec``)."""

    def __init__(self, spec: object, config: SkillConfig = SkillConfig()) -> None:
        self.spec = spec
        self.config = config

    def travel_z(self, num_blocks: int) -> float:
        """TCP height that clears a full stack and the peg tops with a block in the fingers."""
        spec = self.spec
        tallest = max(spec.block_bottom_z(num_blocks),  # type: ignore[attr-defined]
                      spec.peg_height)  # type: ignore[attr-defined]
        # the carried block's bottom hangs (height/2 + grasp offset) below the TCP
        hang = spec.block_height / 2 + spec.grasp_above_centre  # type: ignore[attr-defined]
        return tallest + hang + self.config.travel_margin

    def place_waypoints(self, move: MoveSpec, num_blocks: int,
                        tcp: Sequence[float]) -> List[Waypoint]:
        """Waypoints of the place half of a move, for a block already in the fingers at ``tcp``."""
        spec, cfg = self.spec, self.config
        tx, ty = spec.peg_xy(move.dst_peg)  # type: ignore[attr-defined]
        top = max(self.travel_z(num_blocks), float(tcp[2]))
        release = spec.grasp_z(move.dst_level) + cfg.release_clearance  # type: ignore
        yaw = cfg.grasp_yaw
        return [
            Waypoint((float(tcp[0]), float(tcp[1]), top), yaw, None, straight=True,
                     label='lift held %s' % move.block),
            Waypoint((tx, ty, top), yaw, None, straight=True, label='above target'),
            Waypoint((tx, ty, release), yaw, 'open', straight=True, label='release'),
            Waypoint((tx, ty, top), yaw, None, straight=True, label='retreat'),
        ]

    def _loose_grasp(self, num_blocks: int, pose: object,
                     keep_off: Sequence[Tuple[float, float, float, float]] = ()
                     ) -> Tuple[float, float, float, float, float]:
        """
        Return ``(x, y, grasp z, yaw, top z)`` of the grasp of a loose block seen at ``pose``.

        The fingers close on two flats: the pose's yaw where it was seen, else across the line
        from the block to the nearest peg, so neither finger lands on a neighbouring stack.
        Where the open fingers there would come down within ``FINGER_ROOM`` of something in
        ``keep_off`` (:meth:`_keep_off`), the pair of flats with the most room is taken (a
        ring set down flat 70 mm from another: the fingers across the line to p3 came down on
        the other ring, and the arm stopped short of the grasp). A
        tilted ring (not upright: leaning, on its edge) seen with a yaw is gripped with the
        fingers closing along that yaw, the horizontal line in its plane, onto its edges: along
        its axis they miss its faces (a ring on its edge, measured in the sim: closing along
        the axis, or 22.5 degrees off the plane's line, it stayed on the table; along the line,
        45 degrees off it and 22.5 degrees the other way it was lifted).
        """
        spec, cfg = self.spec, self.config
        x, y, z = (float(getattr(pose, k)) for k in ('x', 'y', 'z'))
        seen_yaw = float(getattr(pose, 'yaw', float('nan')))
        upright = bool(getattr(pose, 'upright', True))
        near = min(range(1, spec.num_pegs + 1),  # type: ignore[attr-defined]
                   key=lambda k: math.hypot(x - spec.peg_xy(k)[0], y - spec.peg_xy(k)[1]))
        px, py = spec.peg_xy(near)  # type: ignore[attr-defined]
        across = math.atan2(y - py, x - px) + math.pi / 2
        if math.isfinite(seen_yaw) and not upright:
            yaw = seen_yaw       # the TCP's yaw is the line the fingers close along
        elif math.isfinite(seen_yaw):
            # flats every pi/4 around the seen yaw: take the one nearest the 'across' direction
            step = math.pi / 4
            offset = seen_yaw + cfg.grasp_yaw
            yaw = offset + step * round((across - offset) / step)
            room = self._finger_room(x, y, yaw, keep_off)
            if room < FINGER_ROOM:
                yaw = max((yaw + step * k for k in range(4)),
                          key=lambda line: self._finger_room(x, y, line, keep_off))
        else:
            yaw = across
        yaw = math.remainder(yaw, math.pi)
        top = self.travel_z(num_blocks) + 0.02
        return x, y, z + spec.grasp_above_centre, yaw, top  # type: ignore[attr-defined]

    @staticmethod
    def _finger_room(x: float, y: float, line: float,
                     keep_off: Sequence[Tuple[float, float, float, float]]) -> float:
        """Return the least gap (m) from the open fingers closing along ``line`` to the rest."""
        near, far = FINGER_OPEN_SPAN
        dx, dy = math.cos(line), math.sin(line)
        gaps = []
        for ox, oy, r, _top in keep_off:
            u, v = (ox - x) * dx + (oy - y) * dy, -(ox - x) * dy + (oy - y) * dx
            du = max(near - abs(u), 0.0, abs(u) - far)     # to the finger on its side
            dv = max(abs(v) - TIP_FINGER_WIDTH, 0.0)
            gaps.append(math.hypot(du, dv) - r)
        return min(gaps) if gaps else math.inf

    def loose_waypoints(self, move: MoveSpec, num_blocks: int, pose: object,
                        state: Optional[SymbolicState] = None) -> List[Waypoint]:
        """
        Waypoints of a move of a loose block, grasped where perception saw it (``pose``).

        ``state``: what else is on the table, for the fingers' room (:meth:`_loose_grasp`).
        """
        spec, cfg = self.spec, self.config
        keep_off = self._keep_off(move.block, state) if state is not None else ()
        x, y, grasp, yaw, top = self._loose_grasp(num_blocks, pose, keep_off)
        tx, ty = spec.peg_xy(move.dst_peg)  # type: ignore[attr-defined]
        release = spec.grasp_z(move.dst_level) + cfg.release_clearance  # type: ignore
        return [
            Waypoint((x, y, top), yaw, 'open', label='above loose %s' % move.block),
            Waypoint((x, y, grasp), yaw, 'close', straight=True, label='grasp loose'),
            Waypoint((x, y, top), yaw, None, straight=True, label='lift'),
            # a ring is the same ring at any yaw over its peg: the wrist keeps the grasp's yaw
            # (turning it to grasp_yaw with a ring in the hand ran joint 7 into its limit: a
            # 5-block episode with slips gave up on 'cannot reach above target')
            Waypoint((tx, ty, top), yaw, None, straight=True, label='above target'),
            Waypoint((tx, ty, release), yaw, 'open', straight=True, label='release'),
            Waypoint((tx, ty, top), yaw, None, straight=True, label='retreat'),
        ]

    def _keep_off(self, block: str, state: SymbolicState
                  ) -> List[Tuple[float, float, float, float]]:
        """Return ``(x, y, reach, top z)`` of each peg's column and of each other loose block."""
        spec = self.spec
        corner = 1.0 / math.cos(math.pi / spec.segments)  # type: ignore[attr-defined]
        apothems = spec.block_apothems(state.num_blocks)  # type: ignore[attr-defined]
        keep_off: List[Tuple[float, float, float, float]] = []
        for k, column in enumerate(state.stacks().values(), 1):
            px, py = spec.peg_xy(k)  # type: ignore[attr-defined]
            reach = max([apothems[block_index(b) - 1] for b in column]
                        + [spec.peg_radius])  # type: ignore[attr-defined]
            top = spec.block_bottom_z(len(column))  # type: ignore[attr-defined]
            keep_off.append((px, py, reach, top))
        for other, where in state.poses.items():
            if other != block:
                keep_off.append((where.x, where.y, apothems[block_index(other) - 1] * corner,
                                 float(where.z) + spec.block_height))  # type: ignore
        return keep_off

    def set_down_waypoints(self, block: str, state: SymbolicState, pose: object,
                           apothem: float) -> Tuple[List[Waypoint], Tuple[float, float]]:
        """
        Waypoints that grip a tilted loose ring and set it down on the table to fall flat.

        A ring gripped by its edges stays tilted in the fingers, and a tilted ring does not go
        onto a peg: it jams on the tip or leans on the stack (3 blocks with slips, seeds 20006
        and 20013: a ring held 22-90 degrees from flat was let go over its stack five times,
        and stayed beside it each time, until the episode gave up). Set down with its lowest
        point ``SET_DOWN_ABOVE`` over the table and let go, it falls onto its face.

        The spot is the nearest to where it was seen (within ``max(SET_DOWN_SHIFTS)`` each
        way) where its fall and the opening fingers keep ``SET_DOWN_ROOM`` from the pegs'
        columns and the other loose blocks, on the table, in the camera's image and not
        behind a stack from it: it has to be seen again. Returns the waypoints and the spot.
        """
        spec = self.spec
        keep_off = self._keep_off(block, state)
        x, y, grasp, yaw, top = self._loose_grasp(state.num_blocks, pose, keep_off)
        tilt = float(getattr(pose, 'tilt', float('nan')))
        if not math.isfinite(tilt):
            tilt = math.radians(SET_DOWN_UNSEEN_TILT_DEG)
        r_out = apothem / math.cos(math.pi / spec.segments)  # type: ignore[attr-defined]
        # the centre above its lowest point, held at that tilt
        low = r_out * math.sin(tilt) + 0.5 * spec.block_height * math.cos(tilt)  # type: ignore
        need = max(r_out * (1.0 + math.sin(tilt)), FINGER_OPEN_SPAN[1]) + SET_DOWN_ROOM
        camera = camera_from_spec(spec)
        eye = camera.position
        (tx0, ty0), (sx, sy) = spec.table_centre, spec.table_size[:2]  # type: ignore
        width, height = camera.width, camera.height
        margin = SET_DOWN_IN_IMAGE_PX

        def usable(cx: float, cy: float) -> bool:
            if abs(cx - tx0) > sx / 2 - need or abs(cy - ty0) > sy / 2 - need:
                return False
            for ox, oy, reach, _top in keep_off:
                if math.hypot(cx - ox, cy - oy) - reach < need:
                    return False
            u, v = camera.project([(cx, cy, spec.block_height)])[0]  # type: ignore
            if not (margin <= u <= width - margin and margin <= v <= height - margin):
                return False
            # the line of sight from the camera to its top: over every column it passes
            dx, dy = cx - eye[0], cy - eye[1]
            span = dx * dx + dy * dy
            for ox, oy, reach, top_z in keep_off:
                t = ((ox - eye[0]) * dx + (oy - eye[1]) * dy) / max(span, 1e-12)
                if not 0.0 < t < 1.0:
                    continue
                off = math.hypot(eye[0] + t * dx - ox, eye[1] + t * dy - oy)
                sight = eye[2] + t * (spec.block_height - eye[2])  # type: ignore[attr-defined]
                if off < reach + r_out and sight < top_z:
                    return False
            return True

        spots = sorted((math.hypot(a, b), x + a, y + b)
                       for a in SET_DOWN_SHIFTS for b in SET_DOWN_SHIFTS)
        spot = next(((cx, cy) for _, cx, cy in spots if usable(cx, cy)), None)
        if spot is None:
            raise ValidationError('%s is tilted with no room to set it down: within %.0f mm of '
                                  '(%.3f, %.3f) no spot keeps %.0f mm from the pegs, the stacks '
                                  'and the loose blocks in view of the camera'
                                  % (block, 1000 * SET_DOWN_SHIFTS[-1], x, y, 1000 * need))
        cx, cy = spot
        down = low + SET_DOWN_ABOVE + spec.grasp_above_centre  # type: ignore[attr-defined]
        return [
            Waypoint((x, y, top), yaw, 'open', label='above tilted %s' % block),
            Waypoint((x, y, grasp), yaw, 'close', straight=True, label='grasp its edges'),
            Waypoint((x, y, top), yaw, None, straight=True, label='lift'),
            Waypoint((cx, cy, top), yaw, None, straight=True, label='above room to set it down'),
            Waypoint((cx, cy, down), yaw, 'open', straight=True, label='set it down'),
            Waypoint((cx, cy, top), yaw, None, straight=True, label='up from it'),
        ], spot

    def tip_over_waypoints(self, block: str, state: SymbolicState, pose: object,
                           apothem: float) -> List[Waypoint]:
        """
        Waypoints that push a ring standing on its edge over onto its face.

        A ring on its edge is lifted by its edges but stays on its edge in the fingers, and a
        ring on its edge does not go onto a peg (3 blocks with slips: lowered onto p2's tip it
        stayed there, or in the fingers, until the episode ended). The closed fingers come
        down beside one face (shut: nothing between them) and push through the ring's upper
        half along its axis: it falls flat that way, its centre about one outer radius on.

        The push starts from the face that leaves room for the fingers (on their way down and
        along the push) and for the ring to land, clear of the pegs, the stacks and the other
        loose blocks. Where neither face does (a ring facing a peg), the ring is first lifted
        by its edges (the fingers close along its plane, 'close'), set down on its edge the
        least distance away along its axis and its face (at most ``max(TIP_SHIFTS)``) that
        does, and pushed there. After it the ring has to be seen again:
        :class:`~nsvla_control.executor.Executor` ends the move.
        """
        spec = self.spec
        x, y, z = (float(getattr(pose, k)) for k in ('x', 'y', 'z'))
        line = float(getattr(pose, 'yaw', float('nan')))
        if not math.isfinite(line):
            raise ValidationError('%s stands on its edge but its yaw was not seen: no side to '
                                  'push it over from' % block)
        corner = 1.0 / math.cos(math.pi / spec.segments)  # type: ignore[attr-defined]
        r_out = apothem * corner
        keep_off = [(ox, oy, reach) for ox, oy, reach, _top in self._keep_off(block, state)]
        # the fingers close along the ring's face: the shut Panda fingers' boxes reach
        # +-30 mm along that line, wider than any ring's hole, and +-12 mm along the push
        # (open, each box spans 40..70 mm from the TCP along the line).
        # Their leading side comes down TIP_FINGER_CLEARANCE from the near face and stops
        # TIP_PUSH_PAST beyond the far one, the edge the ring turns about: tilted that far it
        # falls on, and the fingers stay clear of where it lands.
        lead, half = TIP_FINGER_WIDTH, TIP_FINGER_LENGTH
        face = 0.5 * spec.block_height  # type: ignore[attr-defined]
        start = face + TIP_FINGER_CLEARANCE + lead      # the TCP, before the ring's centre
        end = face + TIP_PUSH_PAST - lead               # and after it (or before: negative)

        def gap(cx: float, cy: float, heading: float, back: float, front: float,
                across: float) -> float:
            """
            Return the least distance (m) from a rectangle to the rest.

            The rectangle runs ``back``..``front`` along ``heading`` from (cx, cy) and
            +-``across`` to its sides.
            """
            dx, dy = math.cos(heading), math.sin(heading)
            gaps = []
            for ox, oy, reach in keep_off:
                u, v = (ox - cx) * dx + (oy - cy) * dy, -(ox - cx) * dy + (oy - cy) * dx
                du = max(-back - u, 0.0, u - front)
                dv = max(abs(v) - across, 0.0)
                gaps.append(math.hypot(du, dv) - reach)
            return min(gaps) if gaps else math.inf

        def room(cx: float, cy: float, heading: float, moved: bool) -> float:
            """Least gap of the fingers on their way down and along, and of the ring's fall."""
            sides = [gap(cx, cy, heading, start + lead, end + lead, half),
                     gap(cx, cy, heading, -face - r_out, face + r_out, 0.0) - r_out]
            if moved:   # set down and let go here (gripped where it stands: as ever)
                sides.append(gap(cx, cy, heading, lead, lead, GRIPPER_OPEN + half))
            return min(sides)

        axis = line + math.pi / 2
        ax, ay = math.cos(axis), math.sin(axis)
        options = []
        for a in TIP_SHIFTS:          # set down along its axis and along its face
            for b in TIP_SHIFTS:
                shift = math.hypot(a, b)
                if shift > TIP_SHIFTS[-1] + 1e-9:
                    continue
                cx, cy = x + a * ax - b * ay, y + a * ay + b * ax
                for heading in (axis, axis + math.pi):
                    free = room(cx, cy, heading, shift > 0.0)
                    options.append((free >= TIP_ROOM, -shift, free, cx, cy, heading))
        fits, _, _, cx, cy, push = max(options)
        if not fits:
            raise ValidationError('%s stands on its edge with no room to push it over: within '
                                  '%.0f mm of (%.3f, %.3f) its fall or the fingers meet a peg, '
                                  'a stack or a loose block' % (block, 1000 * TIP_SHIFTS[-1],
                                                                x, y))
        dx, dy = math.cos(push), math.sin(push)
        height = z + TIP_PUSH_HEIGHT * r_out
        top = self.travel_z(state.num_blocks) + 0.02
        yaw = math.remainder(line, math.pi)    # along its plane: the fingers meet its edges
        sx, sy = cx - start * dx, cy - start * dy
        ex, ey = cx + end * dx, cy + end * dy
        waypoints = []
        if math.hypot(cx - x, cy - y) > 1e-6:
            grasp = z + spec.grasp_above_centre  # type: ignore[attr-defined]
            down = grasp + TIP_SET_DOWN
            waypoints += [
                Waypoint((x, y, top), yaw, 'open', label='above %s on its edge' % block),
                Waypoint((x, y, grasp), yaw, 'close', straight=True, label='grasp its edges'),
                Waypoint((x, y, down + 0.03), yaw, None, straight=True, label='lift it'),
                Waypoint((cx, cy, down + 0.03), yaw, None, straight=True,
                         label='to room to push it over'),
                Waypoint((cx, cy, down), yaw, 'open', straight=True, label='set it down'),
                Waypoint((cx, cy, top), yaw, None, straight=True, label='up from it'),
            ]
        return waypoints + [
            Waypoint((sx, sy, top), yaw, 'shut', label='above the face of %s' % block),
            Waypoint((sx, sy, height), yaw, None, straight=True, label='beside its face'),
            Waypoint((ex, ey, height), yaw, None, straight=True, label='push %s over' % block),
            Waypoint((ex, ey, top), yaw, 'open', straight=True, label='retreat'),
        ]

    def move_waypoints(self, move: MoveSpec, num_blocks: int) -> List[Waypoint]:
        """Return the six waypoints of one block move (see the module docstring)."""
        spec, cfg = self.spec, self.config
        sx, sy = spec.peg_xy(move.src_peg)  # type: ignore[attr-defined]
        tx, ty = spec.peg_xy(move.dst_peg)  # type: ignore[attr-defined]
        top = self.travel_z(num_blocks)
        grasp = spec.grasp_z(move.src_level)  # type: ignore[attr-defined]
        release = spec.grasp_z(move.dst_level) + cfg.release_clearance  # type: ignore
        yaw = cfg.grasp_yaw
        return [
            Waypoint((sx, sy, top), yaw, 'open', label='above %s' % move.block),
            Waypoint((sx, sy, grasp), yaw, 'close', straight=True, label='grasp'),
            Waypoint((sx, sy, top), yaw, None, straight=True, label='lift'),
            Waypoint((tx, ty, top), yaw, None, straight=True, label='above target'),
            Waypoint((tx, ty, release), yaw, 'open', straight=True, label='release'),
            Waypoint((tx, ty, top), yaw, None, straight=True, label='retreat'),
        ]

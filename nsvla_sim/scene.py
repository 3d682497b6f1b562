# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Seeded layouts of the Hanoi world, drawn from a rig specification.

The specification itself (table, robot, pegs, blocks, camera, light, physics; :class:`SceneSpec`,
:func:`load_scene`) is the rig's and lives in :mod:`nsvla_common.rig`, so rig code reads it without
the simulator; it is imported here for the simulator's modules. The same spec feeds the MuJoCo
model (``nsvla_sim.mjcf``) and the Gazebo export (``nsvla_sim.gazebo``).

A :class:`Layout` is one concrete world drawn from a spec: the number of blocks, the start stacks
(a full tower, a seeded random legal configuration, or given stacks) and, when randomised, the
per-block start offsets, colours, lighting and camera pose. The same seed gives the same layout.
"""

import colorsys
import json
import math
import random
from dataclasses import dataclass, replace
from typing import Dict, List, Mapping, Sequence, Tuple, Union

from nsvla_common.errors import ValidationError
# The rig spec, for the simulator's modules (they read it from here with the layouts).
from nsvla_common.rig import (CameraSpec, DEFAULT_SCENE, load_scene,  # noqa: F401
                              Randomisation, scene_from_dict, SceneSpec, Vec)
from nsvla_common.robot import GRIPPER_MAX_OPENING  # noqa: F401
from nsvla_planner.state import block, peg, SymbolicState


# ---------------------------------------------------------------------- layouts
StartSpec = Union[str, Mapping[str, Sequence[str]], None]


@dataclass(frozen=True)
class BlockPlacement:
    """Start pose of one block: on ``peg`` at ``level``, with a small offset and yaw."""

    name: str
    peg: int
    level: int
    offset: Tuple[float, float] = (0.0, 0.0)
    yaw: float = 0.0
    colour: Vec = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class Layout:
    """One concrete world drawn from a spec: blocks, their start places, light and camera."""

    num_blocks: int
    stacks: Dict[str, List[str]]
    blocks: Tuple[BlockPlacement, ...]
    light_direction: Vec
    light_diffuse: float
    light_ambient: float
    camera_position: Vec
    camera_look_at: Vec
    seed: int = 0
    randomised: bool = False

    def start_state(self, num_pegs: int) -> SymbolicState:
        """Return the symbolic state the layout starts in."""
        return SymbolicState.from_stacks(self.stacks, self.num_blocks, num_pegs,
                                         source='ground_truth')


def _parse_start(start: StartSpec, spec: SceneSpec, num_blocks: int,
                 rng: random.Random) -> Dict[str, List[str]]:
    if start is None or start == 'tower':
        stacks = SymbolicState.tower(num_blocks, spec.num_pegs).stacks()
    elif start == 'random':
        stacks = SymbolicState.random(num_blocks, spec.num_pegs, rng=rng).stacks()
    elif isinstance(start, str) and start.startswith('tower:'):
        try:
            on_peg = int(start.split(':', 1)[1])
        except ValueError:
            raise ValidationError('start %r: expected tower:K with a peg number K'
                                  % start) from None
        stacks = SymbolicState.tower(num_blocks, spec.num_pegs, on_peg=on_peg).stacks()
    elif isinstance(start, Mapping):
        state = SymbolicState.from_stacks({str(k): list(v) for k, v in start.items()},
                                          num_blocks, spec.num_pegs)
        stacks = state.stacks()
    else:
        raise ValidationError('start must be "tower", "tower:K", "random" or {peg: [bottom..top]}'
                              ', got %r' % (start,))
    for p in stacks:
        if int(p[1:]) > spec.num_pegs:
            raise ValidationError('start uses %s but the scene has %d pegs' % (p, spec.num_pegs))
    return stacks


def _jitter_colour(rgb: Vec, dhsv: Vec, rng: random.Random) -> Vec:
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    h = (h + rng.uniform(-dhsv[0], dhsv[0])) % 1.0
    s = min(1.0, max(0.0, s + rng.uniform(-dhsv[1], dhsv[1])))
    v = min(1.0, max(0.0, v + rng.uniform(-dhsv[2], dhsv[2])))
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def make_layout(spec: SceneSpec, num_blocks: int, seed: int = 0, start: StartSpec = 'tower',
                randomise: bool = False) -> Layout:
    """
    Draw a layout: start stacks (``tower``, ``tower:K``, ``random`` or given) + randomisation.

    The random start configuration and the randomisation use separate streams of the same seed,
    so switching randomisation on does not change which configuration a seed gives.
    """
    spec.check_blocks(num_blocks)
    stacks = _parse_start(start, spec, num_blocks, random.Random('start-%d' % seed))
    rng = random.Random('randomise-%d' % seed)
    rnd = spec.randomisation if randomise else Randomisation()
    placements = []
    level_of = {}
    for p, column in stacks.items():
        for level, b in enumerate(column):
            level_of[b] = (int(p[1:]), level)
    for i in range(1, num_blocks + 1):
        k, level = level_of[block(i)]
        offset = (rng.uniform(-rnd.block_offset, rnd.block_offset),
                  rng.uniform(-rnd.block_offset, rnd.block_offset))
        yaw = math.radians(rng.uniform(-rnd.block_yaw_deg, rnd.block_yaw_deg))
        colour = _jitter_colour(spec.block_colour(i), rnd.colour_hsv, rng)
        placements.append(BlockPlacement(block(i), k, level, offset, yaw, colour))
    scale = 1.0 + rng.uniform(-rnd.light_intensity, rnd.light_intensity)
    light_dir = tuple(c + rng.uniform(-rnd.light_direction, rnd.light_direction)
                      for c in spec.light_direction)
    cam_pos = tuple(c + rng.uniform(-rnd.camera_position, rnd.camera_position)
                    for c in spec.camera.position)
    cam_at = tuple(c + rng.uniform(-rnd.camera_look_at, rnd.camera_look_at)
                   for c in spec.camera.look_at)
    return Layout(num_blocks=num_blocks, stacks={p: list(c) for p, c in stacks.items()},
                  blocks=tuple(placements), light_direction=light_dir,
                  light_diffuse=min(1.0, spec.light_diffuse * scale),
                  light_ambient=min(1.0, spec.light_ambient * scale),
                  camera_position=cam_pos, camera_look_at=cam_at, seed=seed,
                  randomised=randomise)


def with_stacks(layout: Layout, stacks: Mapping[str, Sequence[str]]) -> Layout:
    """Return the same layout with other start stacks (offsets, colours, camera kept)."""
    by_name = {b.name: b for b in layout.blocks}
    placements = []
    for p, column in stacks.items():
        for level, b in enumerate(column):
            placements.append(replace(by_name[b], peg=int(p[1:]), level=level))
    placements.sort(key=lambda b: int(b.name[1:]))
    return replace(layout, stacks={p: list(c) for p, c in stacks.items()},
                   blocks=tuple(placements))


def peg_names(spec: SceneSpec) -> List[str]:
    """``['p1', ..., 'pK']`` for this scene."""
    return [peg(k) for k in range(1, spec.num_pegs + 1)]


def start_spec_from_text(text: str) -> StartSpec:
    """Parse a start given as text: ``tower``, ``tower:K``, ``random`` or JSON stacks."""
    text = (text or 'tower').strip()
    if text in ('tower', 'random') or text.startswith('tower:'):
        return text
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError('start %r is neither tower/random nor JSON stacks (%s)'
                              % (text, exc.msg)) from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ValidationError('start JSON must be {"p1": ["b3", "b2", "b1"], ...}, got %r'
                              % (data,))
    return data

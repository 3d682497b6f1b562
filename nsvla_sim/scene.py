# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Scene specification of the Hanoi world and the seeded layouts drawn from it.

A scene file (``config/scene_default.yaml``, schema ``nsvla/scene/1``) describes the table,
the robot base and home pose, the pegs, the ring blocks, the camera, lighting, physics and the
ranges of domain randomisation. :func:`load_scene` reads and validates it into a
:class:`SceneSpec`; the same spec feeds the MuJoCo model (``nsvla_sim.mjcf``) and the Gazebo
export (``nsvla_sim.gazebo``).

A :class:`Layout` is one concrete world drawn from a spec: the number of blocks, the start stacks
(a full tower, a seeded random legal configuration, or given stacks) and, when randomised, the
per-block start offsets, colours, lighting and camera pose. The same seed gives the same layout.

Geometry (all in the world frame, z up, z = 0 on the table top):

- peg ``k`` (1-based) stands at ``spec.peg_xy(k)``; block ``i`` has outer apothem (half width
  across the flats) ``spec.block_apothems(n)[i - 1]``, strictly increasing with ``i``;
- a block at stack level ``L`` (0 = on the table) has its bottom at ``L * blocks.height``;
- the gripper grasps it ``blocks.grasp_above_centre`` above its centre (``spec.grasp_z(L)``).
"""

import colorsys
import json
import math
import random
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

import yaml

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.paths import config_path
from nsvla_planner.state import block, MAX_BLOCKS, peg, SymbolicState

SCENE_SCHEMA = 'nsvla/scene/1'
DEFAULT_SCENE = 'scene_default.yaml'
GRIPPER_MAX_OPENING = 0.04  # per finger (m): the Panda hand opens to 80 mm
Vec = Tuple[float, ...]


def _vec(raw: Any, n: int, where: str, low: float = -math.inf, high: float = math.inf) -> Vec:
    if not isinstance(raw, (list, tuple)) or len(raw) != n:
        raise ConfigError('%s must be a list of %d numbers, got %r' % (where, n, raw))
    out = []
    for v in raw:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ConfigError('%s must hold finite numbers, got %r' % (where, raw))
        if not low <= v <= high:
            raise ConfigError('%s values must be in [%g, %g], got %r' % (where, low, high, raw))
        out.append(float(v))
    return tuple(out)


def _num(raw: Any, where: str, low: float = -math.inf, high: float = math.inf,
         positive: bool = False) -> float:
    if not isinstance(raw, (int, float)) or isinstance(raw, bool) or not math.isfinite(raw):
        raise ConfigError('%s must be a finite number, got %r' % (where, raw))
    if positive and raw <= 0:
        raise ConfigError('%s must be positive, got %r' % (where, raw))
    if not low <= raw <= high:
        raise ConfigError('%s must be in [%g, %g], got %r' % (where, low, high, raw))
    return float(raw)


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    sec = data.get(key)
    if not isinstance(sec, Mapping):
        raise ConfigError('scene: section %r is missing or not a mapping' % key)
    return sec


def _need(sec: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in sec:
        raise ConfigError('scene: %s.%s is missing' % (where, key))
    return sec[key]


@dataclass(frozen=True)
class CameraSpec:
    """A fixed pinhole camera: image size, vertical field of view and a look-at pose."""

    name: str
    width: int
    height: int
    fovy_deg: float
    position: Vec
    look_at: Vec
    frame_id: str


@dataclass(frozen=True)
class Randomisation:
    """Half-ranges of the uniform domain randomisation (see the scene file for units)."""

    block_offset: float = 0.0
    block_yaw_deg: float = 0.0
    colour_hsv: Vec = (0.0, 0.0, 0.0)
    light_intensity: float = 0.0
    light_direction: float = 0.0
    camera_position: float = 0.0
    camera_look_at: float = 0.0


@dataclass(frozen=True)
class SceneSpec:
    """A validated scene: read it with :func:`load_scene`, or build it from a dict."""

    name: str
    table_size: Vec
    table_centre: Vec
    table_colour: Vec
    robot_base: Vec
    home: Vec
    gripper_home: float
    peg_radius: float
    peg_height: float
    peg_colour: Vec
    peg_positions: Tuple[Vec, ...]
    block_height: float
    hole_apothem: float
    apothem_min: float
    apothem_max: float
    apothem_step_max: float
    segments: int
    block_density: float
    block_friction: Vec
    grasp_above_centre: float
    block_colours: Tuple[Vec, ...]
    camera: CameraSpec
    light_direction: Vec
    light_diffuse: float
    light_ambient: float
    timestep: float
    integrator: str
    cone: str
    impratio: float
    gravity: Vec
    solver_iterations: int
    sleep: bool = True
    # Contact softness of the table, pegs and blocks (MuJoCo solref, solimp; see the scene file).
    contact_solref: Vec = (0.004, 1.0)
    contact_solimp: Vec = (0.95, 0.99, 0.001)
    block_colour_names: Tuple[str, ...] = ()
    randomisation: Randomisation = field(default_factory=Randomisation)
    source: str = ''

    # ------------------------------------------------------------------ geometry
    @property
    def num_pegs(self) -> int:
        return len(self.peg_positions)

    def peg_xy(self, k: int) -> Vec:
        """Axis of peg ``k`` (1-based) in the world frame."""
        if not 1 <= k <= self.num_pegs:
            raise ValidationError('peg %d does not exist (pegs are 1..%d)' % (k, self.num_pegs))
        return self.peg_positions[k - 1]

    def block_apothems(self, num_blocks: int) -> List[float]:
        """Outer apothem (half width across flats) of b1..bN, smallest first, equal steps."""
        if num_blocks <= 1:
            return [self.apothem_min] * max(num_blocks, 0)
        step = min(self.apothem_step_max, (self.apothem_max - self.apothem_min) / (num_blocks - 1))
        return [self.apothem_min + i * step for i in range(num_blocks)]

    def block_bottom_z(self, level: int) -> float:
        """Height of the bottom face of a block resting at stack ``level`` (0 = table)."""
        return level * self.block_height

    def block_centre_z(self, level: int) -> float:
        """Height of the centre of a block resting at stack ``level``."""
        return (level + 0.5) * self.block_height

    def grasp_z(self, level: int) -> float:
        """Height of the gripper TCP when grasping a block at stack ``level``."""
        return self.block_centre_z(level) + self.grasp_above_centre

    def block_colour(self, i: int) -> Vec:
        """Nominal RGB colour of block ``i`` (1-based); beyond the list, hues continue evenly."""
        if i <= len(self.block_colours):
            return self.block_colours[i - 1]
        hue = ((i - 1) * 0.61803398875) % 1.0
        return tuple(float(c) for c in colorsys.hsv_to_rgb(hue, 0.8, 0.85))

    def block_colour_name(self, i: int) -> str:
        """Return the colour word of block ``i`` (1-based), or '' when the scene names none."""
        return self.block_colour_names[i - 1] if i <= len(self.block_colour_names) else ''

    def check_blocks(self, num_blocks: int) -> None:
        """Raise ValidationError when ``num_blocks`` is not supported by this scene."""
        if not isinstance(num_blocks, int) or isinstance(num_blocks, bool):
            raise ValidationError('num_blocks must be an integer, got %r' % (num_blocks,))
        if not 1 <= num_blocks <= MAX_BLOCKS:
            raise ValidationError('num_blocks must be in 1..%d, got %d' % (MAX_BLOCKS, num_blocks))
        apothems = self.block_apothems(num_blocks)
        if num_blocks > 1 and apothems[1] - apothems[0] < 0.001:
            raise ValidationError('%d blocks would differ by less than 1 mm in size (apothem '
                                  '%g..%g)' % (num_blocks, self.apothem_min, self.apothem_max))


def scene_from_dict(data: Mapping[str, Any], source: str = '<dict>') -> SceneSpec:
    """Validate a scene mapping (the YAML content) and return a :class:`SceneSpec`."""
    if not isinstance(data, Mapping):
        raise ConfigError('scene %s: expected a mapping, got %s' % (source, type(data).__name__))
    if data.get('schema') != SCENE_SCHEMA:
        raise ConfigError('scene %s: schema is %r, expected %r'
                          % (source, data.get('schema'), SCENE_SCHEMA))
    table = _section(data, 'table')
    robot = _section(data, 'robot')
    pegs = _section(data, 'pegs')
    blocks = _section(data, 'blocks')
    cam = _section(data, 'camera')
    light = _section(data, 'lighting')
    phys = _section(data, 'physics')
    rnd = data.get('randomisation') or {}
    if not isinstance(rnd, Mapping):
        raise ConfigError('scene: section randomisation must be a mapping')

    positions = _need(pegs, 'positions', 'pegs')
    if not isinstance(positions, list) or not 3 <= len(positions) <= 9:
        raise ConfigError('scene: pegs.positions must list 3..9 pegs, got %r' % (positions,))
    peg_positions = tuple(_vec(p, 2, 'pegs.positions[%d]' % i) for i, p in enumerate(positions))
    colours = _need(blocks, 'colours', 'blocks')
    if not isinstance(colours, list) or not colours:
        raise ConfigError('scene: blocks.colours must be a non-empty list of RGB triples')
    home = _vec(_need(robot, 'home', 'robot'), 7, 'robot.home')
    segments = _need(blocks, 'segments', 'blocks')
    if not isinstance(segments, int) or segments < 6 or segments % 2:
        raise ConfigError('scene: blocks.segments must be an even integer >= 6 (flat faces '
                          'opposite each other for the fingers), got %r' % (segments,))
    integrator = str(phys.get('integrator', 'implicitfast'))
    if integrator not in ('Euler', 'RK4', 'implicit', 'implicitfast'):
        raise ConfigError('scene: physics.integrator %r unknown' % integrator)
    cone = str(phys.get('cone', 'elliptic'))
    if cone not in ('pyramidal', 'elliptic'):
        raise ConfigError('scene: physics.cone must be pyramidal or elliptic, got %r' % cone)
    width, height = cam.get('width'), cam.get('height')
    for label, v in (('camera.width', width), ('camera.height', height)):
        if not isinstance(v, int) or isinstance(v, bool) or not 16 <= v <= 4096:
            raise ConfigError('scene: %s must be an integer in 16..4096, got %r' % (label, v))
    spec = SceneSpec(
        name=str(data.get('name', 'hanoi')),
        table_size=_vec(_need(table, 'size', 'table'), 3, 'table.size', 0.01, 10.0),
        table_centre=_vec(_need(table, 'centre', 'table'), 2, 'table.centre'),
        table_colour=_vec(table.get('colour', [0.6, 0.6, 0.6]), 3, 'table.colour', 0.0, 1.0),
        robot_base=_vec(robot.get('base', [0, 0, 0]), 3, 'robot.base'),
        home=home,
        gripper_home=_num(robot.get('gripper_home', GRIPPER_MAX_OPENING), 'robot.gripper_home',
                          0.0, GRIPPER_MAX_OPENING),
        peg_radius=_num(_need(pegs, 'radius', 'pegs'), 'pegs.radius', 0.002, 0.05),
        peg_height=_num(_need(pegs, 'height', 'pegs'), 'pegs.height', 0.005, 0.5),
        peg_colour=_vec(pegs.get('colour', [0.4, 0.3, 0.2]), 3, 'pegs.colour', 0.0, 1.0),
        peg_positions=peg_positions,
        block_height=_num(_need(blocks, 'height', 'blocks'), 'blocks.height', 0.005, 0.1),
        hole_apothem=_num(_need(blocks, 'hole_apothem', 'blocks'), 'blocks.hole_apothem',
                          0.002, 0.1),
        apothem_min=_num(_need(blocks, 'apothem_min', 'blocks'), 'blocks.apothem_min',
                         0.005, GRIPPER_MAX_OPENING),
        apothem_max=_num(_need(blocks, 'apothem_max', 'blocks'), 'blocks.apothem_max',
                         0.005, GRIPPER_MAX_OPENING - 0.002),
        apothem_step_max=_num(blocks.get('apothem_step_max', 1.0), 'blocks.apothem_step_max',
                              positive=True),
        segments=segments,
        block_density=_num(blocks.get('density', 700.0), 'blocks.density', 10.0, 20000.0),
        block_friction=_vec(blocks.get('friction', [1.0, 0.005, 0.0001]), 3,
                            'blocks.friction', 0.0, 10.0),
        grasp_above_centre=_num(blocks.get('grasp_above_centre', 0.0),
                                'blocks.grasp_above_centre', -0.05, 0.05),
        block_colours=tuple(_vec(c, 3, 'blocks.colours[%d]' % i, 0.0, 1.0)
                            for i, c in enumerate(colours)),
        camera=CameraSpec(
            name=str(cam.get('name', 'scene_camera')), width=width, height=height,
            fovy_deg=_num(_need(cam, 'fovy_deg', 'camera'), 'camera.fovy_deg', 5.0, 170.0),
            position=_vec(_need(cam, 'position', 'camera'), 3, 'camera.position'),
            look_at=_vec(_need(cam, 'look_at', 'camera'), 3, 'camera.look_at'),
            frame_id=str(cam.get('frame_id', 'scene_camera_optical_frame'))),
        light_direction=_vec(light.get('direction', [0, 0, -1]), 3, 'lighting.direction'),
        light_diffuse=_num(light.get('diffuse', 0.7), 'lighting.diffuse', 0.0, 1.0),
        light_ambient=_num(light.get('ambient', 0.3), 'lighting.ambient', 0.0, 1.0),
        timestep=_num(phys.get('timestep', 0.002), 'physics.timestep', 1e-4, 0.01),
        integrator=integrator,
        cone=cone,
        impratio=_num(phys.get('impratio', 1.0), 'physics.impratio', 1.0, 100.0),
        gravity=_vec(phys.get('gravity', [0, 0, -9.81]), 3, 'physics.gravity'),
        solver_iterations=int(_num(phys.get('solver_iterations', 50),
                                   'physics.solver_iterations', 1, 1000)),
        sleep=bool(phys.get('sleep', True)),
        contact_solref=_vec(phys.get('contact_solref', [0.004, 1.0]), 2,
                            'physics.contact_solref', 1e-4, 10.0),
        contact_solimp=_vec(phys.get('contact_solimp', [0.95, 0.99, 0.001]), 3,
                            'physics.contact_solimp', 1e-4, 0.9999),
        block_colour_names=_colour_names(blocks.get('colour_names', []), len(colours)),
        randomisation=Randomisation(
            block_offset=_num(rnd.get('block_offset', 0.0), 'randomisation.block_offset',
                              0.0, 0.01),
            block_yaw_deg=_num(rnd.get('block_yaw_deg', 0.0), 'randomisation.block_yaw_deg',
                               0.0, 20.0),
            colour_hsv=_vec(rnd.get('colour_hsv', [0, 0, 0]), 3, 'randomisation.colour_hsv',
                            0.0, 0.5),
            light_intensity=_num(rnd.get('light_intensity', 0.0),
                                 'randomisation.light_intensity', 0.0, 1.0),
            light_direction=_num(rnd.get('light_direction', 0.0),
                                 'randomisation.light_direction', 0.0, 1.0),
            camera_position=_num(rnd.get('camera_position', 0.0),
                                 'randomisation.camera_position', 0.0, 0.2),
            camera_look_at=_num(rnd.get('camera_look_at', 0.0), 'randomisation.camera_look_at',
                                0.0, 0.2)),
        source=source)
    _check_geometry(spec)
    return spec


def _colour_names(raw: Any, num_colours: int) -> Tuple[str, ...]:
    if not isinstance(raw, list):
        raise ConfigError('scene: blocks.colour_names must be a list of words, got %r' % (raw,))
    if len(raw) > num_colours:
        raise ConfigError('scene: %d colour_names for %d colours' % (len(raw), num_colours))
    names = []
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not name.isalpha():
            raise ConfigError('scene: blocks.colour_names[%d] must be one word, got %r'
                              % (i, name))
        if name.lower() in names:
            raise ConfigError('scene: colour name %r is used twice' % name)
        names.append(name.lower())
    return tuple(names)


def _check_geometry(spec: SceneSpec) -> None:
    if spec.hole_apothem <= spec.peg_radius + 0.001:
        raise ConfigError('scene: blocks.hole_apothem %g leaves no clearance around pegs of '
                          'radius %g' % (spec.hole_apothem, spec.peg_radius))
    if spec.apothem_min <= spec.hole_apothem + 0.002:
        raise ConfigError('scene: blocks.apothem_min %g leaves a ring thinner than 2 mm '
                          '(hole_apothem %g)' % (spec.apothem_min, spec.hole_apothem))
    if spec.apothem_max <= spec.apothem_min:
        raise ConfigError('scene: blocks.apothem_max %g must exceed apothem_min %g'
                          % (spec.apothem_max, spec.apothem_min))
    corner = spec.apothem_max / math.cos(math.pi / spec.segments)
    for i in range(spec.num_pegs):
        for j in range(i + 1, spec.num_pegs):
            a, b = spec.peg_positions[i], spec.peg_positions[j]
            gap = math.hypot(a[0] - b[0], a[1] - b[1])
            if gap < 2 * corner + 0.03:
                raise ConfigError('scene: pegs p%d and p%d are %.3f m apart; the largest blocks '
                                  '(%.3f m across) and the fingers need %.3f m'
                                  % (i + 1, j + 1, gap, 2 * corner, 2 * corner + 0.03))
    timeconst, _ = spec.contact_solref
    if timeconst < 2 * spec.timestep - 1e-12:
        # MuJoCo clamps a shorter time constant to two timesteps without a word.
        raise ConfigError('scene: physics.contact_solref time constant %g is below twice the '
                          'timestep (%g); MuJoCo would clamp it' % (timeconst, 2 * spec.timestep))
    dmin, dmax, _ = spec.contact_solimp
    if dmin > dmax:
        raise ConfigError('scene: physics.contact_solimp needs dmin <= dmax, got %r'
                          % (spec.contact_solimp,))
    if spec.peg_height < spec.block_height:
        raise ConfigError('scene: pegs.height %g is lower than one block (%g)'
                          % (spec.peg_height, spec.block_height))


def load_scene(name: str = DEFAULT_SCENE) -> SceneSpec:
    """Read and validate a scene YAML (a file in config/ or a path); raise ConfigError."""
    path = config_path(name)
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError('cannot read scene %s: %s' % (path, exc)) from None
    return scene_from_dict(data, source=path)


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

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The rig specification: table, robot base and home pose, pegs, ring blocks, camera, light, physics.

A rig (scene) file (``config/scene_default.yaml``, schema ``nsvla/scene/1``) describes what the
robot works on; :func:`load_scene` reads and validates it into a :class:`SceneSpec`. A real rig
uses it as the embedded simulation does: perception reads the camera, pegs, block sizes and
colours from it, the executor the robot base, home pose and grasp heights. Pure Python (no
MuJoCo, no rclpy); the simulation draws its layouts from a spec (``nsvla_sim.scene``).

The camera (``camera:``) is a pinhole at a look-at pose: its intrinsics are either a field of view
(``fovy_deg``, vertical, or ``fovx_deg``, horizontal; square pixels, principal point at the image
centre) or ``fx, fy, cx, cy`` in pixels, with an optional ``distortion`` (``plumb_bob``
k1 k2 p1 p2 k3, or ``rational_polynomial``, 8 numbers) as a ROS camera_info gives them. A value
given twice must agree (a horizontal field of view entered as ``fovy_deg`` with fx given too is
refused, naming the mix-up), unknown camera keys are refused, and a principal point off the image
or pixels far from square are refused: a camera described wrong makes perception refuse every
frame, so it is caught when the file is read.

Geometry (all in the world frame, z up, z = 0 on the table top):

- peg ``k`` (1-based) stands at ``spec.peg_xy(k)``; block ``i`` has outer apothem (half width
  across the flats) ``spec.block_apothems(n)[i - 1]``, strictly increasing with ``i``;
- a block at stack level ``L`` (0 = on the table) has its bottom at ``L * blocks.height``;
- the gripper grasps it ``blocks.grasp_above_centre`` above its centre (``spec.grasp_z(L)``).
"""

import colorsys
import math
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Tuple

import yaml

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.paths import config_path
from nsvla_common.robot import GRIPPER_MAX_OPENING
from nsvla_common.symbols import MAX_BLOCKS, MAX_PEGS

SCENE_SCHEMA = 'nsvla/scene/1'
DEFAULT_SCENE = 'scene_default.yaml'
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


DISTORTION_SIZES = {'plumb_bob': 5, 'rational_polynomial': 8}
CAMERA_KEYS = ('name', 'width', 'height', 'fovy_deg', 'fovx_deg', 'fx', 'fy', 'cx', 'cy',
               'distortion', 'distortion_model', 'position', 'look_at', 'frame_id',
               'white_balance')
INTRINSIC_KEYS = ('fx', 'fy', 'cx', 'cy')
FOV_TOLERANCE_DEG = 0.5   # a field of view given next to fx, fy must agree this well
MAX_PIXEL_ASPECT = 1.25   # fx / fy beyond this (or below its inverse) is a mistake, not a camera


def focal_from_fov(size: int, fov_deg: float) -> float:
    """Return the focal length in pixels of a field of view across ``size`` pixels."""
    return size / (2.0 * math.tan(math.radians(fov_deg) / 2.0))


def resolved_intrinsics(camera: Any) -> Tuple[float, float, float, float]:
    """
    Return ``(fx, fy, cx, cy)`` of a camera description, in pixels.

    ``camera`` has ``width``, ``height``, ``fovy_deg`` and optional ``fx``, ``fy``, ``cx``,
    ``cy`` (None: square pixels from the vertical field of view, the principal point centred).
    """
    f = focal_from_fov(camera.height, camera.fovy_deg)
    return (float(camera.fx if camera.fx is not None else f),
            float(camera.fy if camera.fy is not None else f),
            float(camera.cx if camera.cx is not None else (camera.width - 1) / 2.0),
            float(camera.cy if camera.cy is not None else (camera.height - 1) / 2.0))


def fov_from_focal(size: int, focal: float) -> float:
    """Return the field of view (degrees) across ``size`` pixels of a focal length in pixels."""
    return math.degrees(2.0 * math.atan(size / (2.0 * focal)))


@dataclass(frozen=True)
class CameraSpec:
    """
    A fixed pinhole camera: image size, intrinsics (pixels) and a look-at pose.

    ``fx, fy, cx, cy`` are in pixels with (0, 0) the centre of the top-left pixel (the ROS
    camera_info convention); left at ``None`` they follow from ``fovy_deg`` (square pixels,
    principal point at the image centre). ``fovy_deg`` is always the vertical field of view
    (from ``fy`` when the intrinsics are given). ``distortion`` holds the camera_info ``D``
    coefficients of ``distortion_model`` (empty: none).
    """

    name: str
    width: int
    height: int
    fovy_deg: float
    position: Vec
    look_at: Vec
    frame_id: str
    fx: Optional[float] = None
    fy: Optional[float] = None
    cx: Optional[float] = None
    cy: Optional[float] = None
    distortion: Vec = ()
    distortion_model: str = 'plumb_bob'
    # Per-channel gains (R, G, B) perception applies to the image (``nsvla calibrate``); empty:
    # none.
    white_balance: Vec = ()

    @property
    def intrinsics(self) -> Tuple[float, float, float, float]:
        """Return ``(fx, fy, cx, cy)`` in pixels (derived from ``fovy_deg`` when not given)."""
        return resolved_intrinsics(self)

    @property
    def is_ideal(self) -> bool:
        """Tell whether the camera is a plain field of view: square pixels, centred, no lens."""
        fx, fy, cx, cy = self.intrinsics
        return (abs(fx - fy) <= 1e-9 * fy and abs(cx - (self.width - 1) / 2.0) <= 1e-9
                and abs(cy - (self.height - 1) / 2.0) <= 1e-9
                and not any(self.distortion))


def fov_mixup_hint(key: str, given: float, other_axis_fov: float) -> str:
    """Say when a field of view given for one axis is the other axis's (a swapped entry)."""
    if abs(given - other_axis_fov) > FOV_TOLERANCE_DEG:
        return ''
    other = 'horizontal' if key == 'fovy_deg' else 'vertical'
    return ' -- %g deg is the %s field of view: was the %s one entered as %s?' % (
        given, other, other, key)


def camera_from_dict(cam: Mapping[str, Any]) -> CameraSpec:
    """Validate the ``camera`` section of a rig file into a :class:`CameraSpec`."""
    unknown = sorted(str(k) for k in cam if k not in CAMERA_KEYS)
    if unknown:
        raise ConfigError('scene: camera.%s is not a camera key (known: %s; the field of view is '
                          'fovy_deg, vertical, or fovx_deg, horizontal; intrinsics are fx, fy, '
                          'cx, cy in pixels)' % (unknown[0], ', '.join(CAMERA_KEYS)))
    width, height = cam.get('width'), cam.get('height')
    for label, v in (('camera.width', width), ('camera.height', height)):
        if not isinstance(v, int) or isinstance(v, bool) or not 16 <= v <= 4096:
            raise ConfigError('scene: %s must be an integer in 16..4096, got %r' % (label, v))
    given = [k for k in INTRINSIC_KEYS if k in cam]
    fovy = (None if 'fovy_deg' not in cam
            else _num(cam['fovy_deg'], 'camera.fovy_deg', 5.0, 170.0))
    fovx = (None if 'fovx_deg' not in cam
            else _num(cam['fovx_deg'], 'camera.fovx_deg', 5.0, 170.0))
    fx = fy = cx = cy = None
    if given:
        if len(given) != len(INTRINSIC_KEYS):
            raise ConfigError('scene: camera intrinsics need all of fx, fy, cx, cy (pixels); '
                              'missing %s' % ', '.join(k for k in INTRINSIC_KEYS
                                                       if k not in given))
        fx = _num(cam['fx'], 'camera.fx', positive=True)
        fy = _num(cam['fy'], 'camera.fy', positive=True)
        cx = _num(cam['cx'], 'camera.cx', 0.0, width - 1.0)
        cy = _num(cam['cy'], 'camera.cy', 0.0, height - 1.0)
        if not 1.0 / MAX_PIXEL_ASPECT <= fx / fy <= MAX_PIXEL_ASPECT:
            raise ConfigError('scene: camera fx %g and fy %g differ by %.0f %%; pixels are '
                              'square to a few %% on real cameras (fx and fy swapped with other '
                              'values?)' % (fx, fy, 100.0 * abs(fx / fy - 1.0)))
        fov_y, fov_x = fov_from_focal(height, fy), fov_from_focal(width, fx)
        for key, axis, value, own, other in (('fovy_deg', 'vertical', fovy, fov_y, fov_x),
                                             ('fovx_deg', 'horizontal', fovx, fov_x, fov_y)):
            if value is not None and abs(value - own) > FOV_TOLERANCE_DEG:
                raise ConfigError('scene: camera.%s %g disagrees with the intrinsics (fx %g, fy '
                                  '%g give a %s field of view of %.2f deg)%s; give one or the '
                                  'other' % (key, value, fx, fy, axis, own,
                                             fov_mixup_hint(key, value, other)))
        fovy = fov_y
    elif fovy is not None and fovx is not None:
        # square pixels: tan(fovx / 2) / tan(fovy / 2) = width / height
        want_x = fov_from_focal(width, focal_from_fov(height, fovy))
        if abs(fovx - want_x) > FOV_TOLERANCE_DEG:
            raise ConfigError('scene: camera.fovx_deg %g and fovy_deg %g disagree for a %dx%d '
                              'image with square pixels (fovy_deg %g gives fovx %.2f deg); give '
                              'one of them' % (fovx, fovy, width, height, fovy, want_x))
    elif fovx is not None:
        fovy = fov_from_focal(height, focal_from_fov(width, fovx))
    elif fovy is None:
        raise ConfigError('scene: camera needs its intrinsics: fovy_deg (vertical field of '
                          'view), fovx_deg (horizontal) or fx, fy, cx, cy (pixels)')
    model = str(cam.get('distortion_model', 'plumb_bob'))
    if model not in DISTORTION_SIZES:
        raise ConfigError('scene: camera.distortion_model must be %s, got %r'
                          % (' or '.join(DISTORTION_SIZES), model))
    raw = cam.get('distortion', [])
    distortion: Vec = ()
    if raw:
        distortion = _vec(raw, DISTORTION_SIZES[model], 'camera.distortion (%s)' % model,
                          -100.0, 100.0)
        if fx is None:
            raise ConfigError('scene: camera.distortion needs the intrinsics it was calibrated '
                              'with (fx, fy, cx, cy), not a field of view')
    if not any(distortion):
        distortion = ()
    balance: Vec = ()
    if cam.get('white_balance'):
        balance = _vec(cam['white_balance'], 3, 'camera.white_balance', 0.05, 20.0)
    return CameraSpec(
        name=str(cam.get('name', 'scene_camera')), width=width, height=height, fovy_deg=fovy,
        position=_vec(_need(cam, 'position', 'camera'), 3, 'camera.position'),
        look_at=_vec(_need(cam, 'look_at', 'camera'), 3, 'camera.look_at'),
        frame_id=str(cam.get('frame_id', 'scene_camera_optical_frame')),
        fx=fx, fy=fy, cx=cx, cy=cy, distortion=distortion, distortion_model=model,
        white_balance=balance)


BOARD_TYPES = ('charuco', 'aruco_grid')


@dataclass(frozen=True)
class BoardSpec:
    """
    A printed calibration board lying flat on the table (``calibration_board:``).

    ``type`` is ``charuco`` (a chessboard with ArUco markers in its white squares) or
    ``aruco_grid`` (markers only); ``squares`` is (columns, rows); ``square`` and ``marker`` are
    the printed sizes in metres (for a grid, ``square`` is the marker pitch); ``dictionary`` an
    OpenCV ArUco dictionary name. The printed image's left-to-right axis points along
    ``yaw_deg`` from world +x, its top edge away from its bottom along ``yaw_deg + 90``;
    ``centre`` is the world (x, y) of the board's centre and ``z`` the height of its face.
    ``margin`` is the white border (m) printed around the pattern.
    """

    type: str = 'charuco'
    dictionary: str = 'DICT_4X4_50'
    squares: Tuple[int, int] = (13, 4)
    square: float = 0.033
    marker: float = 0.025
    centre: Vec = (0.625, 0.0)
    yaw_deg: float = 90.0
    z: float = 0.0005
    margin: float = 0.01

    @property
    def size(self) -> Tuple[float, float]:
        """Return the printed (width, height) in metres, margin included."""
        return (self.squares[0] * self.square + 2 * self.margin,
                self.squares[1] * self.square + 2 * self.margin)


def board_from_dict(raw: Mapping[str, Any]) -> BoardSpec:
    """Validate the ``calibration_board`` section of a rig file into a :class:`BoardSpec`."""
    known = ('type', 'dictionary', 'squares', 'square', 'marker', 'centre', 'yaw_deg', 'z',
             'margin')
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise ConfigError('scene: calibration_board.%s is not a board key (known: %s)'
                          % (unknown[0], ', '.join(known)))
    kind = str(raw.get('type', 'charuco'))
    if kind not in BOARD_TYPES:
        raise ConfigError('scene: calibration_board.type must be %s, got %r'
                          % (' or '.join(BOARD_TYPES), kind))
    squares = raw.get('squares', [13, 4])
    if (not isinstance(squares, (list, tuple)) or len(squares) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 64
                       for v in squares)):
        raise ConfigError('scene: calibration_board.squares must be [columns, rows], integers '
                          'in 2..64, got %r' % (squares,))
    square = _num(raw.get('square', 0.033), 'calibration_board.square', 0.002, 1.0)
    marker = _num(raw.get('marker', 0.025), 'calibration_board.marker', 0.001, 1.0)
    if marker >= square:
        raise ConfigError('scene: calibration_board.marker %g must be smaller than square %g'
                          % (marker, square))
    return BoardSpec(type=kind, dictionary=str(raw.get('dictionary', 'DICT_4X4_50')),
                     squares=(int(squares[0]), int(squares[1])), square=square, marker=marker,
                     centre=_vec(raw.get('centre', [0.625, 0.0]), 2, 'calibration_board.centre'),
                     yaw_deg=_num(raw.get('yaw_deg', 90.0), 'calibration_board.yaw_deg',
                                  -360.0, 360.0),
                     z=_num(raw.get('z', 0.0005), 'calibration_board.z', -0.01, 0.5),
                     margin=_num(raw.get('margin', 0.01), 'calibration_board.margin', 0.0, 0.2))


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
    # Colour (R, G, B) of every light; (1, 1, 1) is white (``lighting.colour``).
    light_colour: Vec = (1.0, 1.0, 1.0)
    # The printed calibration board and where it lies (``nsvla calibrate``); None: not given.
    board: Optional[BoardSpec] = None
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
    board = data.get('calibration_board')
    if board is not None and not isinstance(board, Mapping):
        raise ConfigError('scene: section calibration_board must be a mapping')

    positions = _need(pegs, 'positions', 'pegs')
    if not isinstance(positions, list) or not 3 <= len(positions) <= MAX_PEGS:
        raise ConfigError('scene: pegs.positions must list 3..%d pegs, got %r'
                          % (MAX_PEGS, positions))
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
        camera=camera_from_dict(cam),
        light_direction=_vec(light.get('direction', [0, 0, -1]), 3, 'lighting.direction'),
        light_diffuse=_num(light.get('diffuse', 0.7), 'lighting.diffuse', 0.0, 1.0),
        light_ambient=_num(light.get('ambient', 0.3), 'lighting.ambient', 0.0, 1.0),
        light_colour=_vec(light.get('colour', [1.0, 1.0, 1.0]), 3, 'lighting.colour', 0.0, 1.0),
        board=board_from_dict(board) if board is not None else None,
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

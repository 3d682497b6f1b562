# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Rig calibration from images: camera pose from a printed board, white balance and block colours.

What ``nsvla calibrate`` does, as plain functions (OpenCV and numpy; no rclpy, no MuJoCo):

1. **Camera pose.** The rig file's ``calibration_board`` (``nsvla_common.rig.BoardSpec``) says
   which board is printed (ChArUco or an ArUco grid, ``cv2.aruco``) and where it lies on the
   table. :func:`board_correspondences` finds its corners in each image; :func:`solve_pose`
   solves one perspective-n-point problem over all images (the camera does not move between
   them) with the rig's intrinsics and lens, then refines it (Levenberg-Marquardt). The pose is
   written back as a look-at pose (``position``, ``look_at`` on the optical axis at the old
   look-at height); the rig format has no roll, so the roll the board shows is reported
   (``roll_deg``) and left out.
2. **White balance.** In the image of the start tower (all blocks on p1, b1 on top; it may be
   the board image) the table's pixels, away from the board, the pegs, the tower and the robot,
   are compared with the table colour of the rig file: the per-channel gains that give the table
   its colour back, scaled to keep its brightness, become ``camera.white_balance``. Classic
   perception multiplies each image by them before it reads colours
   (:func:`apply_white_balance`).
3. **Block colours.** With the new pose and the gains, each block's visible pixels (its outline
   minus the blocks above and the hole) give its colour's hue and saturation; the rig's
   brightness of that colour is kept (``blocks.colours``).

:func:`calibrate` runs the three steps; :func:`calibrated_rig` returns the rig file's mapping
with the new values, :func:`rig_changes` says what changed, in words.
"""

import copy
import hashlib
import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.camera import camera_from_spec, look_at_rotation, PinholeCamera
from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.rig import BoardSpec

TEXTURE_PX_PER_M = 4000.0   # resolution of the board image drawn in the simulation
MIN_CORNERS = 6             # board corners (or marker corners) needed for a pose
MIN_SPREAD = 0.3            # RMS spread across the corners' main line, in squares: below, a line
WB_MIN_PIXELS = 200         # table pixels needed for the white balance
COLOUR_MIN_PIXELS = 30      # pixels of a block needed to read its colour
COLOUR_ERODE_PX = 2         # px kept off a block's outline when reading its colour
TABLE_STEP = 0.01           # m between table samples for the white balance
ROBOT_KEEP_OUT = 0.3        # m around the robot base (in x, y) left out of the table samples


class CalibrationError(ValidationError):
    """Images a calibration cannot use: no board found, too few corners, the table not seen."""

    status = 'calibration_failed'


# ---------------------------------------------------------------------------------- the board
def _dictionary(board: BoardSpec):
    import cv2
    code = getattr(cv2.aruco, board.dictionary, None)
    if not isinstance(code, int):
        raise ConfigError('calibration_board.dictionary %r is not an OpenCV ArUco dictionary '
                          '(e.g. DICT_4X4_50)' % board.dictionary)
    return cv2.aruco.getPredefinedDictionary(code)


def cv_board(board: BoardSpec):
    """Return the OpenCV board (``cv2.aruco.CharucoBoard`` or ``GridBoard``) of a rig board."""
    import cv2
    dictionary = _dictionary(board)
    cols, rows = board.squares
    if board.type == 'charuco':
        needed = (cols * rows) // 2
    else:
        needed = cols * rows
    if needed > len(dictionary.bytesList):
        raise ConfigError('calibration_board: %d markers needed, dictionary %s has %d'
                          % (needed, board.dictionary, len(dictionary.bytesList)))
    if board.type == 'charuco':
        return cv2.aruco.CharucoBoard((cols, rows), board.square, board.marker, dictionary)
    return cv2.aruco.GridBoard((cols, rows), board.marker, board.square - board.marker,
                               dictionary)


def pattern_size(board: BoardSpec) -> Tuple[float, float]:
    """Return the (width, height) in metres of the printed pattern, margin excluded."""
    cols, rows = board.squares
    if board.type == 'charuco':
        return cols * board.square, rows * board.square
    gap = board.square - board.marker
    return cols * board.square - gap, rows * board.square - gap


def board_image(board: BoardSpec, px_per_m: float = TEXTURE_PX_PER_M) -> np.ndarray:
    """Return the printable grey image (uint8) of the board, white margin included."""
    import cv2
    w, h = pattern_size(board)
    size = (int(round(w * px_per_m)), int(round(h * px_per_m)))
    pattern = cv_board(board).generateImage(size, marginSize=0, borderBits=1)
    m = int(round(board.margin * px_per_m))
    return cv2.copyMakeBorder(pattern, m, m, m, m, cv2.BORDER_CONSTANT, value=255)


def board_texture_file(board: BoardSpec) -> str:
    """Return the path of a PNG of the board (written once into the temp directory)."""
    import cv2
    key = hashlib.sha1(repr((board, TEXTURE_PX_PER_M)).encode()).hexdigest()[:16]
    folder = os.path.join(tempfile.gettempdir(), 'nsvla_boards')
    path = os.path.join(folder, 'board_%s.png' % key)
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        img = board_image(board)
        # MuJoCo lays a plane's texture with the image's top row along the plane's +y edge and
        # its columns along +x (checked by test_calibration: the board is found unmirrored).
        tmp = '%s.%d.png' % (path, os.getpid())
        cv2.imwrite(tmp, img)
        os.replace(tmp, path)
    return path


def board_to_world(board: BoardSpec) -> Tuple[np.ndarray, np.ndarray]:
    """
    Return ``(R, t)``: world = R @ p + t for a point ``p`` of OpenCV's board frame.

    OpenCV's board frame has its origin at the pattern's top-left corner, x along the printed
    rows, y down the printed image and z into the table.
    """
    yaw = math.radians(board.yaw_deg)
    right = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    up = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
    rot = np.column_stack([right, -up, [0.0, 0.0, -1.0]])
    w, h = pattern_size(board)
    origin = (np.array([board.centre[0], board.centre[1], board.z])
              - 0.5 * w * right + 0.5 * h * up)
    return rot, origin


def board_correspondences(rgb: np.ndarray, board: BoardSpec) -> Tuple[np.ndarray, np.ndarray]:
    """
    Return the board's world points (N, 3) found in an RGB image and their pixels (N, 2).

    A ChArUco board gives its chessboard corners (sub-pixel, interpolated from the markers); a
    grid gives its markers' corners. Raise CalibrationError when too few are found.
    """
    import cv2
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    cvb = cv_board(board)
    if board.type == 'charuco':
        corners, ids, _mc, _mi = cv2.aruco.CharucoDetector(cvb).detectBoard(grey)
    else:
        corners, ids, _rej = cv2.aruco.ArucoDetector(cvb.getDictionary()).detectMarkers(grey)
    if ids is None or len(ids) == 0:
        raise CalibrationError('no %s board (%s) found in the image' % (board.type,
                                                                        board.dictionary))
    obj, img = cvb.matchImagePoints(corners, ids)
    if obj is None or len(obj) < MIN_CORNERS:
        raise CalibrationError('only %d board corners found (need %d): is the whole board in '
                               'view and lit?' % (0 if obj is None else len(obj), MIN_CORNERS))
    flat = obj.reshape(-1, 3)[:, :2].astype(float)
    spread = np.linalg.svd(flat - flat.mean(axis=0), compute_uv=False)
    if spread[-1] < MIN_SPREAD * board.square * math.sqrt(len(flat)):
        raise CalibrationError('the %d board corners found lie along one line (the board is '
                               'only partly in view): no pose from them; lay the board where '
                               'the camera sees at least two rows' % len(flat))
    rot, origin = board_to_world(board)
    world = obj.reshape(-1, 3).astype(float) @ rot.T + origin
    return world, img.reshape(-1, 2).astype(float)


# ---------------------------------------------------------------------------------- the pose
@dataclass
class PoseResult:
    """A camera pose solved from board corners."""

    position: np.ndarray          # optical centre in the world
    rotation: np.ndarray          # 3x3, columns: optical x (right), y (down), z (forward)
    reprojection_px: float        # RMS distance of the corners from where the pose puts them
    corners: int
    images: int

    @property
    def roll_deg(self) -> float:
        """Return the camera's roll about its optical axis (a look-at pose has none)."""
        right = self.rotation[:, 0]
        return math.degrees(math.asin(max(-1.0, min(1.0, float(right[2])))))


def _cv_intrinsics(camera: PinholeCamera) -> Tuple[np.ndarray, np.ndarray]:
    k = np.array(camera.k, float).reshape(3, 3)
    d = np.zeros(8)
    d[:len(camera.distortion)] = camera.distortion
    return k, d


def solve_pose(images: Sequence[np.ndarray], camera: PinholeCamera,
               board: BoardSpec) -> PoseResult:
    """Solve the camera pose from board images taken by a camera that did not move."""
    import cv2
    worlds, pixels = [], []
    for rgb in images:
        if rgb.shape[1] != camera.width or rgb.shape[0] != camera.height:
            raise CalibrationError('image is %dx%d, the rig camera %dx%d'
                                   % (rgb.shape[1], rgb.shape[0], camera.width, camera.height))
        w, p = board_correspondences(rgb, board)
        worlds.append(w)
        pixels.append(p)
    world, pix = np.concatenate(worlds), np.concatenate(pixels)
    k, d = _cv_intrinsics(camera)
    # The nominal pose as the first guess (a bumped camera is still near it).
    rot0 = camera.rotation.T
    rvec0, _ = cv2.Rodrigues(rot0)
    tvec0 = -rot0 @ np.asarray(camera.position, float)
    ok, rvec, tvec = cv2.solvePnP(world, pix, k, d, rvec0.copy(), tvec0.reshape(3, 1).copy(),
                                  useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise CalibrationError('no camera pose fits the %d board corners' % len(world))
    rvec, tvec = cv2.solvePnPRefineLM(world, pix, k, d, rvec, tvec)
    rot, _ = cv2.Rodrigues(rvec)
    proj, _ = cv2.projectPoints(world, rvec, tvec, k, d)
    rms = float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - pix) ** 2, axis=1))))
    position = -rot.T @ tvec.reshape(3)
    return PoseResult(position, rot.T, rms, len(world), len(images))


def look_at_of(position: Sequence[float], rotation: np.ndarray, plane_z: float,
               fallback_distance: float = 0.5) -> np.ndarray:
    """Return a look-at point on the optical axis: where it meets ``z = plane_z``, if ahead."""
    pos = np.asarray(position, float)
    fwd = rotation[:, 2]
    if fwd[2] < -1e-6:
        t = (plane_z - pos[2]) / fwd[2]
        if t > 0:
            return pos + t * fwd
    return pos + fallback_distance * fwd


def rotation_error_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Return the angle (degrees) of the rotation between two 3x3 rotations."""
    c = (np.trace(a.T @ b) - 1.0) / 2.0
    return math.degrees(math.acos(max(-1.0, min(1.0, float(c)))))


# ---------------------------------------------------------------------------------- colours
def apply_white_balance(rgb: np.ndarray, gains: Sequence[float]) -> np.ndarray:
    """Return ``rgb`` (uint8) with each channel multiplied by its gain (clipped to 255)."""
    if not len(gains):
        return rgb
    import cv2
    g = np.asarray(gains, np.float32)
    lut = np.clip(np.arange(256, dtype=np.float32)[:, None] * g[None, :] + 0.5, 0, 255)
    lut = lut.astype(np.uint8)
    out = np.empty_like(rgb)
    for c in range(3):
        out[:, :, c] = cv2.LUT(rgb[:, :, c], lut[:, c])
    return out


def _fill(mask: np.ndarray, uv: np.ndarray, value: int = 1) -> None:
    import cv2
    hull = cv2.convexHull(np.asarray(uv, np.float32)).reshape(-1, 2)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), value)


def _cylinder(centre: Sequence[float], radius: float, z0: float, z1: float,
              n: int = 16) -> np.ndarray:
    ang = 2 * math.pi * np.arange(n) / n
    ring = np.column_stack([centre[0] + radius * np.cos(ang), centre[1] + radius * np.sin(ang)])
    return np.concatenate([np.column_stack([ring, np.full(n, z)]) for z in (z0, z1)])


def table_mask(spec, camera: PinholeCamera, num_blocks: int) -> np.ndarray:
    """Return a bool image of the table's pixels clear of the board, pegs, tower and robot."""
    h, w = camera.height, camera.width
    sx, sy, _ = spec.table_size
    cx, cy = spec.table_centre
    xs = np.arange(cx - sx / 2 + 0.02, cx + sx / 2 - 0.02, TABLE_STEP)
    ys = np.arange(cy - sy / 2 + 0.02, cy + sy / 2 - 0.02, TABLE_STEP)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)])
    base = spec.robot_base
    pts = pts[np.hypot(pts[:, 0] - base[0], pts[:, 1] - base[1]) > ROBOT_KEEP_OUT]
    cam = camera.to_camera(pts)
    uv = camera.project(pts)
    inside = ((cam[:, 2] > 0.05) & (uv[:, 0] >= 2) & (uv[:, 0] < w - 2) & (uv[:, 1] >= 2)
              & (uv[:, 1] < h - 2))
    mask = np.zeros((h, w), np.uint8)
    import cv2
    for u, v in np.round(uv[inside]).astype(int):
        cv2.circle(mask, (int(u), int(v)), 3, 1, -1)
    keep_out = np.zeros((h, w), np.uint8)
    if spec.board is not None:
        rot, origin = board_to_world(spec.board)
        bw, bh = pattern_size(spec.board)
        m = spec.board.margin + 0.01
        corners = np.array([[-m, -m, 0], [bw + m, -m, 0], [bw + m, bh + m, 0],
                            [-m, bh + m, 0]]) @ rot.T + origin
        _fill(keep_out, camera.project(corners))
    radius = spec.apothem_max / math.cos(math.pi / spec.segments) + 0.01
    top = max(spec.peg_height, num_blocks * spec.block_height) + 0.01
    for k in range(1, spec.num_pegs + 1):
        _fill(keep_out, camera.project(_cylinder(spec.peg_xy(k), radius, 0.0, top)))
    return (mask > 0) & (keep_out == 0)


def white_balance_gains(rgb: np.ndarray, spec, camera: PinholeCamera,
                        num_blocks: int) -> Tuple[Tuple[float, float, float], np.ndarray]:
    """
    Return the gains (R, G, B) that give the table its rig colour back, and its median colour.

    The gains keep the table's mean brightness; pixels far from the median colour (a shadow, an
    object left on the table) are left out before the final median.
    """
    mask = table_mask(spec, camera, num_blocks)
    px = rgb[mask].astype(float)
    if len(px) < WB_MIN_PIXELS:
        raise CalibrationError('only %d table pixels in view for the white balance (need %d)'
                               % (len(px), WB_MIN_PIXELS))
    med = np.median(px, axis=0)
    near = np.all(np.abs(px - med) <= np.maximum(0.12 * med, 6.0), axis=1)
    if near.sum() >= WB_MIN_PIXELS:
        med = np.median(px[near], axis=0)
    if np.any(med < 4.0):
        raise CalibrationError('the table reads %s: too dark for a white balance' % med.round())
    ref = np.asarray(spec.table_colour, float)
    gains = ref / med
    gains *= med.mean() / (gains * med).mean()
    return tuple(round(float(g), 4) for g in gains), med


def block_colours(rgb: np.ndarray, spec, camera: PinholeCamera,
                  num_blocks: int) -> List[Tuple[float, float, float]]:
    """
    Return each block's colour read from a (white-balanced) image of the start tower on p1.

    The hue and saturation are the median pixel's; the value is the rig colour's.
    """
    import colorsys

    import cv2

    from nsvla_perception.geometry import ring_outline
    h, w = camera.height, camera.width
    x, y = spec.peg_xy(1)
    apothems = spec.block_apothems(num_blocks)
    outlines = []
    for i in range(num_blocks):          # the tower: bN at the bottom, b1 on top
        level = num_blocks - 1 - i
        outlines.append(ring_outline(camera, (x, y, spec.block_centre_z(level)), apothems[i],
                                     spec.block_height, spec.segments))
    out = []
    kernel = np.ones((2 * COLOUR_ERODE_PX + 1,) * 2, np.uint8)
    for i in range(num_blocks):
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.round(outlines[i]).astype(np.int32), 1)
        for j in range(i):               # smaller blocks above it
            cv2.fillConvexPoly(mask, np.round(outlines[j]).astype(np.int32), 0)
        if i == 0:
            level = num_blocks - 1
            hole = _cylinder((x, y), spec.hole_apothem / math.cos(math.pi / spec.segments),
                             spec.block_bottom_z(level), spec.block_bottom_z(level + 1))
            _fill(mask, camera.project(hole), 0)
        mask = cv2.erode(mask, kernel)
        px = rgb[mask > 0]
        if len(px) < COLOUR_MIN_PIXELS:
            raise CalibrationError('b%d shows only %d pixels in the tower image (need %d): is '
                                   'the start tower on p1?' % (i + 1, len(px), COLOUR_MIN_PIXELS))
        hsv = cv2.cvtColor(px.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(float)
        # Circular median of the hue (OpenCV 0..180): unwrap about the circular mean.
        ang = hsv[:, 0] * (2 * math.pi / 180.0)
        mean = math.atan2(np.sin(ang).mean(), np.cos(ang).mean())
        rel = (ang - mean + math.pi) % (2 * math.pi) - math.pi
        hue = ((mean + float(np.median(rel))) / (2 * math.pi)) % 1.0
        sat = float(np.median(hsv[:, 1])) / 255.0
        value = max(spec.block_colour(i + 1))
        out.append(tuple(round(float(c), 3) for c in colorsys.hsv_to_rgb(hue, sat, value)))
    return out


# ---------------------------------------------------------------------------------- all of it
@dataclass
class CalibrationResult:
    """What :func:`calibrate` found."""

    pose: PoseResult
    look_at: np.ndarray
    white_balance: Tuple[float, ...] = ()
    table_rgb: Tuple[float, ...] = ()
    colours: List[Tuple[float, float, float]] = field(default_factory=list)

    def summary(self) -> Dict[str, Any]:
        """Return the result as plain numbers (for ``--json``)."""
        return {'position': [round(float(c), 5) for c in self.pose.position],
                'look_at': [round(float(c), 5) for c in self.look_at],
                'roll_deg': round(self.pose.roll_deg, 3),
                'reprojection_px': round(self.pose.reprojection_px, 3),
                'corners': self.pose.corners, 'images': self.pose.images,
                'white_balance': list(self.white_balance),
                'table_rgb': [round(float(c), 1) for c in self.table_rgb],
                'colours': [list(c) for c in self.colours]}


def calibrate(spec, board_images: Sequence[np.ndarray], tower_image: Optional[np.ndarray] = None,
              num_blocks: int = 0, camera: Optional[PinholeCamera] = None) -> CalibrationResult:
    """
    Calibrate a rig (module docstring): the pose, then white balance and colours if asked.

    ``camera`` gives the intrinsics (e.g. from a live camera_info); by default the rig's.
    ``tower_image`` (the start tower of ``num_blocks`` on p1) gives the white balance and the
    block colours; without it, only the pose is calibrated.
    """
    if spec.board is None:
        raise ConfigError('the rig file has no calibration_board section: say which board is '
                          'printed and where it lies (see config/scene_default.yaml)')
    if not board_images:
        raise ConfigError('calibration needs at least one image of the board')
    camera = camera or camera_from_spec(spec)
    pose = solve_pose(board_images, camera, spec.board)
    look_at = look_at_of(pose.position, pose.rotation, spec.camera.look_at[2])
    result = CalibrationResult(pose, look_at)
    if tower_image is not None:
        spec.check_blocks(num_blocks)
        moved = camera.moved(pose.position, look_at)
        gains, table = white_balance_gains(tower_image, spec, moved, num_blocks)
        result.white_balance, result.table_rgb = gains, tuple(table)
        result.colours = block_colours(apply_white_balance(tower_image, gains), spec, moved,
                                       num_blocks)
    return result


def calibrated_rig(data: Mapping[str, Any], result: CalibrationResult) -> Dict[str, Any]:
    """Return a copy of a rig file's mapping with the calibrated pose, gains and colours."""
    out = copy.deepcopy(dict(data))
    cam = dict(out.get('camera') or {})
    cam['position'] = [round(float(c), 5) for c in result.pose.position]
    cam['look_at'] = [round(float(c), 5) for c in result.look_at]
    if result.white_balance:
        cam['white_balance'] = [float(g) for g in result.white_balance]
    out['camera'] = cam
    if result.colours:
        blocks = dict(out.get('blocks') or {})
        colours = [list(c) for c in blocks.get('colours') or []]
        for i, c in enumerate(result.colours):
            if i < len(colours):
                colours[i] = [float(v) for v in c]
            else:
                colours.append([float(v) for v in c])
        blocks['colours'] = colours
        out['blocks'] = blocks
    return out


def rig_changes(old, new) -> List[str]:
    """Say, one line each, how two rig specs differ in camera pose, white balance and colours."""
    lines = []
    a, b = old.camera, new.camera
    d = np.asarray(b.position) - np.asarray(a.position)
    if np.linalg.norm(d) > 1e-6:
        lines.append('camera.position %s -> %s (moved %.1f mm)'
                     % (_v(a.position), _v(b.position), 1000 * np.linalg.norm(d)))
    ra = look_at_rotation(a.position, a.look_at)
    rb = look_at_rotation(b.position, b.look_at)
    turn = rotation_error_deg(ra, rb)
    if turn > 1e-4 or np.linalg.norm(np.asarray(a.look_at) - np.asarray(b.look_at)) > 1e-6:
        lines.append('camera.look_at %s -> %s (turned %.2f deg)'
                     % (_v(a.look_at), _v(b.look_at), turn))
    if tuple(a.white_balance) != tuple(b.white_balance):
        lines.append('camera.white_balance %s -> %s' % (list(a.white_balance) or 'none',
                                                        list(b.white_balance)))
    for i in range(1, max(len(old.block_colours), len(new.block_colours)) + 1):
        ca, cb = old.block_colour(i), new.block_colour(i)
        if np.max(np.abs(np.asarray(ca) - np.asarray(cb))) > 1e-3:
            name = new.block_colour_name(i) or 'b%d' % i
            lines.append('blocks.colours[%d] (%s) %s -> %s'
                         % (i - 1, name, _v(ca, 3), _v(cb, 3)))
    return lines


def _v(values: Sequence[float], digits: int = 4) -> str:
    return '[%s]' % ', '.join('%.*f' % (digits, float(c)) for c in values)

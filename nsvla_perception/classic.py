# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Classical backend: OpenCV HSV colour segmentation plus pinhole geometry of the scene.

Per frame:

1. convert the region of interest (every stack column, from the camera model) to HSV and label
   each pixel with the nearest known colour in (hue, saturation) through a lookup table: the
   colours of b1..bN from the scene file, the colour b(N+1) would have (to notice a block count
   set too low), and the peg and table colours as distractors; grey or dark pixels (table, arm,
   floor, shadow) are background;
2. per block colour: open the mask, keep the largest connected blob (plus nearby fragments of it);
3. geometry: project each peg's stack column (block centres at levels 0..N-1) into the image
   with the *nominal* camera pose (all a real rig knows); remove the image shift common to all
   blobs (the camera's pose error), then the blob's centre gives the peg (distance across each
   column, in metres at the peg) and a fractional level along the column, which orders each
   stack; the blob's area against the block's projected silhouette gives its visibility;
4. confidence per block = visibility x closeness to the column x peg unambiguity; a block seen
   well above where its stack puts it (lifted by the gripper) is not on a peg;
5. the camera pose: the nominal pose is corrected (``geometry.fit_camera``) from the table's
   edges (:func:`table_edge_pixels`) and the peg tips and bases (:func:`peg_pixels`); a fit is
   kept while the next frames still show those features where it puts them;
6. every placement is checked against the corrected camera: a block on a peg is seen within a
   level of its place in the seen order and near the column, a top block shows neither the
   block below it where it should be nor hides a peg tip that should stand above it; a block
   that fails, or is off the pegs, may be lying on the table:
7. loose blocks: its blob in the whole image (with the touching pixels of a close colour: a lit
   orange face reads yellow; holes filled) is taken for a ring lying flat on the table: the
   ray through the blob's centroid meets the plane of a flat ring's centre
   (``z = block_height / 2``), corrected for where the outline's centroid falls (perspective).
   The blob must cover that ring's outline (intersection over union ``LOOSE_MIN_OVERLAP``, area
   ratio ``LOOSE_AREA``: a ring partly hidden, held above the table or tilted does not), not
   touch the image border, and the ring must lie clear of every peg and stack (its apothem
   and theirs apart, ``LOOSE_CLEARANCE`` for the fit's error). Then the block
   is ``loose(b, table)`` there (yaw unknown, upright), with a confidence from the overlap and
   the position's uncertainty (``CameraFit.plane_sigma``). A blob that nearly fits
   (``LOOSE_TILTED_*``: overlap >= 0.80, area 0.85..1.10, at least 80 % in its own colour) is
   a ring tilted against a neighbour or nudged: loose there, not upright, with confidence
   ``LOOSE_TILTED_CONFIDENCE`` (seen on the launched graph: a slipped ring leaning on the
   stack beside it, overlap 0.84-0.92, was refused until the episode gave up). With the hand
   empty (``hand_empty``: the gripper last opened wider than every block; a ring held above
   the table looks the same), a ring leaning with one edge on the table is tried too
   (``LEAN_*``: tilts 15-85 degrees, eight low sides): loose there, not upright. Otherwise it
   stays off the pegs with the reason, and a block that failed the check of step 6 is taken
   off its peg;
8. with the hand empty, a ring seen in a peg's column above its place (or hiding the tip)
   rests across the tip, tilted: ``loose(b, top of the stack below it, or the peg)`` at the
   point of its ray nearest the peg's axis (``PERCHED_*``);
9. with the hand empty, a ring seen at its place's height on a stack but off the peg's column
   (above the peg's tip, so it can lie there) lies on the stack's top block beside the tip:
   ``loose(b, that block)`` where its ray meets the plane of its place's centre, when a flat
   or nearly flat ring's outline there fits the blob (``LOOSE_*`` / ``LOOSE_TILTED_*``) and
   its centre is over that block (``SHIFTED_*``; seen in 5-block episodes with slips: a small
   ring dropped on a stack 1-2 cm off the peg was refused until the episode ended); a top ring
   above the tip whose centre, fitted lying or tilted on the block below, is farther than
   the hole's apothem from the axis is loose on that block too, even on the column's band
   (``BESIDE_*``: the peg is not through its hole).

A rig calibrated by ``nsvla calibrate`` gives white-balance gains (``camera.white_balance``):
each image is multiplied by them first (``nsvla_perception.calibration``), so a tinted light
reads as the white one the colours were given for; without them the image is read as it is.

The rig only enters through the scene file (camera, pegs, sizes, colours) and
``config/perception.yaml`` (thresholds), so another rig needs a new YAML, no code.
"""

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from nsvla_perception.backend import Perceiver
from nsvla_perception.calibration import apply_white_balance
from nsvla_perception.geometry import camera_from_spec, CameraFit, feature_residuals
from nsvla_perception.geometry import fit_camera, PinholeCamera
from nsvla_perception.geometry import region_of_interest, ring_axis, ring_outline
from nsvla_perception.geometry import ring_solid_points
from nsvla_perception.geometry import stack_pixels, table_edges
from nsvla_perception.settings import ClassicSettings
from nsvla_perception.symbols import BlockReading, flag_lifted
from nsvla_planner.state import LoosePose, TABLE

# A block lying flat on the table off the pegs (step 5 of the module docstring).
LOOSE_MIN_OVERLAP = 0.925   # blob / flat-ring outline intersection over union: below, not one
LOOSE_FULL_OVERLAP = 0.95   # from this overlap on the shape does not lower the confidence
LOOSE_AREA = (0.88, 1.06)   # blob area over the outline's: outside, not a whole flat ring
# A ring that is not a whole flat one but nearly (tilted against a neighbour, nudged), all in
# its own colour, clear of the pegs: loose there, with a low confidence and not upright.
LOOSE_TILTED_OVERLAP = 0.80
LOOSE_TILTED_AREA = (0.85, 1.10)
LOOSE_TILTED_SHARE = 0.8      # least share of the blob in the block's own colour (no merge)
LOOSE_TILTED_CONFIDENCE = 0.55
LOOSE_NEAR_FLAT_OVERLAP = 0.9  # a nearly flat ring's fit: one ring even with little own colour
LOOSE_NEAR_FLAT_AREA = 1.0     # ... when the blob is no larger than its outline
LEAN_TILTS_DEG = (15.0, 25.0, 35.0, 45.0, 55.0, 65.0, 75.0, 85.0, 90.0)   # leaning .. on its edge
LEAN_DIRECTIONS = 16          # directions its low side is tried towards
LEAN_REFINE = 2               # rounds of halving the grid around the best (tilt, side)
LEAN_OVERLAP = 0.83           # least intersection over union of a leaning ring's outline
LEAN_AREA = (0.88, 1.12)      # blob area over the leaning outline's
# m a leaning ring's fitted solid may reach into what it leans on (its tilt is fitted too: b4
# leaning 66 degrees on p3's tip, fitted 4 mm from the truth, reached 4.5 mm into the peg)
LEAN_CLEARANCE = 0.006
# ... and a ring tilted on a stack into the peg it leans on, the peg near its hole (5 blocks with
# slips, seed 20014: b1 on its edge on b2 against p2's tip; its true pose reaches 3.6-6.1 mm
# into the peg in this model, its fit, 2 mm from the truth but 18 degrees steeper, 6.5 mm)
STACK_LEAN_CLEARANCE = 0.009
LEAN_CLEAR_MARGIN = 0.03      # a leaning fit clear of the rest this much worse than the best
# A ring with one edge on the table stands by itself only near its edge (its side face is the
# foot: the 20 mm band on an 18-34 mm apothem stands within 29-16 degrees of upright, b1 to
# b5) or lies flat; tilted between, its high side rests on something. Under 70 degrees (the
# executor's tip_over_tilt_deg) only the small rings stand by themselves (b1 from 61, b2
# from 66 degrees), and are then read at 75-90 instead. A leaning fit under
# LEAN_UNSUPPORTED_TILT_DEG whose solid keeps farther than LEAN_SUPPORT_GAP from everything
# it could rest on gives way to the best fit on its edge (LEAN_STANDING_TILTS_DEG) when that
# one fits no more than LEAN_STANDING_MARGIN worse.
LEAN_UNSUPPORTED_TILT_DEG = 70.0
LEAN_SUPPORT_GAP = 0.01
LEAN_STANDING_TILTS_DEG = (75.0, 80.0, 85.0, 90.0)
LEAN_STANDING_MARGIN = 0.1
PERCHED_CONFIDENCE = 0.55     # a ring across a peg's tip or tilted on a stack, hand empty
PERCHED_ABOVE_TIP = 1.0       # block heights its centre may sit above the peg's tip
PERCHED_RISE = 0.55           # block heights its centre sits at least above its place there
PERCHED_TILTS_DEG = (0.0, 15.0, 25.0, 35.0, 45.0)   # tilts tried of a ring across a tip
HANGING_TILTS_DEG = PERCHED_TILTS_DEG + (55.0, 65.0)   # ... of one hanging on the peg
HANGING_MAX_TILT_DEG = 80.0   # a ring read leaning steeper near a peg stands on its edge
PERCHED_LEAN_MARGIN = 0.03    # it may fit this much worse than leaning on the table
PERCHED_AREA = (0.8, 1.3)     # blob area over an upright outline's at that centre (tilted: more)
SHIFTED_CONFIDENCE = 0.55     # a ring lying on a stack beside the peg's tip, hand empty
SHIFTED_TIP = 0.5             # block heights of peg it may have under its bottom (threaded below)
BESIDE_TILTS_DEG = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)   # a top ring above the tip, off its axis
OVER_SHARE = 0.15             # of a ring read on the table inside a nearer stacked ring's place
OVER_MARGIN_PX = 3            # ... that place shrunk by this for its error
BESIDE_UPRIGHT_DEG = 15.0     # ... fitted this tilt or more: not upright (the ground truth's)
LOOSE_EDGE_PX = 2           # a blob this close to the image border may be cut off
LOOSE_EDGE_IN_FRAME = 0.5   # least share of a ring across the border in the frame to read it
LOOSE_EDGE_STEPS = (6, 3)   # grid of the border fit: +-steps[0] steps, then rounds of 3 x 3
LOOSE_CLEARANCE = 0.004     # m a fitted footprint may reach into a peg's or stack's (fit error)
LOOSE_REGION_STEPS = 4      # region / fit rounds of a blob with pixels of a close colour
LOOSE_FIT_STEPS = 3         # centroid corrections of the table position
LOOSE_YAWS = 6              # outline orientations tried over one flat-to-flat turn
LOOSE_NEIGHBOUR = 2.0       # colour distance (LUT units) of colours a lit face may swap
LOOSE_OWN_SHARE = 0.3       # least share of a loose blob in the block's own colour
LOOSE_SIGMA_OK = 0.004      # m: a table position this sure does not lower the confidence
LOOSE_SIGMA_MAX = 0.008     # m: at this uncertainty the confidence is halved, beyond it less
# Camera pose correction from the table's edges and the peg tips (geometry.fit_camera).
EDGE_STEP = 0.02            # m between samples along a table edge
EDGE_SEARCH_PX = 24         # px searched either side of where the nominal camera puts an edge
EDGE_CONTRAST = 30.0        # grey levels the table must be brighter than what lies beyond it
EDGE_SIGMA_PX = 1.0
EDGE_LINE_PX = 1.5          # px a table-edge point may lie off the line of the others
EDGE_MIN_POINTS = 5         # fewer points found along an edge: the edge is not used
PEG_SIGMA_PX = 1.0
TIP_ACROSS_PX = 12.0        # px a peg tip may be found beside where the fitted camera puts it
FIT_KEEP_PX = 0.75          # px: the last camera fit is kept while the edges lie this close
FIT_AGREE_SHARE = 0.3       # of the last fit's edges found where it puts them (within 3 px),
FIT_INLIERS = 0.75          # and this share of the edge pixels found: still its camera
FIT_REPLACE_SHARE = 0.9     # a new fit with less support than this share of the last one's,
#                             from a frame that agrees with the last one, does not replace it
PLACE_BAND = (-1.0, 0.5)    # levels a block on a peg is seen off its place (corrected camera)
PLACE_COVERED = 0.25        # share of a top block's place showing another block: it is behind
PEG_TIP_SHOWS = 0.015       # m of peg above a top block from which its tip must be seen
PLACE_SHAPE = 0.85          # a lone block's blob fitting its place worse may be off the peg
PLACE_SHAPE_MARGIN = 0.15   # ... when a ring on the table fits it this much better
# Pixels much greyer than the table (the arm, the fingers: saturation 0 against the default
# table's 24 of 255) are something in front of a ring lying on the table: with the hand empty
# they count as the ring's inside its outline, as a peg's do (3 blocks with slips, seed 20076:
# b1 lying flat, a finger over a tenth of it just after the release, fitted flat 3 mm from
# the truth at 0.80, refused as flat, then read on its edge 20 mm off). A table this grey or
# greyer (saturation under NEUTRAL_TABLE_MIN) cannot be told from the arm: nothing is added.
NEUTRAL_SHARE = 0.4         # of the table's saturation: a pixel greyer than this is the arm's
NEUTRAL_TABLE_MIN = 15.0    # table saturation (0..255) under which the arm is not looked for
PLACE_INSIDE = 0.9          # least share of a doubtful block's blob inside its place's outline
# A fit that puts the camera further than this many prior sigmas (the randomisation's range)
# from the nominal pose on some axis does not replace a last fit within it: 3 blocks, seed
# 20034, the table's edges were found where the arm and the base run across them, and fits
# 40-76 mm off (4-5 sigmas) took turns with the 12 mm one of the peg tips, frame by frame;
# b1 was read a level high, tilted on b2 (the camera was 13 mm off the nominal pose).
FIT_PLAUSIBLE_SIGMAS = 2.5
POSE_SIGMA_FLOOR = 0.002    # m: least pose error assumed, even for a scene without randomisation


@dataclass
class Blob:
    """One block's pixels: the largest connected blob of its colour and nearby fragments."""

    area: int                        # pixels
    centre: Tuple[float, float]      # (u, v) image pixels
    box: Tuple[int, int, int, int]   # (x0, y0, x1, y1) image pixels around the kept parts
    mask: np.ndarray                 # bool (y1 - y0, x1 - x0): the kept parts

    def filled(self) -> np.ndarray:
        """Return the mask with its holes filled: a ring's hole, a peg standing in it."""
        out = np.zeros(self.mask.shape, np.uint8)
        contours, _ = cv2.findContours(self.mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, 1, thickness=-1)
        return out.astype(bool)


def _blob_of(mask: np.ndarray, box: Tuple[int, int, int, int]) -> Blob:
    """Return the blob of the pixels ``mask`` (bool, over ``box``) keeps."""
    ys, xs = np.nonzero(mask)
    return Blob(int(mask.sum()), (float(xs.mean() + box[0]), float(ys.mean() + box[1])), box,
                mask)


def _with_hidden(blob: Blob, hidden: np.ndarray, polygon: np.ndarray) -> Blob:
    """
    Return ``blob`` with the pixels of ``hidden`` (bool, whole image) inside ``polygon``.

    What stands in front of a ring (a peg) shows where the ring would: inside the outline
    fitted to the rest of it, those pixels are taken as the ring's.
    """
    h, w = hidden.shape
    x0 = int(max(0, min(blob.box[0], math.floor(polygon[:, 0].min()))))
    y0 = int(max(0, min(blob.box[1], math.floor(polygon[:, 1].min()))))
    x1 = int(min(w, max(blob.box[2], math.ceil(polygon[:, 0].max()) + 1)))
    y1 = int(min(h, max(blob.box[3], math.ceil(polygon[:, 1].max()) + 1)))
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(inside, np.round((polygon - (x0, y0)) * 16).astype(np.int32), 1,
                       shift=4)
    mask = hidden[y0:y1, x0:x1] & inside.astype(bool)
    if not mask.any():
        return blob
    bx0, by0, bx1, by1 = blob.box
    mask[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0] |= blob.mask
    return _blob_of(mask, (x0, y0, x1, y1))


def _centroid(mask: np.ndarray, box: Sequence[int]) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean() + box[0], ys.mean() + box[1]])


def _hull(mask: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """Return the convex hull (M, 2) float32 of a mask's pixels, in image pixels."""
    ys, xs = np.nonzero(mask)
    pts = np.column_stack([xs + box[0], ys + box[1]]).astype(np.float32)
    return cv2.convexHull(pts).reshape(-1, 2)


def _polygon_centroid(poly: np.ndarray) -> np.ndarray:
    m = cv2.moments(poly.astype(np.float32))
    return np.array([m['m10'] / m['m00'], m['m01'] / m['m00']])


def _doubted(name: str, suspects: Dict[str, str]) -> bool:
    """
    Return whether a block may be off its peg (a suspect for more than its shape).

    A block whose place only fits its blob less well (``'shape: ...'``) is on its peg until a
    reading off it is shown better: for the others it stands on its peg.
    """
    return name in suspects and not suspects[name].startswith('shape')


def _stack_below(r: BlockReading, k: int, out: Sequence[BlockReading],
                 suspects: Dict[str, str]) -> List[BlockReading]:
    """Return the readings on peg ``k`` but ``r`` (or its copy) nothing doubts, lowest first."""
    return sorted((q for q in out if q.name != r.name and q.visible and q.peg == k
                   and not q.loose and not _doubted(q.name, suspects)), key=lambda q: q.height)


def _top_on(r: BlockReading, k: int, out: Sequence[BlockReading],
            suspects: Dict[str, str]) -> str:
    """Return what ``r`` rests on when it lies on peg ``k``: that stack's top, or the peg."""
    below = _stack_below(r, k, out, suspects)
    return below[-1].name if below else 'p%d' % k


def _rank(r: BlockReading, out: Sequence[BlockReading]) -> int:
    """Return how many blocks seen on ``r``'s peg are lower than ``r``: its level there."""
    return sum(1 for q in out if q.visible and q.peg == r.peg and q.height < r.height)


# What a loose ring must keep clear of: ((x, y), radius, name, top z), a standing cylinder.
Obstacle = Tuple[Sequence[float], float, str, float]


def _solid_gap(points: np.ndarray, keep_off: Sequence[Obstacle]) -> Tuple[float, str]:
    """
    Return how far points of a solid keep from the obstacles (m; less than 0: into one), and which.

    A point's gap to an obstacle is the larger of its distance outside the cylinder's side and
    its height above its top; ``(inf, '')`` without obstacles.
    """
    best: Tuple[float, str] = (math.inf, '')
    for xy, radius, what, top in keep_off:
        side = np.hypot(points[:, 0] - xy[0], points[:, 1] - xy[1]) - radius
        gap = float(np.min(np.maximum(side, points[:, 2] - top)))
        if gap < best[0]:
            best = (gap, what)
    return best


def _ring_centre(camera: PinholeCamera, target: np.ndarray, z: float, apothem: float,
                 height: float, segments: int, tilt: float = 0.0,
                 towards: float = 0.0) -> Optional[np.ndarray]:
    """
    Return the centre (world) of a ring at height ``z`` whose silhouette's centroid is ``target``.

    The ray through ``target`` meets the plane ``z``; the centre is then moved by where the
    outline's centroid falls from the centre's image (perspective), ``LOOSE_FIT_STEPS`` times.
    None when the ray misses the plane.
    """
    centre = camera.on_plane([target], z)[0]
    for _ in range(LOOSE_FIT_STEPS):
        if not np.all(np.isfinite(centre)):
            return None
        outline = ring_outline(camera, centre, apothem, height, segments, 0.0, tilt, towards)
        bias = _polygon_centroid(outline) - camera.project([centre])[0]
        centre = camera.on_plane([target - bias], z)[0]
    return centre if np.all(np.isfinite(centre)) else None


def rgb_to_hs(rgb: Tuple[float, float, float]) -> Tuple[float, float]:
    """Return OpenCV (hue 0..180, saturation 0..255) of an RGB colour in [0, 1]."""
    px = np.array([[[int(round(255 * c)) for c in rgb]]], np.uint8)
    hsv = cv2.cvtColor(px, cv2.COLOR_RGB2HSV)[0, 0]
    return float(hsv[0]), float(hsv[1])


def colour_lut(prototypes: List[Tuple[float, float]], hue_scale: float, sat_scale: float,
               max_distance: float) -> np.ndarray:
    """
    Return a (180, 256) uint8 table: the 1-based index of the nearest prototype, 0 if none.

    Distance is ``hypot(dH / hue_scale, dS / sat_scale)`` with a circular hue difference.
    """
    hue = np.arange(180, dtype=float)[:, None, None]
    sat = np.arange(256, dtype=float)[None, :, None]
    ph = np.array([p[0] for p in prototypes])[None, None, :]
    ps = np.array([p[1] for p in prototypes])[None, None, :]
    dh = np.abs(hue - ph)
    dh = np.minimum(dh, 180.0 - dh)
    dist = np.hypot(dh / hue_scale, (sat - ps) / sat_scale)
    best = np.argmin(dist, axis=2)
    lut = (best + 1).astype(np.uint8)
    lut[np.min(dist, axis=2) > max_distance] = 0
    return lut


def _octagon_silhouette(camera: PinholeCamera, centre, apothem: float, height: float,
                        segments: int) -> float:
    """Return the image area (px) of the convex silhouette of an upright ring block."""
    return float(cv2.contourArea(ring_outline(camera, centre, apothem, height, segments)))


def table_edge_pixels(grey: np.ndarray, camera: PinholeCamera, spec
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Find the table's edges in a grey image near where ``camera`` puts them.

    Along each edge of the table top, every ``EDGE_STEP`` m, the grey profile across the edge's
    image (``EDGE_SEARCH_PX`` either side) is searched for the strongest fall from the table to
    what lies beyond it; a fall of less than ``EDGE_CONTRAST``, or a bright side that does not
    look like the rest of the table (the robot's base), is no edge. Returns ``(a, b, pixels)``:
    the world edge through a and b on which each found pixel lies (for ``fit_camera``).
    """
    h, w = grey.shape[:2]
    r = EDGE_SEARCH_PX
    centre = np.array([spec.table_centre[0], spec.table_centre[1], 0.0])
    rows_a, rows_b, rows_edge, uv_all, normals = [], [], [], [], []
    for a, b in table_edges(spec):
        length = float(np.linalg.norm(b - a))
        along = (b - a) / length
        ts = np.arange(0.5 * EDGE_STEP, length, EDGE_STEP)
        pts = a + ts[:, None] * along
        inward = centre - pts
        inward[:, 2] = 0.0
        inward /= np.maximum(np.linalg.norm(inward, axis=1, keepdims=True), 1e-9)
        inner = pts + 0.03 * inward
        front = (camera.to_camera(pts)[:, 2] > 0.05) & (camera.to_camera(inner)[:, 2] > 0.05)
        if not front.any():
            continue
        pts, inner = pts[front], inner[front]
        uv = camera.project(pts)
        tangent = camera.project(pts + 0.005 * along) - camera.project(pts - 0.005 * along)
        normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
        flip = np.sum(normal * (uv - camera.project(inner)), axis=1) < 0
        normal[flip] *= -1.0                                   # from the table outwards
        ends = [uv + r * normal, uv - r * normal]
        ok = np.all([(e[:, 0] >= 1) & (e[:, 0] <= w - 2) & (e[:, 1] >= 1) & (e[:, 1] <= h - 2)
                     for e in ends], axis=0)
        rows_a += [a] * int(ok.sum())
        rows_b += [b] * int(ok.sum())
        rows_edge += [len(uv_all)] * int(ok.sum())
        uv_all.append(uv[ok])
        normals.append(normal[ok])
    empty = (np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 2)))
    if not rows_a:
        return empty
    uv, normal = np.concatenate(uv_all), np.concatenate(normals)
    offsets = np.arange(-r, r + 1, dtype=np.float32)
    mx = (uv[:, 0:1] + offsets[None] * normal[:, 0:1]).astype(np.float32)
    my = (uv[:, 1:2] + offsets[None] * normal[:, 1:2]).astype(np.float32)
    prof = cv2.remap(grey.astype(np.float32), mx, my, cv2.INTER_LINEAR)
    fall = prof[:, 2:] - prof[:, :-2]                 # at offsets[1:-1], negative: bright inside
    k = np.argmin(fall[:, 4:-6], axis=1) + 4
    rows = np.arange(len(k))
    cum = np.concatenate([np.zeros((len(k), 1), np.float32), np.cumsum(prof, axis=1)], axis=1)
    inside = (cum[rows, k] - cum[rows, k - 4]) / 4.0            # the 4 px before the edge
    outside = (cum[rows, k + 8] - cum[rows, k + 3]) / 5.0       # 5 px beyond it
    table = float(np.median(inside)) if len(inside) else 0.0
    good = (inside - outside >= EDGE_CONTRAST) & (np.abs(inside - table) <= 0.15 * table)
    f0, f1, f2 = fall[rows, k - 1], fall[rows, k], fall[rows, k + 1]
    den = f0 - 2 * f1 + f2
    sub = np.where(np.abs(den) > 1e-6, 0.5 * (f0 - f2) / np.where(den == 0, 1, den), 0.0)
    at = offsets[1:-1][k] + np.clip(sub, -1.0, 1.0)
    found = uv + at[:, None] * normal
    # An edge's image is a straight line: points off the line its other points make were found
    # on something else (the robot's base, the arm); an edge with few points is not used.
    edge = np.array(rows_edge)
    for e in np.unique(edge):
        mine = good & (edge == e)
        for _ in range(2):
            if np.count_nonzero(mine) < EDGE_MIN_POINTS:
                good &= edge != e
                break
            vx, vy, x0, y0 = cv2.fitLine(found[mine].astype(np.float32), cv2.DIST_HUBER, 0,
                                         0.01, 0.01).ravel()
            off = np.abs((found[:, 0] - x0) * vy - (found[:, 1] - y0) * vx)
            mine &= off <= EDGE_LINE_PX
        good &= (edge != e) | mine
    return (np.array(rows_a)[good], np.array(rows_b)[good], found[good])


def peg_pixels(peg_mask: np.ndarray, camera: PinholeCamera, spec,
               stack_tops: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """
    Find the tip (and, on an empty peg, the base) of each peg in a mask of peg-coloured pixels.

    ``stack_tops`` is the height of each peg's stack as read (0 when empty); a tip within 4 mm
    of it is not used. The tip is the top of the peg's blob near where ``camera`` puts it,
    matched with the top of the projected cap; the base, the bottom with the projected foot.
    A blob much wider than a peg is not one. Returns ``(world points, pixels, which)``:
    ``which`` is the peg number of each point, negative for a base.
    """
    h, w = peg_mask.shape[:2]
    world, seen, which = [], [], []
    ang = np.linspace(0.0, 2 * math.pi, 24, endpoint=False)
    for k in range(1, spec.num_pegs + 1):
        x, y = spec.peg_xy(k)
        top = stack_tops[k - 1]
        if top > spec.peg_height - 0.004:
            continue
        cap = np.column_stack([x + spec.peg_radius * np.cos(ang),
                               y + spec.peg_radius * np.sin(ang), np.full(24, spec.peg_height)])
        foot = cap.copy()
        foot[:, 2] = 0.0
        cap_uv, foot_uv = camera.project(cap), camera.project(foot)
        width = float(cap_uv[:, 0].max() - cap_uv[:, 0].min())
        tip = cap_uv[np.argmin(cap_uv[:, 1])]
        base = foot_uv[np.argmax(foot_uv[:, 1])]
        pad = EDGE_SEARCH_PX
        x0, x1 = int(max(0, tip[0] - width - pad)), int(min(w, tip[0] + width + pad))
        y0, y1 = int(max(0, tip[1] - pad)), int(min(h, base[1] + pad))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        count, lab, stats, _c = cv2.connectedComponentsWithStats(
            peg_mask[y0:y1, x0:x1].astype(np.uint8), connectivity=8)
        best, best_d = 0, math.inf
        for j in range(1, count):
            cx = stats[j, cv2.CC_STAT_LEFT] + stats[j, cv2.CC_STAT_WIDTH] / 2.0 + x0
            d = math.hypot(cx - tip[0], stats[j, cv2.CC_STAT_TOP] + y0 - tip[1])
            if stats[j, cv2.CC_STAT_AREA] >= 0.5 * width * width and d < best_d:
                best, best_d = j, d
        if not best:
            continue
        comp = lab == best
        ys = np.nonzero(comp.any(axis=1))[0]
        rows_top = comp[ys[0]:ys[0] + 3]
        span = np.nonzero(rows_top.any(axis=0))[0]
        if span.size == 0 or span[-1] - span[0] + 1 > 1.6 * width + 2:
            continue
        xs = np.nonzero(rows_top)[1]
        world.append(cap[np.argmin(cap_uv[:, 1])])
        seen.append((xs.mean() + x0, ys[0] - 0.5 + y0))
        which.append(k)
        if top <= 0.0:
            rows_bottom = comp[max(ys[-1] - 2, 0):ys[-1] + 1]
            xs = np.nonzero(rows_bottom)[1]
            height = ys[-1] - ys[0] + 1
            want = base[1] - tip[1]
            if xs.size and abs(height - want) <= 0.2 * want + 2:
                world.append(foot[np.argmax(foot_uv[:, 1])])
                seen.append((xs.mean() + x0, ys[-1] + 0.5 + y0))
                which.append(-k)
    return (np.array(world).reshape(-1, 3), np.array(seen).reshape(-1, 2),
            np.array(which, int))


def _outline_canvas(mask: np.ndarray, box: Sequence[int], outline: np.ndarray
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Return ``(lo, seen, want)``: the mask and the filled outline on one canvas from ``lo``.

    ``seen`` is ``mask`` (covering the image box ``box``) placed on the canvas; ``want`` the
    outline's pixels. fillConvexPoly also fills the pixels the edges pass through: half a
    pixel in, the filled pixels are those whose centres lie in the outline, as a renderer's are.
    """
    lo = np.minimum(np.floor(outline.min(axis=0)).astype(int) - 1, [box[0], box[1]])
    hi = np.maximum(np.ceil(outline.max(axis=0)).astype(int) + 2, [box[2], box[3]])
    canvas = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
    centre = outline.mean(axis=0)
    reach = np.linalg.norm(outline - centre, axis=1, keepdims=True)
    inner = centre + (outline - centre) * np.maximum(0.0, 1.0 - 0.5 / np.maximum(reach, 1e-6))
    cv2.fillConvexPoly(canvas, np.round((inner - lo) * 16).astype(np.int32), 1,
                       lineType=cv2.LINE_8, shift=4)
    seen = np.zeros_like(canvas, bool)
    seen[box[1] - lo[1]:box[3] - lo[1], box[0] - lo[0]:box[2] - lo[0]] = mask
    return lo, seen, canvas.astype(bool)


def overlap(mask: np.ndarray, box: Sequence[int], outline: np.ndarray) -> Tuple[float, float]:
    """
    Return (intersection over union, mask area / outline area) of a mask and a convex outline.

    ``mask`` covers the image box ``box`` (x0, y0, x1, y1); ``outline`` is in image pixels.
    """
    _lo, seen, want = _outline_canvas(mask, box, outline)
    union = int(np.count_nonzero(seen | want))
    inter = int(np.count_nonzero(seen & want))
    return inter / max(union, 1), int(np.count_nonzero(seen)) / max(int(want.sum()), 1)


def clipped_overlap(mask: np.ndarray, box: Sequence[int], outline: np.ndarray,
                    image_size: Tuple[int, int]) -> Tuple[float, float, float]:
    """
    Return :func:`overlap` over the image only, and the share of the outline in the image.

    The part of an outline beyond the image border can be neither seen nor missed: a ring
    lying across the border is judged by what of it is in the frame.
    """
    width, height = image_size
    lo, seen, want = _outline_canvas(mask, box, outline)
    whole = int(np.count_nonzero(want))
    # the canvas's rows and columns outside the image [0, width) x [0, height)
    want[:, :max(0, -lo[0])] = False
    want[:max(0, -lo[1]), :] = False
    want[:, max(0, width - lo[0]):] = False
    want[max(0, height - lo[1]):, :] = False
    union = int(np.count_nonzero(seen | want))
    inter = int(np.count_nonzero(seen & want))
    in_frame = int(np.count_nonzero(want))
    return (inter / max(union, 1), int(np.count_nonzero(seen)) / max(in_frame, 1),
            in_frame / max(whole, 1))


LEAN_CACHE = 32   # leaning fits remembered (blob, camera) -> answer


def _camera_key(camera: PinholeCamera) -> tuple:
    """Return what makes two cameras project alike (for the leaning-fit cache)."""
    return (camera.width, camera.height, float(camera.fovy_deg),
            tuple(float(v) for v in camera.position), tuple(float(v) for v in camera.look_at),
            tuple(float(v) for v in camera.intrinsics),
            tuple(float(v) for v in camera.distortion))


class ClassicPerceiver(Perceiver):
    """Colour segmentation + camera geometry (see the module docstring)."""

    backend = 'classic'

    def __init__(self, spec, num_blocks: int, settings: Optional[ClassicSettings] = None,
                 min_confidence: float = 0.5, camera: Optional[PinholeCamera] = None,
                 threads: int = 1) -> None:
        """
        Prepare the colour table and the geometry of ``spec`` for ``num_blocks`` blocks.

        ``camera`` overrides the scene's nominal camera. ``threads`` sets OpenCV's thread count
        for the whole process (0 keeps OpenCV's choice): the per-frame work is too small to
        gain from a second core, which only adds CPU time.
        """
        super().__init__(spec, num_blocks, min_confidence)
        if threads:
            cv2.setNumThreads(int(threads))
        self.settings = s = settings or ClassicSettings()
        self.camera = camera or camera_from_spec(spec)
        n, k = self.num_blocks, self.num_pegs
        levels = max(n, 2)
        self.roi = region_of_interest(spec, self.camera, levels, s.roi_margin)
        self.columns = stack_pixels(spec, self.camera, levels)        # (K, L, 2)
        self.apothems = spec.block_apothems(n)
        # Block radius in pixels on each peg (at mid-stack depth).
        self.radius_px = np.zeros((n, k))
        self.ppm = np.zeros(k)
        self.silhouette = np.zeros((n, k, levels))
        for p in range(k):
            x, y = spec.peg_xy(p + 1)
            ppm = self.camera.pixels_per_metre((x, y, spec.block_centre_z(0)))
            self.ppm[p] = ppm
            for i in range(n):
                self.radius_px[i, p] = self.apothems[i] * ppm
                for level in range(levels):
                    self.silhouette[i, p, level] = _octagon_silhouette(
                        self.camera, (x, y, spec.block_centre_z(level)), self.apothems[i],
                        spec.block_height, spec.segments)
        prototypes = [rgb_to_hs(spec.block_colour(i)) for i in range(1, n + 1)]
        # Sentinel: the colour of b(N+1), to notice a wrong block count, when it is far enough
        # in hue from every block colour not to steal their pixels.
        extra = rgb_to_hs(spec.block_colour(n + 1))
        gap = min(min(abs(extra[0] - h), 180.0 - abs(extra[0] - h)) for h, _s in prototypes)
        self.sentinel = n + 1 if gap >= 2.0 * s.hue_scale else 0
        prototypes += [extra, rgb_to_hs(spec.peg_colour), rgb_to_hs(spec.table_colour)]
        lut = colour_lut(prototypes, s.hue_scale, s.saturation_scale, s.max_colour_distance)
        self._peg_lut = (lut == n + 2).astype(np.uint8)             # the pegs' colour
        lut[lut > n + (1 if self.sentinel else 0)] = 0              # distractors: background
        self.lut = lut
        # Colours so close that a lit face of one can read as the other (orange and yellow):
        # a loose block's blob takes in touching pixels of these (see _with_neighbours).
        self.neighbours = [[j + 1 for j in range(n) if j != i and math.hypot(
            min(abs(prototypes[i][0] - prototypes[j][0]),
                180.0 - abs(prototypes[i][0] - prototypes[j][0])) / s.hue_scale,
            (prototypes[i][1] - prototypes[j][1]) / s.saturation_scale) <= LOOSE_NEIGHBOUR]
            for i in range(n)]
        rnd = spec.randomisation
        # The prior of the pose correction: as wide as the scene's camera randomisation (a
        # narrower Gaussian would pull a pose near the end of the uniform range back).
        self.pose_sigma = np.array([max(rnd.camera_position, POSE_SIGMA_FLOOR)] * 3
                                   + [max(rnd.camera_look_at, POSE_SIGMA_FLOOR)] * 3)
        self.kernel = np.ones((s.open_kernel, s.open_kernel), np.uint8)
        # the leaning fit is a pure function of its blob and camera: the same blob seen again
        # (a look with nothing moving: the fit took 30 ms a frame, 21 s of a 5-block episode
        # whose retreating hand hid a peg's tip) gets the same answer without the search
        self._lean_cache: 'OrderedDict[tuple, Tuple[float, float, np.ndarray, float, float]]' = \
            OrderedDict()
        self._place_fits: Dict[str, float] = {}      # this frame's lone blocks: place fit
        self._beside: Dict[Tuple[str, int], str] = {}   # this frame's :meth:`_beside_the_tip`
        # ... and the fits behind its answers: (overlap, centre, tilt, towards) per block
        self._beside_fits: Dict[str, Tuple[float, np.ndarray, float, float]] = {}
        # this frame's rings read loose on a peg's stack beside the tip: {name: that peg}
        self._on_stack_of: Dict[str, int] = {}
        # this frame's rings read leaning on the table: name -> (centre, tilt, low side)
        self._lean_poses: Dict[str, Tuple[np.ndarray, float, float]] = {}
        # this frame's rings read flat across the image border: name -> share in the frame
        self._edge_cut: Dict[str, float] = {}
        self._peg_mask: Optional[np.ndarray] = None  # this frame's peg-coloured pixels
        self._arm_mask: Optional[np.ndarray] = None  # this frame's arm pixels, hand empty
        self.last_labels: Optional[np.ndarray] = None
        self.last_fits: Dict[str, Dict[str, float]] = {}
        self._blobs: Dict[str, Blob] = {}    # each block's blob of the last frame read
        self.last_fit: Optional[CameraFit] = None
        self._fit_edges = self._fit_points = 0
        self.tips_seen: List[int] = []
        self.fit_kept = False           # whether the last camera_fit kept the fit before
        self._roi_hsv: Optional[np.ndarray] = None
        self._fit_columns = self.columns
        # Gains from ``nsvla calibrate`` (camera.white_balance); none: images are read as they are.
        self.white_balance = tuple(getattr(spec.camera, 'white_balance', ()) or ())

    # ------------------------------------------------------------------ segmentation
    def label_image(self, rgb: np.ndarray,
                    box: Optional[Tuple[int, int, int, int]] = None) -> np.ndarray:
        """Return the block index (1..N) of each pixel of ``box`` (the ROI), 0 elsewhere."""
        x0, y0, x1, y1 = box or self.roi
        hsv = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2HSV)
        if box is None:
            self._roi_hsv = hsv
        return self._labels(hsv)

    def _labels(self, hsv: np.ndarray, lut: Optional[np.ndarray] = None) -> np.ndarray:
        labels = (self.lut if lut is None else lut)[hsv[:, :, 0], hsv[:, :, 1]]
        s = self.settings
        labels[(hsv[:, :, 1] < s.min_saturation) | (hsv[:, :, 2] < s.min_value)] = 0
        return labels

    def _blob(self, mask: np.ndarray, radius: float, origin: Tuple[int, int] = (0, 0)
              ) -> Optional[Blob]:
        """Return the largest blob of ``mask`` and its fragments within ``radius`` px, or None."""
        # Only the box around the colour's pixels is worked on (a kernel's width of zeros
        # around it): the opening and the components are the same as on the whole mask, at a
        # fraction of the cost (a block covers a few % of the region of interest).
        bx, by, bw, bh = cv2.boundingRect(mask)
        if bw == 0 or bh == 0:
            return None
        pad = max(self.kernel.shape)
        cx, cy = max(0, bx - pad), max(0, by - pad)
        mask = mask[cy:min(mask.shape[0], by + bh + pad), cx:min(mask.shape[1], bx + bw + pad)]
        return self._opened_blob(mask, radius, (origin[0] + cx, origin[1] + cy))

    def _opened_blob(self, mask: np.ndarray, radius: float, origin: Tuple[int, int]
                     ) -> Optional[Blob]:
        """Open ``mask`` and return its largest blob with the fragments near it, or None."""
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        count, lab, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count <= 1:
            return None
        areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
        best = int(np.argmax(areas))
        near = np.hypot(*(cents[1:] - cents[1 + best]).T) <= radius
        area = float(areas[near].sum())
        centre = (areas[near, None] * cents[1:][near]).sum(axis=0) / area
        kept = stats[1:][near]
        x0, y0 = int(kept[:, cv2.CC_STAT_LEFT].min()), int(kept[:, cv2.CC_STAT_TOP].min())
        x1 = int((kept[:, cv2.CC_STAT_LEFT] + kept[:, cv2.CC_STAT_WIDTH]).max())
        y1 = int((kept[:, cv2.CC_STAT_TOP] + kept[:, cv2.CC_STAT_HEIGHT]).max())
        parts = np.isin(lab[y0:y1, x0:x1], 1 + np.nonzero(near)[0])
        ox, oy = origin
        return Blob(int(area), (float(centre[0]) + ox, float(centre[1]) + oy),
                    (x0 + ox, y0 + oy, x1 + ox, y1 + oy), parts)

    # ------------------------------------------------------------------ geometry
    def _column_coords(self, uv: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Return per peg: signed pixel offset across the column, and level along it."""
        levels = self.columns.shape[1]
        across = np.zeros(self.num_pegs)
        along = np.zeros(self.num_pegs)
        for p in range(self.num_pegs):
            a, b = self.columns[p, 0], self.columns[p, levels - 1]
            d = b - a
            length = max(float(np.hypot(*d)), 1e-9)
            normal = np.array([-d[1], d[0]]) / length
            across[p] = float(np.dot(uv - a, normal))
            along[p] = float(np.dot(uv - a, d)) / length ** 2 * (levels - 1)
        return across, along

    def readings(self, rgb: np.ndarray) -> List[BlockReading]:
        """Return one reading per block (see the module docstring)."""
        s = self.settings
        if self.white_balance:
            rgb = apply_white_balance(rgb, self.white_balance)
        labels = self.label_image(rgb)
        self.last_labels = labels
        self.last_fits = {}
        self._blobs = {}
        self._place_fits = {}
        self._beside = {}
        self._beside_fits = {}
        self._on_stack_of = {}
        self._lean_poses = {}
        self._edge_cut = {}
        self._peg_mask = None
        self._arm_mask = None
        x0, y0 = self.roi[0], self.roi[1]
        out: List[BlockReading] = []
        seen = []
        for i in range(self.num_blocks):
            name = 'b%d' % (i + 1)
            mask = (labels == i + 1).astype(np.uint8)
            blob = self._blob(mask, float(self.radius_px[i].max()), (x0, y0))
            if blob is None:
                out.append(BlockReading(name, 0, 0.0, False, note='colour not seen'))
                continue
            self._blobs[name] = blob
            uv = np.array(blob.centre)
            across, along = self._column_coords(uv)
            p = int(np.argmin(np.abs(across / self.ppm)))
            out.append(BlockReading(name, p + 1, 0.0, True, float(along[p]), float(along[p]),
                                    (float(uv[0]), float(uv[1])), blob.area))
            seen.append((i, out[-1], across, along))
        # The rig knows only the nominal camera pose: remove the shift common to the blobs near
        # a column (one far from every column lies off the pegs and says nothing of the camera).
        near = [a[r.peg - 1] for _i, r, a, _l in seen
                if abs(a[r.peg - 1]) / self.ppm[r.peg - 1] <= s.column_max]
        shift = float(np.median(near)) if near else 0.0
        levels = self.columns.shape[1]
        for i, r, across, along in seen:
            off = np.abs(across - shift) / self.ppm                 # metres across each column
            over = np.maximum(0.0, np.maximum(-1.5 - along, along - levels))
            dist = np.hypot(off, over * self.spec.block_height)
            order = np.argsort(dist)
            p = int(order[0])
            r.peg, r.height, r.level = p + 1, float(along[p]), float(along[p])
            lev = int(min(max(round(along[p]), 0), levels - 1))
            visible = r.area / max(self.silhouette[i, p, lev], 1.0)
            if visible < s.min_visible:
                r.visible = False
                r.note = 'only %.0f%% visible' % (100 * visible)
                continue
            if dist[p] > s.column_max:
                r.peg = 0
                r.note = '%.0f mm from the nearest peg column (p%d)' % (1000 * dist[p], p + 1)
                continue
            logits = -0.5 * (dist / s.column_sigma) ** 2
            prob = float(1.0 / np.exp(logits - logits[p]).sum())
            col = min(1.0, (s.column_max - dist[p]) / (s.column_max - s.column_ok))
            vis = min(1.0, (visible - s.min_visible) / (s.full_visible - s.min_visible))
            r.confidence = round(max(0.0, prob * col * vis), 4)
            notes = []
            if vis < 1.0:
                notes.append('partly hidden (%.0f%% visible)' % (100 * visible))
            if col < 1.0:
                notes.append('%.0f mm off the p%d column' % (1000 * dist[p], p + 1))
            if prob < 0.99:
                notes.append('p%d or p%d' % (p + 1, int(order[1]) + 1))
            r.note = ', '.join(notes)
        flag_lifted(out, s.level_tolerance, common_offset=True)
        if self.sentinel:
            extra = self._blob((labels == self.sentinel).astype(np.uint8),
                               float(self.radius_px.max()))
            if extra and extra.area >= s.min_visible * float(self.silhouette[0].min()):
                self.unexpected = ['b%d' % self.sentinel]
        self._check_places(rgb, out)
        return out

    # ------------------------------------------------------------------ loose blocks
    def camera_fit(self, rgb: np.ndarray, out: Sequence[BlockReading],
                   roi_hsv: Optional[np.ndarray] = None, keep: bool = True) -> CameraFit:
        """
        Correct the nominal camera pose from the table's edges and the peg tips in ``rgb``.

        ``out`` (the readings) says how high each stack is: a peg tip hidden in a stack is not
        looked for; ``roi_hsv`` is the region of interest of ``rgb`` in HSV when at hand. The
        prior is the scene's camera randomisation (at least 2 mm). A rig's camera does not move
        between frames: the last fit is kept while the table's edges and the peg tips are still
        found where it puts them (median within ``FIT_KEEP_PX``), a third of a new fit's cost;
        ``keep`` False fits anew. ``self.fit_kept`` says which it was. A frame that shows less
        of them (the arm in front) but agrees with the last fit (``FIT_INLIERS`` of what it
        shows within 3 px) keeps it too, and a new fit does not replace it unless it is as well
        supported (``FIT_REPLACE_SHARE``). Nor does one further than ``FIT_PLAUSIBLE_SIGMAS``
        of the prior from the nominal pose replace a last fit within them.
        """
        spec = self.spec
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        tops = [spec.block_bottom_z(sum(1 for r in out if r.visible and r.peg == k))
                for k in range(1, self.num_pegs + 1)]
        x0, y0, x1, y1 = self.roi                # every peg lies in the stacks' region
        pegs = np.zeros(rgb.shape[:2], bool)
        if roi_hsv is None:
            roi_hsv = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2HSV)
        pegs[y0:y1, x0:x1] = self._labels(roi_hsv, self._peg_lut)
        self._peg_mask = pegs
        last = self.last_fit
        self.fit_kept = False
        agrees = False
        if last is not None and self._fit_edges:
            a, b, edge_px = table_edge_pixels(grey, last.camera, spec)
            last_pegs = peg_pixels(pegs, last.camera, spec, tops)
            world, peg_px, _which = last_pegs
            lines = np.abs(feature_residuals(last.camera, None, (a, b, edge_px, 1.0))) \
                if len(a) else np.zeros(0)
            points = np.abs(feature_residuals(last.camera, (world, peg_px, 1.0), None)) \
                if len(world) else np.zeros(0)
            found_lines = int(np.count_nonzero(lines <= 3.0))
            found_points = int(np.count_nonzero(points <= 3.0))
            whole = (found_lines >= 0.8 * self._fit_edges
                     and found_points >= 0.8 * self._fit_points)
            close = (bool(lines.size) and float(np.median(lines)) <= FIT_KEEP_PX
                     and (not points.size or float(np.median(points)) <= FIT_KEEP_PX))
            # most of what is found lies where the last fit puts it, and enough is found; or
            # half of it within FIT_KEEP_PX (the arm's edges taken for the table's are the
            # rest: 4 blocks, seed 20048, 44 of 61 edge points within 0.1 px of the last fit,
            # a new fit through all of them 1.1 px off them and 13 mm lower; b3 on b4 was
            # then read tilted beside the tip for 6 frames)
            agrees = (found_lines >= FIT_AGREE_SHARE * self._fit_edges
                      and (found_lines >= FIT_INLIERS * lines.size or close)
                      and found_points >= 0.5 * points.size)
            # kept: all of it seen where the fit puts it, or less of it (the arm in front) and
            # what is seen agrees; a fit of what is left would be worse (below)
            if keep and ((whole and close) or (agrees and not whole)):
                self.tips_seen = self._tips(last.camera, *last_pegs)
                self.fit_kept = True
                return last
        a, b, edge_px = table_edge_pixels(grey, self.camera, spec)
        world, peg_px, which = peg_pixels(pegs, self.camera, spec, tops)
        fit = fit_camera(self.camera, self.pose_sigma,
                         (world, peg_px, PEG_SIGMA_PX) if len(world) else None,
                         (a, b, edge_px, EDGE_SIGMA_PX) if len(a) else None)
        new_edges = new_points = 0
        if len(a):
            res = np.abs(feature_residuals(fit.camera, None, (a, b, edge_px, 1.0)))
            new_edges = int(np.count_nonzero(res <= 3.0))
        if len(world):
            res = np.abs(feature_residuals(fit.camera, (world, peg_px, 1.0), None))
            new_points = int(np.count_nonzero(res <= 3.0))
        if (last is not None and self._implausible(fit) > FIT_PLAUSIBLE_SIGMAS
                and self._implausible(last) <= FIT_PLAUSIBLE_SIGMAS):
            self.tips_seen = self._tips(last.camera, *peg_pixels(pegs, last.camera, spec, tops))
            return last
        if agrees and new_edges + new_points < FIT_REPLACE_SHARE * (self._fit_edges
                                                                    + self._fit_points):
            # This frame sees less of the table and the pegs than the last fit did (the arm
            # in front), and what it sees lies where that fit puts it: the camera has not
            # moved, and a fit of what is left is worse (5 blocks, one seeded camera: fits
            # of such frames put the camera 9-14 mm lower than the whole view's fit and lost
            # a peg's tip, 19 first looks of 31 unread; the whole view's fit was within 5 mm
            # of the true camera).
            self.tips_seen = self._tips(last.camera, *last_pegs)
            return last
        self.last_fit = fit
        self._fit_edges, self._fit_points = new_edges, new_points
        self._fit_columns = stack_pixels(spec, fit.camera, self.columns.shape[1])
        self.tips_seen = self._tips(fit.camera, world, peg_px, which)
        return fit

    def _implausible(self, fit: CameraFit) -> float:
        """Return how far ``fit`` puts the camera from the nominal pose: most prior sigmas."""
        return float(np.max(np.abs(fit.offset) / self.pose_sigma))

    @staticmethod
    def _tips(camera: PinholeCamera, world: np.ndarray, pixels: np.ndarray,
              which: np.ndarray) -> List[int]:
        """
        Return the pegs whose tip was found where ``camera`` puts it.

        Within 3 px up or down: a tip found lower is hidden (by a ring on it, the arm); across
        within ``TIP_ACROSS_PX``: a camera fit off about the vertical moves a tip sideways
        (6 blocks: p3's tip above b6 seen 9 px right of the fit, 1 px up; b6 refused for the
        rest of the episode).
        """
        if not len(world):
            return []
        res = np.abs(camera.project(world) - pixels)
        return sorted(int(k) for k, (du, dv) in zip(which, res)
                      if k > 0 and dv <= 3.0 and du <= TIP_ACROSS_PX)

    def _check_places(self, rgb: np.ndarray, out: List[BlockReading]) -> None:
        """
        Check every placement against the corrected camera; place blocks loose on the table.

        With the camera fitted (:meth:`camera_fit`), a block on a peg is seen within
        ``PLACE_BAND`` levels of its place in the seen order (measured: covered blocks read up
        to 0.85 low, top blocks up to 0.65 low and 0.3 high) and within ``column_ok`` of the
        peg's column (measured: 6 mm without the arm). A block off the pegs, or seen elsewhere,
        may be lying on the table: its blob is tried as a loose ring (step 7 of the module
        docstring); one that is not, and is off its place, is taken off the peg.
        """
        fit = self.camera_fit(rgb, out, self._roi_hsv)
        suspects = self._suspects(out)
        if any(suspects.values()) and self.fit_kept:
            # a block off its place under a remembered fit: fit again before saying so (a fit
            # kept from frames with the arm over a peg can miss that peg's tip for good: seen
            # on the launched graph, 'the tip of p1 is not seen' for 35 s of a ring on p1)
            fit = self.camera_fit(rgb, out, self._roi_hsv, keep=False)
            suspects = self._suspects(out)
        if not suspects:
            return
        spec = self.spec
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        labels = self._labels(hsv)
        table_sat = rgb_to_hs(spec.table_colour)[1]
        self._arm_mask = (hsv[:, :, 1] < NEUTRAL_SHARE * table_sat
                          if table_sat >= NEUTRAL_TABLE_MIN and self.hand_empty is True
                          else None)
        # what may stand in front of a ring: each peg's pixels inside its silhouette
        peg_colour = self._peg_mask
        pegs = []
        for p in range(1, self.num_pegs + 1):
            axis = (*spec.peg_xy(p), 0.5 * spec.peg_height)
            shape = np.zeros(peg_colour.shape, np.uint8)
            cv2.fillConvexPoly(shape, np.round(16 * ring_outline(
                fit.camera, axis, spec.peg_radius, spec.peg_height, 16)).astype(np.int32), 1,
                shift=4)
            pegs.append((np.array(axis), peg_colour & cv2.dilate(
                shape, np.ones((5, 5), np.uint8)).astype(bool)))
        # What a loose ring must keep clear of: every peg, and each block on it, up to its top
        # (the largest lowest). Two rings overlap for sure only closer than their apothems' sum
        # (flat against flat); their corners' sum would refuse a ring lying against a stack
        # (seen on the launched graph: b2 beside the stack on p3, 3 mm from the truth, refused
        # 5 mm 'into' it).
        loose_off: List[Obstacle] = []

        def obstacles(but: str) -> List[Obstacle]:
            """Return the pegs, the blocks on them (but ``but``) and the loose rings."""
            found: List[Obstacle] = []
            for p in range(1, self.num_pegs + 1):
                on = sorted((int(q.name[1:]) - 1 for q in out
                             if q.visible and q.peg == p and q.name != but
                             and not _doubted(q.name, suspects)), reverse=True)
                found.append((spec.peg_xy(p), spec.peg_radius, 'p%d' % p, spec.peg_height))
                found += [(spec.peg_xy(p), self.apothems[j], 'p%d' % p,
                           spec.block_bottom_z(level + 1)) for level, j in enumerate(on)]
            return found + loose_off

        owns: Dict[str, Blob] = {}
        seen_on = {r.name: replace(r) for r in out
                   if r.name in suspects and r.peg > 0 and suspects[r.name].startswith('level')}
        pending = sorted((r for r in out if r.name in suspects), key=lambda r: -int(r.name[1:]))
        while pending:
            for r in pending:
                if suspects[r.name].startswith('shape') and r.peg > 0 and r.visible:
                    # its stack may have lost a block checked before it: off its level now
                    now = self._off_place(r, out)
                    if now.startswith('level'):
                        suspects[r.name] = now
                self._check_suspect(r, out, suspects, labels, fit, obstacles(r.name),
                                    loose_off, pegs, owns)
            # a block taken off a peg moves the places of those left on it (4 blocks with
            # slips: b2 on its edge in front of p1 read under b1, which rested across p1's
            # tip; b2 was put on the table, b1 stayed on p1 at level 1.4 with a stack of 0)
            # (only the level: a ring now loose on a block may cover that block's place)
            moved = {q.name: self._off_place(q, out) for q in out
                     if q.name not in suspects and q.peg > 0 and q.visible
                     and q.pixel is not None}
            suspects.update({b: why for b, why in moved.items() if why.startswith('level')})
            pending = sorted((q for q in out if q.name in suspects and q.name in moved),
                             key=lambda q: -int(q.name[1:]))
        self._back_on_place(out, suspects, seen_on)
        # Not loose, and seen off its place in what is left of its stack, or partly outside
        # where a block there would show (an arm in front only hides some of it): not on it.
        for r in out:
            if r.peg > 0 and r.visible and r.name in suspects:
                off = self._off_place(r, out)
                if not off.startswith(('level', 'hidden')) and r.name in owns:
                    # what a loose ring's outline covers is that ring's (a lit face in
                    # this block's colour), not this block's outside its place
                    inside = self._inside_place(r, out, self._without_loose(
                        owns[r.name], out, fit.camera), fit.camera)
                    if inside < PLACE_INSIDE:
                        off = 'only %.0f%% inside where it would be on p%d' % (
                            100 * inside, r.peg)
                    elif off.startswith('only'):
                        off = ''
                if off.startswith(('level', 'only', 'hidden')):
                    r.note = '%s (%s)' % (r.note, off) if r.note else off
                    r.peg, r.confidence = 0, 0.0
        # a ring across a tip rests on what is on that peg in the end (read before a block
        # under it was doubted, it may have been put on the one below that)
        for r in out:
            if r.loose and r.lifted_from > 0 and r.rests_on != TABLE:
                r.rests_on = _top_on(r, r.lifted_from, out, {})
            elif r.loose and r.name in self._on_stack_of and r.rests_on != TABLE:
                # so does one beside the tip: read while the ring under it was doubted (it
                # hides some of that ring) it was put on the one below that (5 blocks with
                # slips, seed 20042: b3 on b4 on p3, 26 mm off the axis, read on b5, 4 frames)
                top = _top_on(r, self._on_stack_of[r.name], out, {})
                r.note = r.note.replace(' on %s beside' % r.rests_on, ' on %s beside' % top, 1)
                r.rests_on = top
        self._seen_past_loose(out, fit.camera)

    def _seen_past_loose(self, out: List[BlockReading], camera: PinholeCamera) -> None:
        """
        Judge how much of a ring on a peg shows by what a loose ring in front of it leaves.

        A ring's confidence falls with the share of its outline seen (``min_visible`` to
        ``full_visible``); behind a ring loose on the table nearer the camera than its peg
        (:meth:`_in_front`), found there, the part that ring covers cannot show (5 blocks with
        slips, seed 20076: b2 alone on p2, 17 % of it seen past b1 leaning against it, 0.28;
        the view was cleared, nothing changed, the episode was lost). The share is then that
        of the outline it does not cover.
        """
        s = self.settings
        if self._peg_mask is None:
            return
        levels = self.columns.shape[1]
        for r in out:
            if not (r.peg > 0 and r.visible and not r.loose and r.pixel is not None
                    and r.note.startswith('partly hidden')):
                continue
            fronts = [self._blobs[q.name] for q in out if q.name != r.name
                      and q.name in self._blobs and self._in_front(q, r.peg)]
            own = self._blobs.get(r.name)
            if not fronts or own is None:
                continue
            i = int(r.name[1:]) - 1
            lev = int(min(max(round(r.height), 0), levels - 1))
            expected = float(self.silhouette[i, r.peg - 1, lev])
            place = np.zeros(self._peg_mask.shape, np.uint8)
            cv2.fillConvexPoly(place, np.round(16 * self._place_outline(r, out, camera)).astype(
                np.int32), 1, shift=4)
            covered = np.zeros(self._peg_mask.shape, bool)
            for b in fronts:
                covered[b.box[1]:b.box[3], b.box[0]:b.box[2]] |= b.filled()
            covered[own.box[1]:own.box[3], own.box[0]:own.box[2]] &= ~own.mask
            hidden = float(np.count_nonzero(covered & place.astype(bool)))
            before = r.area / max(expected, 1.0)
            after = r.area / max(expected - hidden, 1.0)
            span = s.full_visible - s.min_visible
            was = min(1.0, (before - s.min_visible) / span)
            now = min(1.0, (after - s.min_visible) / span)
            if was <= 0.0 or now <= was:
                continue
            r.confidence = round(min(1.0, r.confidence / was * now), 4)
            r.note = r.note.replace('partly hidden (%.0f%% visible)' % (100 * before),
                                    'partly hidden (%.0f%% visible; %.0f%% of what a loose '
                                    'ring in front leaves)' % (100 * before, 100 * after), 1)

    def _back_on_place(self, out: List[BlockReading], suspects: Dict[str, str],
                       seen_on: Dict[str, BlockReading]) -> None:
        """
        Put back on its peg a ring doubted for its level that its final stack explains.

        ``seen_on``: the readings, as first seen on a peg, of the rings doubted for their
        level. A ring's level counts the rings below it in its peg's column, and one of those
        may be read off the peg only later (the rings are checked larger first): 4 blocks
        with slips, seed 20000, b1 on its edge in front of b4 on p3 counted under b2, which
        was then seen a level low and read tilted on b3 beside the tip, 31 mm off the axis,
        while it lay centred on p3; five placings of it there were "not seen where planned".
        A ring now read loose on its own peg's stack whose first reading fits its place in
        that stack as it is now is on the peg; so is one read nowhere else (5 blocks with
        slips, seed 20076: b2 alone on p2, seen a level low over b1 leaning in front of it;
        b1, checked after it, was found loose on the table, but b2 stayed refused), its
        place's shape fitting it or not.
        """
        for name, first in seen_on.items():
            r = next(q for q in out if q.name == name)
            column = [q.name for q in out if q.visible and q.peg == first.peg and not q.loose]
            if r.loose and r.rests_on not in column:
                continue
            trial = [first if q.name == name else q for q in out]
            off = self._off_place(first, trial)
            # (of its shape alone a ring is on its peg unless read off it: see _doubted)
            if off == '' or (not r.loose and off.startswith('shape')):
                r.__dict__.update(replace(first).__dict__)
                r.note = '; '.join(n for n in (r.note, 'on p%d: its level fits once the rings '
                                               'read off that peg are not counted'
                                               % first.peg) if n)
                suspects.pop(name, None)

    def _check_suspect(self, r: BlockReading, out: List[BlockReading],
                       suspects: Dict[str, str], labels: np.ndarray, fit: CameraFit,
                       keep_off: Sequence[Obstacle], loose_off: List[Obstacle],
                       pegs: Sequence[Tuple[np.ndarray, np.ndarray]],
                       owns: Dict[str, Blob]) -> None:
        """
        Read one block that may be off the pegs (:meth:`_check_places`), in place.

        ``keep_off``: what a loose ring must keep clear of; ``loose_off``: the loose rings found
        so far, where a ring found loose is added. Its blob goes into ``owns``.
        """
        spec = self.spec
        height, width = labels.shape[:2]
        i = int(r.name[1:]) - 1
        own = self._blob((labels == i + 1).astype(np.uint8), float(self.radius_px[i].max()))
        if own is None:
            return
        owns[r.name] = own
        if (r.peg > 0 and suspects[r.name].startswith('hidden: the tip')
                and self._inside_place(r, out, own, fit.camera) >= PLACE_INSIDE):
            # where it would be on its peg, only the tip above it not seen (the arm in
            # front): no ring lying on the table or across the tip looks so; the table
            # and leaning fits were 37 ms a frame of such looks for nothing
            return
        neighbours = np.isin(labels, self.neighbours[i]) if self.neighbours[i] else None
        if neighbours is not None:
            # pixels of a close colour where a block of that colour on its peg shows are
            # that block's, not a lit face of this one (3 blocks with slips: b2 lying
            # against b3 on p3 took b3's yellow, fitted 14 mm off towards it, refused)
            placed = [self._place_outline(q, out, fit.camera) for q in out
                      if q.visible and q.peg > 0 and int(q.name[1:]) in self.neighbours[i]]
            if placed:
                neighbours &= ~self._outline_mask(labels.shape, *placed)
        # in order of the evidence: a (nearly) flat ring on the table; one in a peg's
        # column above its stack, across the tip; one leaning on its edge on the table
        column = (r.peg if suspects[r.name].startswith(('level', 'hidden: the tip'))
                  else r.lifted_from if r.peg == 0 else 0)
        # what may stand in front of it: the pegs, and with the hand empty the blocks on them
        # (4 blocks with slips: b2 pushed off b3 on p3 came to lie behind that stack, half
        # of it hidden; with the hand not known a ring in it would be read on the table)
        front: List[Tuple[Optional[np.ndarray], np.ndarray]] = list(pegs)
        if self._arm_mask is not None:
            front.append((None, self._arm_mask))    # the arm: in front wherever it shows
        stacked: List[Tuple[str, np.ndarray, float]] = []   # (name, place centre, apothem)
        for q in (out if self.hand_empty is True else ()):
            if (q.visible and q.peg > 0 and q.name != r.name and not q.loose
                    and not _doubted(q.name, suspects)):
                x, y = spec.peg_xy(q.peg)
                at = np.array([x, y, spec.block_centre_z(_rank(q, out))])
                front.append((at, labels == int(q.name[1:])))
                stacked.append((q.name, at, self.apothems[int(q.name[1:]) - 1]))
        trial = replace(r)
        leaning = self._table_reading(trial, i, own, neighbours, fit, keep_off,
                                      (width, height), front, stacked)
        fits = self.last_fits.get(r.name, {})
        on_table = fits.get('lean_overlap', 0.0) if leaning else fits.get('overlap', 0.0)
        table_seen = on_table if trial.loose else 0.0
        if trial.loose and suspects[r.name].startswith('shape'):
            # on its peg it is seen; off it only where the table explains it much better,
            # and not from the top of a stack (tilted on it, if anything: below)
            stacked = any(q.visible and q.peg == r.peg and q.height < r.height for q in out)
            if stacked or on_table < self._place_fits.get(r.name, 1.0) + PLACE_SHAPE_MARGIN:
                trial = replace(r)
        blocked = str(fits.get('blocked_by', ''))
        threaded = hanging = 0
        if leaning and r.peg == 0 and r.name in self._lean_poses:
            # leaning on the table where a peg would run through its body: it hangs on that
            # peg instead, the peg through its hole, its low edge off the table (3 blocks: b3
            # dropped tilted over p1 hung there at 63 degrees, 10 mm above the table; read
            # leaning on the table 17-20 mm off for 12 of 16 headings of the drop); where the
            # peg runs through its hole, it leans on that peg (5 blocks: b5 hung so, its low
            # edge 3 mm above the table, fitted within 6 mm leaning, read on the table)
            at, tilt, towards = self._lean_poses[r.name]
            k, through = self._peg_through(i, at, tilt, towards)
            off = {q: math.hypot(at[0] - spec.peg_xy(q)[0], at[1] - spec.peg_xy(q)[1])
                   for q in range(1, self.num_pegs + 1)}
            near = min(off, key=off.__getitem__)
            if (through != 'hole' and math.degrees(tilt) < HANGING_MAX_TILT_DEG
                    and off[near] < self.apothems[i] + spec.peg_radius):
                # or with a peg within its apothem of its centre, not on its edge
                k, through = near, 'body'
            if through == 'body':
                column = hanging = k
            elif through == 'hole':
                threaded = k
        if r.name in self._beside_fits and r.peg > 0 and not r.loose and (
                not trial.loose or on_table < self._beside_fits[r.name][0]):
            # above the tip, its hole clear of the peg (:meth:`_beside_the_tip`): on the
            # block below where it was fitted, unless the table explains it better
            self._beside_reading(r, r.peg, own, out, suspects)
        elif column and (leaning or not trial.loose):
            self._perched_reading(r, column, i, own, fit, out, suspects,
                                  pegs[column - 1][1] if hanging else None)
        elif trial.loose and r.peg > 0 and not r.loose and suspects[r.name].endswith('column'):
            # off the column at its place's height: on the table behind the stack, or on the
            # stack beside the tip, whichever fits better (5 blocks with slips: b1 tilted 13
            # degrees on b3 on p2 read leaning on the table 48 mm behind it, 0.89)
            shifted = replace(r)
            self._shifted_reading(shifted, r.peg, i, own, fit, out, suspects)
            if (shifted.loose
                    and self.last_fits[r.name].get('shifted_overlap', 0.0) >= on_table):
                r.__dict__.update(shifted.__dict__)
            else:
                # nor flat on the stack: tilted on it (its failure's reason kept on ``r``)
                self._tilted_on_stack_reading(r, r.peg, i, own, fit, out, suspects, on_table)
        elif (not trial.loose and r.peg > 0 and not r.loose
              and suspects[r.name].endswith('column')):
            self._shifted_reading(r, r.peg, i, own, fit, out, suspects)
            if not r.loose:
                self._tilted_on_stack_either(r, r.peg, i, own, neighbours, fit, out, suspects,
                                             table_seen)
        elif not trial.loose and r.peg == 0 and blocked.startswith('p'):
            # a ring that would lie on the table inside a stack's footprint may lie on
            # that stack's top block, off the peg
            self._shifted_reading(r, int(blocked[1:]), i, own, fit, out, suspects)
        if not r.loose and r.peg > 0 and suspects[r.name].startswith(('shape', 'level',
                                                                      'hidden: b')):
            # the top of a stack, not of its place's shape, or above it and not across the
            # tip: standing or leaning on the top block beside the tip, where it fits better
            # than on the table (4 blocks with slips, seed 20098: b2 on its edge on b3 on p3,
            # behind the tip, seen at level 3.2 of 2; 5 blocks with slips, seed 20051: b1
            # tilted 57 degrees on b5 beside p2's tip, its place showing b5)
            edge = replace(r)
            self._tilted_on_stack_either(edge, r.peg, i, own, neighbours, fit, out, suspects,
                                         table_seen)
            if edge.loose:
                r.__dict__.update(edge.__dict__)
        if not r.loose and (trial.loose or r.peg == 0):
            r.__dict__.update(trial.__dict__)   # on a peg and not loose: as seen
            if threaded and r.loose and r.rests_on == TABLE:
                r.rests_on = _top_on(r, threaded, out, suspects)
                r.note = '; '.join(n for n in (r.note, 'leaning on p%d, the peg through its '
                                               'hole' % threaded) if n)
        if r.loose:
            tilt = r.pose.tilt if math.isfinite(r.pose.tilt) else 0.0
            ring = ((r.pose.x, r.pose.y), self.apothems[i], r.name,
                    r.pose.z + 0.5 * spec.block_height + self.apothems[i] * math.sin(tilt))
            loose_off.append(ring)

    def _leaning_fit(self, filled: np.ndarray, box: Sequence[int], target: np.ndarray,
                     camera: PinholeCamera, apothem: float, floor: float = 0.0,
                     clear_of: Sequence[Obstacle] = (),
                     tilts: Sequence[float] = LEAN_TILTS_DEG
                     ) -> Tuple[float, float, np.ndarray, float, float]:
        """
        Fit a ring leaning with one edge on the table to a blob: the best over tilts and sides.

        ``floor``: the height (m) of what its low edge rests on, the table (0) or a stack's top.
        ``clear_of``: obstacles the ring's solid must keep clear of (``LEAN_CLEARANCE``): poses
        that run into one are not tried. ``tilts``: the tilts tried (deg, rising).

        For each tilt of ``tilts`` (up to a ring standing on its edge) and each of
        ``LEAN_DIRECTIONS`` low sides, the ring's centre sits where its low edge touches the
        table; the ray through the blob's centroid (corrected for where the outline's centroid
        falls) gives it; ``LEAN_REFINE`` rounds on a grid of half the step around the best then
        refine it. Returns ``(intersection over union, area ratio, centre, tilt rad, heading of
        the low side rad)`` of the best.
        """
        key = (hashlib.blake2b(np.ascontiguousarray(filled).tobytes(), digest_size=16).digest(),
               filled.shape, tuple(int(v) for v in box),
               tuple(float(v) for v in np.ravel(target)), float(apothem), _camera_key(camera),
               float(floor), tuple((tuple(float(v) for v in xy), float(rad), str(name),
                                    float(top)) for xy, rad, name, top in clear_of),
               tuple(float(t) for t in tilts))
        hit = self._lean_cache.get(key)
        if hit is not None:
            self._lean_cache.move_to_end(key)
            return hit[0], hit[1], hit[2].copy(), hit[3], hit[4]
        found = self._leaning_search(filled, box, target, camera, apothem, floor, clear_of,
                                     tilts)
        self._lean_cache[key] = (found[0], found[1], np.array(found[2], float), found[3],
                                 found[4])
        while len(self._lean_cache) > LEAN_CACHE:
            self._lean_cache.popitem(last=False)
        return found

    def _leaning_search(self, filled: np.ndarray, box: Sequence[int], target: np.ndarray,
                        camera: PinholeCamera, apothem: float, floor: float = 0.0,
                        clear_of: Sequence[Obstacle] = (),
                        tilts: Sequence[float] = LEAN_TILTS_DEG
                        ) -> Tuple[float, float, np.ndarray, float, float]:
        """Search the tilts and sides for :meth:`_leaning_fit` (no cache)."""
        spec = self.spec
        r_out = apothem / math.cos(math.pi / spec.segments)
        best: Tuple[float, float, np.ndarray, float, float] = (0.0, 0.0, np.zeros(3), 0.0, 0.0)

        def trial(tilt: float, towards: float) -> None:
            nonlocal best
            z = floor + r_out * math.sin(tilt) + 0.5 * spec.block_height * math.cos(tilt)
            centre = _ring_centre(camera, target, z, apothem, spec.block_height, spec.segments,
                                  tilt, towards)
            if centre is None:
                return
            if clear_of and _solid_gap(ring_solid_points(
                    centre, apothem, spec.block_height, spec.segments, tilt, towards),
                    clear_of)[0] < -LEAN_CLEARANCE:
                return
            outline = ring_outline(camera, centre, apothem, spec.block_height,
                                   spec.segments, 0.0, tilt, towards)
            iou, ratio = overlap(filled, box, outline)
            if iou > best[0]:
                best = (iou, ratio, centre, float(tilt), float(towards))

        for tilt in np.radians(tilts):
            for j in range(LEAN_DIRECTIONS):
                trial(float(tilt), 2 * math.pi * j / LEAN_DIRECTIONS)
        # the grid's best is refined around itself: the grasp closes along the fitted side's
        # line, and a ring on its edge 22.5 degrees off that line is pushed, not lifted
        d_tilt = math.radians(min(np.diff(tilts))) / 2
        d_side = math.pi / LEAN_DIRECTIONS
        for _ in range(LEAN_REFINE):
            tilt0, side0 = best[3], best[4]
            for dt in (-d_tilt, 0.0, d_tilt):
                for ds in (-d_side, 0.0, d_side):
                    tilt = tilt0 + dt
                    if (dt or ds) and 0.0 < tilt <= math.pi / 2:
                        trial(tilt, side0 + ds)
            d_tilt, d_side = d_tilt / 2, d_side / 2
        return best

    def _peg_through(self, i: int, centre: np.ndarray, tilt: float, towards: float
                     ) -> Tuple[int, str]:
        """
        Return the peg a tilted ring's plane meets within the ring, and where: 'hole', 'body'.

        The peg's axis meets the plane of ring ``i`` posed at ``centre`` (tilted ``tilt``
        towards ``towards``) at some distance from its centre, between the table and the peg's
        top: within the hole's apothem less the peg's radius the peg runs through the hole;
        out to the ring's corners plus the peg's radius, through its body. (0, '') for none,
        and for a ring on its edge (its plane upright: the peg beside it or in it).
        """
        spec = self.spec
        axis = ring_axis(tilt, towards)
        if axis[2] < math.cos(math.radians(LEAN_TILTS_DEG[-2])):
            return 0, ''
        corners = self.apothems[i] / math.cos(math.pi / spec.segments)
        for k in range(1, self.num_pegs + 1):
            px, py = spec.peg_xy(k)
            z = centre[2] - (axis[0] * (px - centre[0]) + axis[1] * (py - centre[1])) / axis[2]
            if not 0.0 <= z <= spec.peg_height:
                continue
            rho = float(np.linalg.norm(np.array([px, py, z]) - centre))
            if rho < spec.hole_apothem - spec.peg_radius:
                return k, 'hole'
            if rho < corners + spec.peg_radius:
                return k, 'body'
        return 0, ''

    def _perched_reading(self, r: BlockReading, k: int, i: int, own: Blob, fit: CameraFit,
                         out: Sequence[BlockReading], suspects: Dict[str, str],
                         peg_pixels: Optional[np.ndarray] = None) -> None:
        """
        Make ``r`` loose on peg ``k`` when, with the hand empty, it rests above its place there.

        A ring seen in a peg's column above where its stack puts it (or hiding the peg's tip;
        or flagged lifted above it) is in the gripper or resting across the tip, tilted on the
        stack: with the gripper last commanded wider than any block (``hand_empty``) it is the
        latter. Its centre is the point of the ray through its blob's centroid nearest the
        peg's axis, which must pass within the ring's apothem, ``PERCHED_RISE`` block heights
        or more above its place and no higher than ``PERCHED_ABOVE_TIP`` block heights over
        the tip, and an outline there (upright or tilted by one of ``PERCHED_TILTS_DEG``) must
        fit the blob at least as well as a flat ring on the table did (``PERCHED_AREA``): a
        ring across a tip fits a leaning one on the table too, on the wrong support. Then it
        is ``loose(b, top of the stack below it, or the peg)`` there, not upright, with
        confidence ``PERCHED_CONFIDENCE``. ``peg_pixels`` (bool over the image), for a ring
        that hangs on the peg (read leaning with the peg through its body): peg ``k``'s pixels,
        those inside the blob's hull taken as the ring's (the peg in front of it), tilts up
        to ``HANGING_TILTS_DEG`` tried and the best refined as the leaning fit's.
        """
        if self.hand_empty is not True:
            return
        spec = self.spec
        why = suspects[r.name] or r.note
        px, py = spec.peg_xy(k)
        camera = fit.camera
        if peg_pixels is not None:
            # a ring hanging on the far side of the peg has the peg across it
            own = _with_hidden(own, peg_pixels, _hull(own.mask, own.box))
        filled = own.filled()
        target = _centroid(filled, own.box)
        d = camera.rays([target])[0]
        o = np.asarray(camera.position, float)
        flat = float(np.dot(d[:2], d[:2]))
        if flat < 1e-9:
            return
        t = float(np.dot(np.array([px, py]) - o[:2], d[:2])) / flat
        centre = o + t * d
        off_axis = math.hypot(centre[0] - px, centre[1] - py)
        below = _stack_below(r, k, out, suspects)
        # above its place (a ring at its place whose tip is hidden, by the arm in front of it,
        # is no perched one) and not higher than resting on the tip allows
        floor = spec.block_centre_z(len(below)) + PERCHED_RISE * spec.block_height
        ceiling = spec.peg_height + PERCHED_ABOVE_TIP * spec.block_height
        if t <= 0 or off_axis > self.apothems[i] or not floor < centre[2] <= ceiling:
            miss = 'not across the tip of p%d (centre %.0f mm off its axis at %.0f mm)' % (
                k, 1000 * off_axis, 1000 * centre[2])
            r.note = '; '.join(n for n in (r.note, miss) if n)
            return
        # a ring on the table behind the stack projects into the column too: resting across
        # the tip must explain the blob at least as well as lying on the table does (seen in
        # a 4-block bench episode: b2 behind the stack on p2 read across its tip, 14 frames)
        # upright, or tilted on the tip (4 blocks with slips: b1 jammed 33 degrees on p1, its
        # upright outline there 0.67, leaning on the table 0.84)

        def tried(tilt: float, towards: float) -> Tuple[float, float, float, float]:
            return overlap(filled, own.box, ring_outline(
                camera, centre, self.apothems[i], spec.block_height, spec.segments, 0.0,
                tilt, towards)) + (tilt, towards)

        tilts = PERCHED_TILTS_DEG if peg_pixels is None else HANGING_TILTS_DEG
        best = max(tried(math.radians(tilt), 2 * math.pi * j / LEAN_DIRECTIONS)
                   for tilt in tilts for j in range(LEAN_DIRECTIONS if tilt else 1))
        # refined around the grid's best as the leaning fit is (4 blocks: b4 hung on p1's far
        # side at 63 degrees, 0.92 on the grid against 0.96 leaning on the table)
        d_tilt = math.radians(min(np.diff(tilts))) / 2
        d_side = math.pi / LEAN_DIRECTIONS
        for _ in range(LEAN_REFINE if peg_pixels is not None else 0):
            tilt0, side0 = best[2], best[3]
            best = max([best] + [tried(tilt0 + dt, side0 + ds) for dt in (-d_tilt, 0.0, d_tilt)
                                 for ds in (-d_side, 0.0, d_side)
                                 if (dt or ds) and 0.0 < tilt0 + dt <= math.pi / 2])
            d_tilt, d_side = d_tilt / 2, d_side / 2
        iou, ratio = best[0], best[1]
        # (and nearly as well as a ring leaning on the table clear of the rest, when one was
        # read, ``PERCHED_LEAN_MARGIN``: 5 blocks with slips, b5 on its edge in front of p1,
        # 0.96 leaning and 0.91 across the tip, read across it in 14 frames; the launched
        # graph, b3 across p1's tip, 0.91 there and 0.93 leaning 2 cm off)
        fits = self.last_fits.get(r.name, {})
        table = max(fits.get('overlap', 0.0),
                    fits.get('lean_overlap', 0.0) - PERCHED_LEAN_MARGIN)
        if iou < table or not PERCHED_AREA[0] <= ratio <= PERCHED_AREA[1]:
            miss = ('not across the tip of p%d: its outline there fits worse than on the table '
                    '(overlap %.2f against %.2f, area %.2f)' % (k, iou, table, ratio))
            r.note = '; '.join(n for n in (r.note, miss) if n)
            return
        r.peg, r.visible, r.confidence = 0, True, PERCHED_CONFIDENCE
        r.rests_on = below[-1].name if below else 'p%d' % k
        r.pose = LoosePose(float(centre[0]), float(centre[1]), float(centre[2]), upright=False)
        r.pixel, r.area = own.centre, own.area
        r.height = r.level = 0.0
        r.note = 'resting across the tip of p%d, tilted (%s, hand empty)' % (k, why)
        r.lifted_from = k                # seen in that column: it may hide the tip

    def _shifted_reading(self, r: BlockReading, k: int, i: int, own: Blob, fit: CameraFit,
                         out: Sequence[BlockReading], suspects: Dict[str, str]) -> None:
        """
        Make ``r`` loose on the top of peg ``k``'s stack when it lies there beside the tip.

        With the hand empty, a ring seen off peg ``k``'s column at its place's height in the
        stack may lie on the stack's top block, off the peg: only where its bottom is above
        the peg's tip (less than ``SHIFTED_TIP`` block heights of peg under it), or the peg
        would hold it centred. Its centre is where the ray through its blob's centroid meets
        the plane of its place's centre (corrected for where the outline's centroid falls);
        that centre must be over the block below (within its apothem of the axis) and a flat
        ring's outline there must fit the blob as a loose one on the table must (flat, or
        nearly: ``LOOSE_TILTED_*``). Then it is ``loose(b, block below)``, with confidence
        ``SHIFTED_CONFIDENCE``.
        """
        if self.hand_empty is not True:
            return
        spec = self.spec
        below = _stack_below(r, k, out, suspects)
        if not below:
            return
        # its bottom below the tip: the peg would thread it unless it lies clear of the peg
        threaded = self._threaded(len(below))
        camera = fit.camera
        z = spec.block_centre_z(len(below))
        apothem = self.apothems[i]
        filled = own.filled()
        target = _centroid(filled, own.box)
        centre = _ring_centre(camera, target, z, apothem, spec.block_height, spec.segments)
        if centre is None:
            return
        px, py = spec.peg_xy(k)
        off_axis = math.hypot(centre[0] - px, centre[1] - py)
        if threaded and off_axis < apothem + spec.peg_radius - LOOSE_CLEARANCE:
            return
        # its centre over the block below: within that block's corners (a large ring below
        # carries a small one beside the peg: 5 blocks, b2 on b5 34 mm off p1's axis)
        support = self.apothems[int(below[-1].name[1:]) - 1] / math.cos(math.pi / spec.segments)
        step = 2 * math.pi / spec.segments / LOOSE_YAWS
        iou, ratio = max(overlap(filled, own.box, ring_outline(
            camera, centre, apothem, spec.block_height, spec.segments, j * step))
            for j in range(LOOSE_YAWS))
        self.last_fits.setdefault(r.name, {})['shifted_overlap'] = iou
        flat = iou >= LOOSE_MIN_OVERLAP and LOOSE_AREA[0] <= ratio <= LOOSE_AREA[1]
        low, high = LOOSE_TILTED_AREA
        tilted = iou >= LOOSE_TILTED_OVERLAP and low <= ratio <= high
        if off_axis > support or not (flat or tilted):
            miss = ('not lying on %s beside the tip of p%d (centre %.0f mm off its axis, '
                    'overlap %.2f, area %.2f)'
                    % (below[-1].name, k, 1000 * off_axis, iou, ratio))
            r.note = '; '.join(n for n in (r.note, miss) if n)
            return
        why = suspects[r.name] or 'off the pegs beside its stack'
        r.peg, r.visible, r.confidence = 0, True, SHIFTED_CONFIDENCE
        r.rests_on = below[-1].name
        self._on_stack_of[r.name] = k
        r.pose = LoosePose(float(centre[0]), float(centre[1]), float(z), upright=flat,
                           tilt=0.0 if flat else math.nan)
        r.pixel, r.area = own.centre, own.area
        r.height = r.level = 0.0
        r.note = 'lying on %s beside the tip of p%d, %.0f mm off its axis (%s, hand empty)' % (
            below[-1].name, k, 1000 * off_axis, why)

    def _tilted_on_stack_either(self, r: BlockReading, k: int, i: int, own: Blob,
                                neighbours: Optional[np.ndarray], fit: CameraFit,
                                out: Sequence[BlockReading], suspects: Dict[str, str],
                                on_table: float) -> None:
        """
        Read ``r`` tilted on peg ``k``'s stack from ``own``, else from it with a close colour.

        :meth:`_tilted_on_stack_reading` of ``own``, then of it with the touching pixels of a
        close colour (:meth:`_with_neighbours`: a lit face of an orange ring reads yellow; 5
        blocks with slips, seed 20033: b2 on its edge on b3 on p1, a third of it yellow,
        fitted at 0.57 alone).
        """
        self._tilted_on_stack_reading(r, k, i, own, fit, out, suspects, on_table)
        if r.loose or neighbours is None:
            return
        mixed, _share = self._with_neighbours(own, neighbours, None)
        if mixed.area <= own.area:
            return
        # its place is judged on the same pixels: a ring on its peg lit yellow fits its place
        # badly in its own colour alone, well with its lit face (5 blocks with slips, seed
        # 20006: b2 on b3 on p3, 0.57 alone, read tilted 11 degrees on b3 in 20 frames)
        before = self._place_fits.get(r.name)
        place = before or 0.0
        if r.peg > 0:
            place = max(self._place_shape(r, out, mixed, fit.camera), place)
            # (_place_shape keeps what it fits for the frame: this frame's is the own blob's)
            if before is None:
                self._place_fits.pop(r.name, None)
            else:
                self._place_fits[r.name] = before
        again = replace(r)
        self._tilted_on_stack_reading(again, k, i, mixed, fit, out, suspects, on_table, place)
        if again.loose:
            r.__dict__.update(again.__dict__)

    def _tilted_on_stack_reading(self, r: BlockReading, k: int, i: int, own: Blob,
                                 fit: CameraFit, out: Sequence[BlockReading],
                                 suspects: Dict[str, str], on_table: float,
                                 place: Optional[float] = None) -> None:
        """
        Make ``r`` loose on the top of peg ``k``'s stack when it stands or leans on it there.

        With the hand empty, a top ring whose place fits its blob badly (``'shape: ...'``), or
        one seen above its stack and not across the tip (``'level ...'``), may rest tilted on
        the block below, beside the tip: the leaning fit with its low edge on
        that block's top (:meth:`_leaning_fit`, ``floor``). It is taken where that fit is one
        a leaning ring on the table must reach (``LEAN_OVERLAP``, ``LEAN_AREA``), fits
        ``PLACE_SHAPE_MARGIN`` better than its place (``place``, by default this frame's fit
        of it) and at least as well as the table (``on_table``), its centre over the block
        below (within its corners) or its low edge within a block's height of them, and its
        solid clear of the peg
        (``STACK_LEAN_CLEARANCE``: it leans on that peg).
        Then it is ``loose(b, block below)``, not upright, with its tilt and the line across
        its low side as yaw, confidence ``PERCHED_CONFIDENCE`` (5 blocks with slips, seed
        20057: b1 on its edge on b5 on p2, 18 mm off the axis, read stacked on b5 in 14
        frames: the grasp at its place missed).
        """
        if self.hand_empty is not True:
            return
        spec = self.spec
        below = _stack_below(r, k, out, suspects)
        if not below:
            return
        apothem = self.apothems[i]
        filled = own.filled()
        floor = spec.block_bottom_z(len(below))
        iou, ratio, centre, tilt, towards = self._leaning_fit(
            filled, own.box, _centroid(filled, own.box), fit.camera, apothem, floor)
        px, py = spec.peg_xy(k)
        off_axis = math.hypot(centre[0] - px, centre[1] - py)
        support = self.apothems[int(below[-1].name[1:]) - 1] / math.cos(math.pi / spec.segments)
        peg: Obstacle = ((px, py), spec.peg_radius, 'p%d' % k, spec.peg_height)
        solid = ring_solid_points(centre, apothem, spec.block_height, spec.segments, tilt,
                                  towards)
        gap, _ = _solid_gap(solid, [peg])
        # where it touches the block below: its lowest points, which may hang down that
        # block's side by up to a block's height where the ring leans on its rim (4 blocks
        # with slips, seed 20040: b1 on its edge on b2's rim leaning on p2, centre 26 mm off
        # the axis, b2's corners at 24 mm, its low edge fitted 34 mm off)
        low = solid[solid[:, 2] <= solid[:, 2].min() + 0.001]
        low_edge = float(np.hypot(*(low[:, :2].mean(axis=0) - (px, py))))
        if place is None:     # how its place fits it: this frame's, none when not near it
            place = self._place_fits.get(r.name, 0.0)
        self.last_fits.setdefault(r.name, {})['stack_lean_overlap'] = iou
        if (iou < LEAN_OVERLAP or not LEAN_AREA[0] <= ratio <= LEAN_AREA[1]
                or iou < max(place + PLACE_SHAPE_MARGIN, on_table)
                or (off_axis > support and low_edge > support + spec.block_height)
                or gap < -STACK_LEAN_CLEARANCE):
            miss = ('not tilted on %s beside the tip of p%d (overlap %.2f, area %.2f, centre '
                    '%.0f mm off its axis, low edge %.0f mm, %.1f mm from the peg)'
                    % (below[-1].name, k, iou, ratio, 1000 * off_axis, 1000 * low_edge,
                       1000 * gap))
            r.note = '; '.join(n for n in (r.note, miss) if n)
            return
        why = suspects[r.name] or 'off its place on the stack'
        r.peg, r.visible, r.confidence = 0, True, PERCHED_CONFIDENCE
        r.rests_on = below[-1].name
        self._on_stack_of[r.name] = k
        yaw = math.remainder(towards + math.pi / 2, math.pi)
        r.pose = LoosePose(float(centre[0]), float(centre[1]), float(centre[2]), yaw, False,
                           float(tilt))
        r.pixel, r.area = own.centre, own.area
        r.height = r.level = 0.0
        r.note = 'tilted %.0f deg on %s beside the tip of p%d, %.0f mm off its axis (%s, hand ' \
                 'empty)' % (math.degrees(tilt), below[-1].name, k, 1000 * off_axis, why)

    def _threaded(self, level: int) -> bool:
        """Return whether a ring at ``level`` has over ``SHIFTED_TIP`` heights of peg in it."""
        spec = self.spec
        return spec.block_bottom_z(level) < spec.peg_height - SHIFTED_TIP * spec.block_height

    def _suspects(self, out: Sequence[BlockReading]) -> Dict[str, str]:
        """Return the blocks that may be off the pegs: {name: why off its place ('' unseen)}."""
        suspects: Dict[str, str] = {}
        for r in out:
            if r.peg == 0 or not r.visible:
                suspects[r.name] = ''
            elif r.pixel is not None:
                off = self._off_place(r, out)
                if off:
                    suspects[r.name] = off
        return suspects

    def _place_outline(self, r: BlockReading, out: Sequence[BlockReading],
                       camera: PinholeCamera) -> np.ndarray:
        """Return the image outline ``r`` has at its place on its peg."""
        spec = self.spec
        x, y = spec.peg_xy(r.peg)
        return ring_outline(camera, (x, y, spec.block_centre_z(_rank(r, out))),
                            self.apothems[int(r.name[1:]) - 1], spec.block_height,
                            spec.segments)

    @staticmethod
    def _outline_mask(shape: Tuple[int, ...], *outlines: np.ndarray) -> np.ndarray:
        """Return a whole-image mask of the outlines, grown by two pixels."""
        mask = np.zeros(shape[:2], np.uint8)
        for outline in outlines:
            cv2.fillConvexPoly(mask, np.round(outline * 16).astype(np.int32), 1, shift=4)
        return cv2.dilate(mask, np.ones((5, 5), np.uint8)).astype(bool)

    def _without_loose(self, blob: Blob, out: Sequence[BlockReading],
                       camera: PinholeCamera) -> Blob:
        """
        Return ``blob`` without the pixels inside a loose reading's outline.

        A lit face of a ring lying against a stack reads in a close colour, the colour of the
        ring on that peg: its pixels are the loose ring's, not outside that ring's place.
        """
        spec = self.spec
        outlines = []
        for q in out:
            if not q.loose or q.pose is None:
                continue
            apothem = self.apothems[int(q.name[1:]) - 1]
            centre = (q.pose.x, q.pose.y, q.pose.z)
            tilt = 0.0 if not math.isfinite(q.pose.tilt) else q.pose.tilt
            side = (q.pose.yaw if math.isfinite(q.pose.yaw) else 0.0) - math.pi / 2
            for turn in (0.0, math.pi / spec.segments):      # every yaw: flats and corners
                for towards in (side, side + math.pi):
                    outlines.append(ring_outline(camera, centre, apothem, spec.block_height,
                                                 spec.segments, turn, tilt, towards))
        if not outlines:
            return blob
        keep = blob.mask & ~self._outline_mask(blob.mask.shape,
                                               *[o - blob.box[:2] for o in outlines])
        return _blob_of(keep, blob.box) if keep.any() else blob

    def _place_shape(self, r: BlockReading, out: Sequence[BlockReading], blob: Blob,
                     camera: PinholeCamera) -> float:
        """
        Return how well ``r``'s place on its peg fits ``blob``: intersection over union.

        The peg's pixels inside the place's outline count as the ring's (the peg out of its
        hole hides the ring's back), and so do those of a ring loose on the table in front of
        the peg (:meth:`_in_front`). The answer is kept for the frame (``_place_fits``).
        """
        outline = self._place_outline(r, out, camera)
        hidden = None if self._peg_mask is None else self._peg_mask.copy()
        for q in out if hidden is not None else ():
            b = self._blobs.get(q.name)
            if q.name != r.name and b is not None and self._in_front(q, r.peg):
                hidden[b.box[1]:b.box[3], b.box[0]:b.box[2]] |= b.filled()
        if hidden is not None:
            blob = _with_hidden(blob, hidden, outline)
        iou = overlap(blob.filled(), blob.box, outline)[0]
        self._place_fits[r.name] = iou
        return iou

    def _inside_place(self, r: BlockReading, out: Sequence[BlockReading], blob: Blob,
                      camera: PinholeCamera) -> float:
        """Return the share of ``blob`` inside the outline ``r`` has at its place on its peg."""
        outline = self._place_outline(r, out, camera)
        inside = self._outline_mask(blob.mask.shape, outline - blob.box[:2])
        return float(np.count_nonzero(blob.mask & inside)) / max(int(blob.mask.sum()), 1)

    def _off_place(self, r: BlockReading, out: Sequence[BlockReading]) -> str:
        """Return why ``r`` is not where a block on its peg would be seen ('' when it is)."""
        k = r.peg - 1
        cols = self._fit_columns
        levels = cols.shape[1]
        a, b = cols[k, 0], cols[k, levels - 1]
        d = b - a
        length = max(float(np.hypot(*d)), 1e-9)
        uv = np.asarray(r.pixel, float)
        along = float(np.dot(uv - a, d)) / length ** 2 * (levels - 1)
        across = abs(float(np.dot(uv - a, np.array([-d[1], d[0]]) / length))) / self.ppm[k]
        rank = _rank(r, out)
        if not PLACE_BAND[0] <= along - rank <= PLACE_BAND[1]:
            seen = self._visible_along(r, out, a, d, length, levels)
            if seen is None or not PLACE_BAND[0] <= along - seen <= PLACE_BAND[1]:
                return 'level %.1f seen where its stack puts it at %d' % (along, rank)
        if across > self.settings.column_ok:
            return '%.0f mm off the p%d column' % (1000 * across, r.peg)
        odd = ''
        higher = [q for q in out if q.visible and q.peg == r.peg and q.height > r.height]
        top = not higher
        if top and rank > 0:
            beside = self._beside_the_tip(r, rank)
            if beside:
                return beside
        # under a larger ring: a ring leaning on the table in front of a peg falls in its
        # column below the ring on it (5 blocks with slips, seed 20076: b1 leaning 44 degrees
        # against b2 alone on p2 read under it at level -0.8, and b2, seen a level low, was
        # refused until the episode was lost); one truly under a larger ring lies inside its
        # place, the larger one hiding some of it
        under_larger = bool(higher) and (int(min(higher, key=lambda q: q.height).name[1:])
                                         > int(r.name[1:]))
        if top or under_larger:
            blob = self._blobs.get(r.name)
            # its place threaded on the peg: a ring there is nearly centred (one above the tip
            # lies on the ring below wherever it was let go: its place says little of it)
            if blob is not None and self.last_fit is not None and self._threaded(rank):
                # alone on its peg: a ring standing on its edge against the peg, facing the
                # camera, falls in the column at level 0 with the tip showing (3 blocks with
                # slips: read on p1 while on the table, the grasp at the peg missed it 5 times)
                # On a stack, one on its edge on the block below fits its place little (5
                # blocks with slips: b1 on b5, 0.47) but lies inside it.
                if rank == 0:
                    inside = self._inside_place(r, out, blob, self.last_fit.camera)
                    if inside < PLACE_INSIDE:
                        return 'only %.0f%% inside where it would be on p%d' % (100 * inside,
                                                                                r.peg)
                # nearly all inside but of another shape: a ring on its edge in front of the
                # peg, facing the camera, fits there at 0.67 (4 blocks with slips: b2 read on
                # p1 for 12 frames); rings on their peg, 0.95 (median; 5 % under 0.88)
                shape = self._place_shape(r, out, blob, self.last_fit.camera) if top else 1.0
                if shape < PLACE_SHAPE:      # the weakest reason: the others first
                    odd = 'shape: its place fits it at overlap %.2f' % shape
            if not top:
                return odd
            spec = self.spec
            if spec.block_bottom_z(rank + 1) <= spec.peg_height - PEG_TIP_SHOWS \
                    and r.peg not in self.tips_seen and not self._on_tip(r.peg, out):
                return 'hidden: the tip of p%d is not seen above it' % r.peg
            other, share = self._covered_by(r, rank)
            cover = next((q for q in out if q.name == 'b%d' % other and q.loose), None)
            above = cover is not None and cover.lifted_from == r.peg
            if share > PLACE_COVERED and not above and not self._in_front(cover, r.peg):
                # (a ring resting across this peg's tip lies on it, as one on the peg would:
                # 5 blocks with slips, b3 flat on b1 on p2, b1 read behind the stack; one
                # loose on the table nearer the camera than the peg hides the ring there:
                # 5 blocks with slips, b3 leaning 47 degrees on b5 alone on p3 covered a
                # third of b5's place, and b5 was refused until the episode was lost)
                return 'hidden: b%d shows where it would be on p%d (%.0f%%)' % (
                    other, r.peg, 100 * share)
        return odd

    def _over_a_nearer_ring(self, own: Blob, centre: np.ndarray, camera: PinholeCamera,
                            stacked: Sequence[Tuple[str, np.ndarray, float]]
                            ) -> Tuple[float, str]:
        """
        Return the largest share of ``own`` inside a nearer stacked ring's place, and its name.

        A ring read on the table at ``centre`` behind a ring on a peg nearer the camera is
        hidden by it wherever the two overlap in the image: none of its own pixels can show
        inside that ring's silhouette. Where they do, it is in front of that ring there:
        above it, resting on its stack, not on the table behind (the two are one silhouette
        from one camera: 5 blocks with slips, b1 tilted 57 degrees on b5 beside p2's tip,
        seed 20051, and b2 on its edge on b3 on p1, seed 20033, were read on the table 43-55
        mm behind, in 6 frames). ``stacked``: ``(name, place centre, apothem)`` of each ring
        on a peg; their places are shrunk by ``OVER_MARGIN_PX`` for their error.
        """
        depth = camera.to_camera([centre])[0, 2]
        x0, y0, x1, y1 = own.box
        kernel = np.ones((2 * OVER_MARGIN_PX + 1, 2 * OVER_MARGIN_PX + 1), np.uint8)
        total = max(int(own.mask.sum()), 1)
        best = (0.0, '')
        for name, at, apothem in stacked:
            if camera.to_camera([at])[0, 2] > depth - apothem:
                continue
            place = np.zeros(own.mask.shape, np.uint8)
            outline = ring_outline(camera, at, apothem, self.spec.block_height,
                                   self.spec.segments) - (x0, y0)
            cv2.fillConvexPoly(place, np.round(16 * outline).astype(np.int32), 1, shift=4)
            inside = cv2.erode(place, kernel).astype(bool)
            share = float(np.count_nonzero(own.mask & inside)) / total
            if share > best[0]:
                best = (share, name)
        return best

    def _beside_the_tip(self, r: BlockReading, rank: int) -> str:
        """
        Return why a top ring above its peg's tip is off the column ('' when it is not).

        Above the tip (its place not threaded: :meth:`_threaded`) nothing holds a ring
        centred: it lies on the block below wherever it was let go, and it is on the peg
        only while its hole is over the peg's axis, its centre within ``hole_apothem`` of it
        (as the ground truth has it). The column's band (``column_ok``, 15 mm) says too little
        of that (5 blocks with slips, seeds 20003 and 20056: b1 on b2 12-13 mm off p1's axis,
        tilted 10-12 degrees, read stacked in 4 frames). With the hand empty its centre is
        first where the ray through its blob's centroid meets the plane of its place's
        centre (corrected for perspective, as for a ring on the table: 6-7 mm off the truth
        for those two, tilted); from ``hole_apothem - peg_radius`` off the axis on (where
        the peg's tip, if it reaches the ring, is under its body) it is fitted lying or
        tilted up to ``BESIDE_TILTS_DEG`` with its low edge on the block below
        (:meth:`_leaning_search`: within 1.2 mm of the truth for both). A fit of at least
        ``LOOSE_TILTED_OVERLAP`` with its centre beyond ``hole_apothem`` takes it off the
        column, to be read lying or tilted on the block below (:meth:`_shifted_reading`,
        :meth:`_tilted_on_stack_reading`); anything less leaves it as seen.
        """
        key = (r.name, rank)
        if key in self._beside:
            return self._beside[key]
        self._beside[key] = why = self._off_the_axis(r, rank)
        return why

    def _off_the_axis(self, r: BlockReading, rank: int) -> str:
        """Compute :meth:`_beside_the_tip`."""
        blob = self._blobs.get(r.name)
        if (self.hand_empty is not True or blob is None or self.last_fit is None
                or self._threaded(rank)):
            return ''
        spec = self.spec
        camera = self.last_fit.camera
        apothem = self.apothems[int(r.name[1:]) - 1]
        filled = blob.filled()
        target = _centroid(filled, blob.box)
        px, py = spec.peg_xy(r.peg)
        centre = _ring_centre(camera, target, spec.block_centre_z(rank), apothem,
                              spec.block_height, spec.segments)
        if (centre is None or math.hypot(centre[0] - px, centre[1] - py)
                <= spec.hole_apothem - spec.peg_radius):
            return ''
        iou, _ratio, centre, tilt, towards = self._leaning_search(
            filled, blob.box, target, camera, apothem, spec.block_bottom_z(rank),
            tilts=BESIDE_TILTS_DEG)
        off_axis = math.hypot(centre[0] - px, centre[1] - py)
        if iou < LOOSE_TILTED_OVERLAP or off_axis <= spec.hole_apothem:
            return ''
        self._beside_fits[r.name] = (iou, centre, tilt, towards)
        return ('centre %.0f mm off the axis of p%d above its tip (tilted %.0f deg), its hole '
                'clear of the column' % (1000 * off_axis, r.peg, math.degrees(tilt)))

    def _beside_reading(self, r: BlockReading, k: int, own: Blob, out: Sequence[BlockReading],
                        suspects: Dict[str, str]) -> None:
        """
        Make ``r`` loose on the top of peg ``k``'s stack from its :meth:`_beside_the_tip` fit.

        ``loose(b, block below)`` at the fitted centre, upright under the ground truth's 15
        degrees, with the line across its low side as yaw when tilted, confidence
        ``SHIFTED_CONFIDENCE``.
        """
        below = _stack_below(r, k, out, suspects)
        fit = self._beside_fits.get(r.name)
        if not below or fit is None:
            return
        iou, centre, tilt, towards = fit
        px, py = self.spec.peg_xy(k)
        upright = math.degrees(tilt) < BESIDE_UPRIGHT_DEG - 1e-6   # (the grid hits 15.0)
        yaw = math.nan if upright else math.remainder(towards + math.pi / 2, math.pi)
        r.note = '; '.join(n for n in (r.note, '%s on %s beside the tip of p%d, %.0f mm off its '
                                       'axis (%s, hand empty)' % (
                                           'lying' if upright else 'tilted %.0f deg'
                                           % math.degrees(tilt), below[-1].name, k,
                                           1000 * math.hypot(centre[0] - px, centre[1] - py),
                                           suspects[r.name])) if n)
        r.peg, r.visible, r.confidence = 0, True, SHIFTED_CONFIDENCE
        r.rests_on = below[-1].name
        self._on_stack_of[r.name] = k
        r.pose = LoosePose(float(centre[0]), float(centre[1]), float(centre[2]), yaw, upright,
                           float(tilt))
        r.pixel, r.area = own.centre, own.area
        r.height = r.level = 0.0
        self.last_fits.setdefault(r.name, {})['beside_overlap'] = iou

    def _in_front(self, q: Optional[BlockReading], peg: int) -> bool:
        """Tell whether ``q`` is a ring loose on the table nearer the camera than ``peg``."""
        if (q is None or not q.loose or q.rests_on != TABLE or q.pose is None
                or self.last_fit is None):
            return False
        eye = np.asarray(self.last_fit.camera.position, float)[:2]
        x, y = self.spec.peg_xy(peg)
        return bool(np.hypot(*(eye - (q.pose.x, q.pose.y))) < np.hypot(*(eye - (x, y))))

    def _visible_along(self, r: BlockReading, out: Sequence[BlockReading], a: np.ndarray,
                       d: np.ndarray, length: float, levels: int) -> Optional[float]:
        """
        Return the level along its column at which ``r``'s place would show its centre.

        The centre of the part of its place's outline that the rings above it on its peg leave
        in view: the rings above hide a ring's top, and its seen centre falls below its level
        (6 blocks, no faults: b6 under b5, a thin band in view, seen at level -1.0 at level 0;
        the episode ended "lost sight"). None without a camera fit, and under a larger ring: a
        ring seen below a larger one's place is not under it (4 blocks with slips, seed 20043:
        b1 flat on the table in front of b4 on p1, at level -1.9, was put under b4 and b4 then
        refused off its place until the episode ended).
        """
        above = [q for q in out if q.visible and q.peg == r.peg and q.height > r.height]
        if self.last_fit is None or any(int(q.name[1:]) > int(r.name[1:]) for q in above):
            return None
        camera = self.last_fit.camera
        own = self._place_outline(r, out, camera)
        hiders = [self._place_outline(q, out, camera) for q in above]
        x0, y0 = np.floor(own.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(own.max(axis=0)).astype(int) + 3
        mask = np.zeros((int(y1 - y0), int(x1 - x0)), np.uint8)
        cv2.fillConvexPoly(mask, np.round((own - (x0, y0)) * 16).astype(np.int32), 1, shift=4)
        seen = mask.astype(bool)
        if hiders:
            seen &= ~self._outline_mask(mask.shape, *[h - (x0, y0) for h in hiders])
        vs, us = np.nonzero(seen)
        if us.size == 0:
            return None
        centre = np.array([us.mean() + x0, vs.mean() + y0])
        return float(np.dot(centre - a, d)) / length ** 2 * (levels - 1)

    @staticmethod
    def _on_tip(k: int, out: Sequence[BlockReading]) -> bool:
        """Return whether a block seen above peg ``k``'s stack may be what hides its tip."""
        return any(q.visible and q.lifted_from == k for q in out)

    def _covered_by(self, r: BlockReading, level: int) -> Tuple[int, float]:
        """
        Return the block most seen where ``r`` would be at ``level`` on its peg, and its share.

        Nothing in a stack hides its top block (only something in front of it, the arm): a
        "top block" whose place shows the block below is one lying behind the stack.
        """
        spec = self.spec
        i = int(r.name[1:]) - 1
        x, y = spec.peg_xy(r.peg)
        x0, y0 = self.roi[0], self.roi[1]
        labels = self.last_labels
        outline = ring_outline(self.last_fit.camera, (x, y, spec.block_centre_z(level)),
                               self.apothems[i], spec.block_height, spec.segments) - (x0, y0)
        inside = np.zeros(labels.shape, np.uint8)
        cv2.fillConvexPoly(inside, np.round(outline * 16).astype(np.int32), 1, shift=4)
        seen = labels[inside.astype(bool)]
        if not seen.size:
            return 0, 0.0
        counts = np.bincount(seen, minlength=self.num_blocks + 2)[1:self.num_blocks + 1]
        counts[[i] + [j - 1 for j in self.neighbours[i]]] = 0
        other = int(np.argmax(counts))
        return other + 1, float(counts[other]) / seen.size

    def _with_neighbours(self, own: Blob, neighbours: Optional[np.ndarray],
                         polygon: Optional[np.ndarray]) -> Tuple[Blob, float]:
        """
        Return ``own`` with the touching pixels of a close colour, and its own colour's share.

        A lit face of an orange ring reads yellow. The pixels of a close colour are those inside
        ``polygon`` (grown by a pixel), or touching ``own`` when there is no polygon yet. Parts
        of its own colour outside ``polygon`` that touch the close colour there are left out
        (the lit face of that other block).
        """
        if neighbours is None:
            return own, 1.0
        h, w = neighbours.shape
        if polygon is None:
            x0, y0, x1, y1 = own.box
            pad = int(self.radius_px.max())
            x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
            both = neighbours[y0:y1, x0:x1].astype(np.uint8)
            both[own.box[1] - y0:own.box[3] - y0, own.box[0] - x0:own.box[2] - x0][own.mask] = 1
            _n, lab = cv2.connectedComponents(both, connectivity=8)
            hit = np.unique(lab[own.box[1] - y0:own.box[3] - y0,
                                own.box[0] - x0:own.box[2] - x0][own.mask])
            touching = np.isin(lab, hit[hit > 0])
            ys, xs = np.nonzero(touching)
            polygon = cv2.convexHull(np.column_stack([xs + x0, ys + y0]).astype(np.float32)
                                     ).reshape(-1, 2)
        x0 = int(max(0, min(own.box[0], math.floor(polygon[:, 0].min()) - 3)))
        y0 = int(max(0, min(own.box[1], math.floor(polygon[:, 1].min()) - 3)))
        x1 = int(min(w, max(own.box[2], math.ceil(polygon[:, 0].max()) + 4)))
        y1 = int(min(h, max(own.box[3], math.ceil(polygon[:, 1].max()) + 4)))
        if x1 <= x0 or y1 <= y0:
            return own, 1.0
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(inside, np.round((polygon - (x0, y0)) * 16).astype(np.int32), 1,
                           shift=4)
        inside = cv2.dilate(inside, np.ones((3, 3), np.uint8)).astype(bool)
        mask = neighbours[y0:y1, x0:x1] & inside
        mine = np.zeros_like(mask)
        ox0, oy0 = max(own.box[0], x0), max(own.box[1], y0)
        ox1, oy1 = min(own.box[2], x1), min(own.box[3], y1)
        mine[oy0 - y0:oy1 - y0, ox0 - x0:ox1 - x0] = \
            own.mask[oy0 - own.box[1]:oy1 - own.box[1], ox0 - own.box[0]:ox1 - own.box[0]]
        outside = (mine & ~inside).astype(np.uint8)
        if outside.any():
            count, parts = cv2.connectedComponents(outside, connectivity=8)
            near = cv2.dilate((neighbours[y0:y1, x0:x1] & ~inside).astype(np.uint8),
                              np.ones((5, 5), np.uint8)).astype(bool)
            faces = np.unique(parts[near & outside.astype(bool)])
            mine &= ~np.isin(parts, faces[faces > 0])
        mask |= mine
        blob = _blob_of(mask, (x0, y0, x1, y1))
        return blob, float(mine.sum()) / max(blob.area, 1)

    def _edge_fit(self, filled: np.ndarray, box: Sequence[int], start: np.ndarray,
                  apothem: float, image_size: Tuple[int, int], camera: PinholeCamera
                  ) -> Tuple[float, float, float, np.ndarray]:
        """
        Fit a flat ring on the table to a blob the image border cuts.

        Searches the centre on the table plane around ``start`` (a grid of steps of a third of
        the apothem out to ``LOOSE_EDGE_STEPS[0]`` of them, then ``LOOSE_EDGE_STEPS[1]``
        rounds of half steps) and the ``LOOSE_YAWS`` orientations, scoring each outline by
        :func:`clipped_overlap`. Returns ``(share of the outline in the frame, intersection
        over union, area ratio, centre)`` of the best; the share is 0 when none overlaps.
        """
        spec = self.spec
        yaw_step = 2 * math.pi / spec.segments / LOOSE_YAWS
        best: Tuple[float, float, float, np.ndarray] = (0.0, 0.0, 0.0, np.array(start, float))

        def trial(cx: float, cy: float) -> None:
            nonlocal best
            at = np.array([cx, cy, start[2]], float)
            for k in range(LOOSE_YAWS):
                outline = ring_outline(camera, at, apothem, spec.block_height, spec.segments,
                                       k * yaw_step)
                iou, ratio, in_frame = clipped_overlap(filled, box, outline, image_size)
                if iou > best[1]:
                    best = (in_frame, iou, ratio, at)

        step = apothem / 3.0
        reach, rounds = LOOSE_EDGE_STEPS
        for i in range(-reach, reach + 1):
            for j in range(-reach, reach + 1):
                trial(start[0] + i * step, start[1] + j * step)
        for _ in range(rounds):
            step /= 2.0
            cx, cy = best[3][0], best[3][1]
            for i in (-1, 0, 1):
                for j in (-1, 0, 1):
                    if i or j:
                        trial(cx + i * step, cy + j * step)
        return best

    def _table_reading(self, r: BlockReading, i: int, own: Blob,
                       neighbours: Optional[np.ndarray], fit: CameraFit,
                       keep_off: Sequence[Obstacle],
                       image_size: Tuple[int, int],
                       hidden: Sequence[Tuple[Optional[np.ndarray], np.ndarray]] = (),
                       stacked: Sequence[Tuple[str, np.ndarray, float]] = ()
                       ) -> bool:
        """
        Make ``r`` loose on the table when its blob is a whole flat ring clear of the rest.

        With the hand empty a ring leaning on its edge is tried too. ``hidden``: what may stand
        in front of the ring, ``(world point, its pixels: bool over the image)`` of each peg;
        the pixels inside the ring's outline of one at least the ring's apothem nearer the
        camera than the ring's centre, or with no point (the arm), are the ring's.
        ``stacked``: the rings on pegs it may lie behind (:meth:`_over_a_nearer_ring`). Returns
        whether ``r`` was made loose as such a leaning ring (the weakest of the table
        readings).
        """
        spec = self.spec
        camera = fit.camera
        blob = own

        def refuse(why: str) -> bool:
            r.peg, r.pose, r.confidence, r.visible = 0, None, 0.0, True
            r.pixel, r.area = blob.centre, blob.area
            r.note = '; '.join(n for n in (r.note if r.note != 'colour not seen' else '', why)
                               if n)
            return False

        width, height = image_size
        z = spec.block_centre_z(0)
        apothem = self.apothems[i]
        polygon = centre = None
        for _ in range(LOOSE_REGION_STEPS):   # what touches it, then what is in its outline
            blob, share = self._with_neighbours(own, neighbours, polygon)
            if polygon is not None and centre is not None:
                # a peg in front of the ring (4 blocks with slips: b1 lying flat behind p2,
                # the peg across it; overlap 0.61, refused until the episode ended)
                depth = camera.to_camera([centre])[0, 2]
                for at, pixels in hidden:
                    if at is None or camera.to_camera([at])[0, 2] <= depth - apothem:
                        blob = _with_hidden(blob, pixels, polygon)
            filled = blob.filled()
            target = _centroid(filled, blob.box)
            centre = _ring_centre(camera, target, z, apothem, spec.block_height, spec.segments)
            if centre is None:
                return refuse('off the pegs, not on the table')
            polygon = ring_outline(camera, centre, apothem, spec.block_height, spec.segments)
        x0, y0, x1, y1 = own.box
        e = LOOSE_EDGE_PX
        cut = x0 <= e or y0 <= e or x1 >= width - e or y1 >= height - e
        if share < LOOSE_OWN_SHARE:
            return refuse('off the pegs, mostly in another block\'s colour')
        step = 2 * math.pi / spec.segments / LOOSE_YAWS
        if cut:
            # across the border: the centroid of what is in the frame lies inside the ring's
            # true centre; the flat ring whose part in the frame fits the blob best (5 blocks
            # with slips, seeds 20002 and 20033: a slipped ring lay flat at the image's side,
            # 70 % in view, refused "cut by the image edge" until the episode was lost)
            in_frame, iou, ratio, centre = self._edge_fit(filled, blob.box, centre, apothem,
                                                          image_size, camera)
            if in_frame < LOOSE_EDGE_IN_FRAME:
                return refuse('off the pegs, cut by the image edge (%.0f%% of it in the frame)'
                              % (100 * in_frame))
            self._edge_cut[r.name] = in_frame
        else:
            fits = [overlap(filled, blob.box, ring_outline(camera, centre, apothem,
                                                           spec.block_height, spec.segments,
                                                           k * step))
                    for k in range(LOOSE_YAWS)]
            iou, ratio = max(fits)

        def clearance(at: Sequence[float], reach: float) -> Tuple[float, str]:
            """Return the least gap (m) from a ring reaching ``reach`` at ``at``, and to what."""
            gaps = [(math.hypot(at[0] - xy[0], at[1] - xy[1]) - reach - radius, what)
                    for xy, radius, what, _ in keep_off]
            return min(gaps) if gaps else (math.inf, '')

        gap, what = clearance(centre, apothem)
        sigma = fit.plane_sigma(target, z)
        self.last_fits[r.name] = {'x': float(centre[0]), 'y': float(centre[1]),
                                  'overlap': iou, 'area': ratio, 'gap': gap, 'sigma': sigma,
                                  'share': share}
        where = 'at (%.3f, %.3f)' % (centre[0], centre[1])
        flat = iou >= LOOSE_MIN_OVERLAP and LOOSE_AREA[0] <= ratio <= LOOSE_AREA[1]
        # a blob much in a close colour may be two blocks run together, unless it is one
        # ring's outline nearly whole and no larger (a lit top face of an orange ring reads
        # yellow: b2 tilted 7 degrees on b3's edge, own colour 65 %, overlap 0.91, area 0.94)
        one = share >= LOOSE_TILTED_SHARE or (iou >= LOOSE_NEAR_FLAT_OVERLAP
                                              and ratio <= LOOSE_NEAR_FLAT_AREA)
        tilted = (not flat and iou >= LOOSE_TILTED_OVERLAP and one
                  and LOOSE_TILTED_AREA[0] <= ratio <= LOOSE_TILTED_AREA[1])
        leaning = None
        leaned = False
        yaw = l_tilt = float('nan')
        self.last_fits[r.name]['blocked_by'] = what if gap < -LOOSE_CLEARANCE else ''
        # a ring standing on its edge or leaning against a peg or a stack reaches less far
        # than a flat one: one that nearly fits flat but runs into its neighbour is tried
        # leaning too (seen in 5-block episodes with slips: rings on their edge against p1
        # and p2, overlap 0.81-0.85 flat, 6-11 mm 'into' the peg, refused until the end)
        # A blob little in its own colour (a lit face reads as a close colour) is one ring
        # leaning only when it is no larger than that ring's leaning outline (two rings run
        # together are larger than one); then the leaning fit is tried even where the flat
        # one passed on that rule (4 blocks with slips: b2 leaning 23 degrees on b1, 67 %
        # orange; flat 0.90 and 11 mm off, leaning 0.96 and 1 mm off). Its fit need only pass
        # LEAN_OVERLAP: a ring on its edge fits less well than a flat one (5 blocks with
        # slips: b2 on its edge beside p2, lit yellow, leaning fit 0.84-0.86, area under 1).
        # A ring that is not flat is tried leaning even where a tilted flat fit passed: where
        # it fits better, it is nearer the truth (4 blocks with slips: b2 leaning 34 degrees,
        # tilted flat 14 mm off).
        mixed = share < LOOSE_TILTED_SHARE
        if self.hand_empty is True and not flat:
            # a ring in the gripper above the table looks like one leaning on something: only
            # with nothing in the hand is it that
            leaning = self._leaning_fit(filled, blob.box, target, camera, apothem)

            def solid_gap(lean: Tuple[float, float, np.ndarray, float, float]
                          ) -> Tuple[float, str]:
                return _solid_gap(ring_solid_points(lean[2], apothem, spec.block_height,
                                                    spec.segments, lean[3], lean[4]), keep_off)
            # leaning on something, a ring reaches over it above its top: what it must keep
            # clear of is what it would run into in space (4 blocks with slips: b2 leaning
            # from the table onto b1 on p2, fitted 1.4 mm from the truth, refused 5.7 mm
            # 'into' b1's footprint)
            l_gap, l_what = solid_gap(leaning)
            if l_gap < -LEAN_CLEARANCE:
                # the silhouette of a ring on its edge and of one leaning less far are much
                # alike: the best pose clear of the rest, when it fits nearly as well (5
                # blocks with slips: b5 on its edge in front of p1, 0.96 at 45 degrees into
                # the peg, read across p1's tip instead in 14 frames)
                clear = self._leaning_fit(filled, blob.box, target, camera, apothem,
                                          clear_of=keep_off)
                if clear[0] >= leaning[0] - LEAN_CLEAR_MARGIN:
                    leaning = clear
                    l_gap, l_what = solid_gap(leaning)
            standing = False
            if math.degrees(leaning[3]) < LEAN_UNSUPPORTED_TILT_DEG and l_gap > LEAN_SUPPORT_GAP:
                # tilted so with nothing to rest on it would fall: it stands on its edge, whose
                # silhouette from above is much like a nearly flat ring's (a ring on its edge,
                # sim-rendered beside p2: fitted tilted 11-12 degrees, 9-15 mm off; on its
                # edge 0.02-0.08 worse, 2-7 mm off). Nor is it a flat ring tilted up.
                edge = self._leaning_fit(filled, blob.box, target, camera, apothem,
                                         clear_of=keep_off, tilts=LEAN_STANDING_TILTS_DEG)
                if edge[0] >= max(LEAN_OVERLAP, leaning[0] - LEAN_STANDING_MARGIN):
                    self.last_fits[r.name]['unsupported_lean_deg'] = math.degrees(leaning[3])
                    leaning, standing = edge, True
                    l_gap, l_what = solid_gap(leaning)
            whole = not mixed or leaning[1] <= LOOSE_NEAR_FLAT_AREA
            better = not tilted or standing or gap < -LOOSE_CLEARANCE or leaning[0] > iou
            if (leaning[0] >= LEAN_OVERLAP and LEAN_AREA[0] <= leaning[1] <= LEAN_AREA[1]
                    and whole and better and (not tilted or l_gap >= -LEAN_CLEARANCE)):
                l_iou, l_ratio, centre, l_tilt, l_towards = leaning
                z = float(centre[2])
                gap, what = l_gap, l_what
                sigma = fit.plane_sigma(target, z)
                where = 'at (%.3f, %.3f)' % (centre[0], centre[1])
                iou, ratio, tilted, leaned = l_iou, l_ratio, True, True
                # the line its tilt turns about, across the low side: the fingers close along
                # it onto the ring's edges (along the axis they would miss its faces)
                yaw = math.remainder(l_towards + math.pi / 2, math.pi)
                self._lean_poses[r.name] = (np.array(centre, float), l_tilt, l_towards)
                self.last_fits[r.name].update({'lean_overlap': l_iou, 'lean_area': l_ratio,
                                               'lean_tilt_deg': math.degrees(l_tilt)})
        if not flat and not tilted:
            lean_note = ('' if leaning is None
                         else '; leaning: overlap %.2f, area %.2f' % leaning[:2])
            return refuse('off the pegs, not a whole flat ring %s (overlap %.2f, area %.2f%s; '
                          'partly hidden, lifted or tilted?)' % (where, iou, ratio, lean_note))
        if gap < -(LEAN_CLEARANCE if leaned else LOOSE_CLEARANCE):
            return refuse('off the pegs %s, on %s?' % (where, what))
        over, nearer = self._over_a_nearer_ring(own, centre, camera, stacked)
        if over > OVER_SHARE:
            return refuse('off the pegs %s, not on the table behind %s: %.0f%% of it shows '
                          'inside where %s is, nearer the camera (on its stack?)'
                          % (where, nearer, 100 * over, nearer))
        if flat:
            shape = 0.6 + 0.4 * min(1.0, (iou - LOOSE_MIN_OVERLAP)
                                    / (LOOSE_FULL_OVERLAP - LOOSE_MIN_OVERLAP))
        else:
            shape = LOOSE_TILTED_CONFIDENCE
        sure = min(1.0, 0.5 ** ((sigma - LOOSE_SIGMA_OK) / (LOOSE_SIGMA_MAX - LOOSE_SIGMA_OK)))
        conf = shape * sure
        r.peg, r.visible, r.confidence = 0, True, round(conf, 4)
        tilt = 0.0 if flat else (l_tilt if leaned else math.nan)
        r.pose = LoosePose(float(centre[0]), float(centre[1]), float(z), yaw, flat, tilt)
        r.pixel, r.area = blob.centre, blob.area
        r.height = r.level = 0.0
        notes = [] if flat else ['not flat (overlap %.2f, area %.2f): tilted?' % (iou, ratio)]
        if r.name in self._edge_cut:
            notes.append('cut by the image edge: %.0f%% of it in the frame, fitted to that'
                         % (100 * self._edge_cut[r.name]))
        if flat and shape < 1.0:
            notes.append('shape %.2f' % iou)
        if sure < 1.0:
            notes.append('position +-%.0f mm' % (1000 * sigma))
        r.note = ', '.join(notes)
        return leaned

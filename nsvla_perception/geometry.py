# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Pinhole geometry of the scene camera: world points to pixels and back, rings, regions of interest.

The camera is the one of the rig file (``nsvla_common.rig``), or of ``camera/camera_info`` when a
camera publishes it: :class:`PinholeCamera` (``nsvla_common.camera``, imported here) with
intrinsics ``fx, fy, cx, cy`` (from ``fovy_deg`` when not given: MuJoCo's square pixels, centred
principal point), an optional lens distortion and a look-at pose; the optical frame has x right,
y down, z forward. A real rig uses the same model with its own YAML.

Back-projection (:meth:`PinholeCamera.on_plane`) intersects a pixel's ray with a horizontal
plane: the table position of a block lying flat is where the ray through its image meets the
plane of its centre, ``z = block_height / 2``. :func:`ring_outline` is the image outline of a
ring block (the convex hull of its two octagons), the shape a fully visible block must have.

A rig's camera is never exactly where its YAML says; a ray cast from the nominal pose misses a
table point by centimetres for a centimetre of pose error. :func:`fit_camera` corrects the pose
(position and look-at point, six offsets with a Gaussian prior) from image features of known
world points and lines (peg tips and bases, the table's edges), and says how sure it is
(:attr:`CameraFit.covariance`, propagated to a table point by :meth:`CameraFit.plane_sigma`).
"""

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from nsvla_common.camera import camera_from_spec, look_at_rotation, PinholeCamera  # noqa: F401
from nsvla_common.errors import ConfigError


def offset_camera(camera: PinholeCamera, offset: Sequence[float]) -> PinholeCamera:
    """Return ``camera`` with its position and look-at point moved by ``offset`` (6, m)."""
    d = np.asarray(offset, float)
    return camera.moved(np.add(camera.position, d[:3]), np.add(camera.look_at, d[3:6]))


@dataclass(frozen=True)
class CameraFit:
    """A camera pose corrected from image features, with the uncertainty of the correction."""

    camera: PinholeCamera
    offset: np.ndarray         # (6,) position and look-at offsets from the nominal camera, m
    covariance: np.ndarray     # (6, 6) of the offsets, m^2 (the prior's when nothing was used)
    used: int                  # measurements kept (a point counts two)
    rejected: int              # measurements dropped as outliers
    rms: float                 # RMS residual of the kept measurements, in their sigmas

    def plane_sigma(self, pixel: Sequence[float], z: float) -> float:
        """Return the standard deviation (m, worst direction) of a pixel's point on plane z."""
        base = self.camera.on_plane([pixel], z)[0, :2]
        jac = np.zeros((2, 6))
        for k in range(6):
            step = np.zeros(6)
            step[k] = 1e-4
            jac[:, k] = (offset_camera(self.camera, step).on_plane([pixel], z)[0, :2]
                         - base) / 1e-4
        cov = jac @ self.covariance @ jac.T
        return float(math.sqrt(max(np.linalg.eigvalsh(cov)[-1], 0.0)))


def feature_residuals(camera: PinholeCamera, points, lines) -> np.ndarray:
    """Return the residuals (in sigmas) of ``fit_camera``'s points and lines under ``camera``."""
    return _Features(points, lines).residuals(camera)


class _Features:
    """The measurements of ``fit_camera``: every world point projected in one call."""

    def __init__(self, points, lines) -> None:
        world, self.n_pts = [np.zeros((0, 3))], 0
        self.ia = self.ib = np.zeros(0, int)
        self.line_px, self.line_sigma = np.zeros((0, 2)), 1.0
        if points is not None and len(points[0]):
            self.n_pts = len(points[0])
            world.append(np.asarray(points[0], float))
            self.pts_px, self.pts_sigma = np.asarray(points[1], float), float(points[2])
        if lines is not None and len(lines[0]):
            ends, inv = np.unique(np.concatenate([lines[0], lines[1]]), axis=0,
                                  return_inverse=True)
            inv = inv.ravel() + self.n_pts
            m = len(lines[0])
            self.ia, self.ib = inv[:m], inv[m:]
            world.append(ends)
            self.line_px, self.line_sigma = np.asarray(lines[2], float), float(lines[3])
        self.world = np.concatenate(world)

    @property
    def size(self) -> int:
        return 2 * self.n_pts + len(self.ia)

    def residuals(self, camera: PinholeCamera) -> np.ndarray:
        uv = camera.project(self.world) if len(self.world) else np.zeros((0, 2))
        out = [((uv[:self.n_pts] - self.pts_px) / self.pts_sigma).ravel()] if self.n_pts else []
        if len(self.ia):
            pa, pb = uv[self.ia], uv[self.ib]
            d = pb - pa
            d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
            q = self.line_px - pa
            out.append((d[:, 0] * q[:, 1] - d[:, 1] * q[:, 0]) / self.line_sigma)
        return np.concatenate(out) if out else np.zeros(0)


def fit_camera(camera: PinholeCamera, prior_sigma: Sequence[float],
               points: Optional[Tuple[np.ndarray, np.ndarray, float]] = None,
               lines: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, float]] = None,
               iterations: int = 6, reject: float = 4.0) -> CameraFit:
    """
    Correct ``camera``'s pose from features: the MAP offsets under a Gaussian prior.

    ``points`` = (world (N, 3), seen pixels (N, 2), sigma px): known points seen there;
    ``lines`` = (a (M, 3), b (M, 3), seen pixels (M, 2), sigma px): a pixel seen on the image of
    the world line through a and b (its distance to that line is the residual). ``prior_sigma``
    (6,) is the spread of the pose error (position, look-at; m). Gauss-Newton, the first half
    of the ``iterations`` with Huber weights; then measurements off by more than ``reject``
    sigmas are dropped (a point as a whole) and the rest is fitted by least squares.
    """
    prior = np.asarray(prior_sigma, float)
    feats = _Features(points, lines)
    keep = np.ones(feats.size)
    offset = np.zeros(6)
    info = np.diag(1.0 / prior ** 2)
    n2 = 2 * feats.n_pts
    robust = iterations // 2
    for it in range(iterations if feats.size else 0):
        res = feats.residuals(offset_camera(camera, offset))
        size = np.abs(res)
        size[:n2] = size[:n2].reshape(-1, 2).max(axis=1).repeat(2)   # a point as a whole
        if it == robust:
            keep[size > reject] = 0.0
        # Huber weights (1 within 1.5 sigma) until the outliers are dropped, then plain least
        # squares: a few wrong features cannot drag the pose, nor down-weight right ones.
        weight = keep if it >= robust else np.minimum(1.0, 1.5 / np.maximum(size, 1e-9))
        jac = np.zeros((res.size, 6))
        for k in range(6):
            step = np.zeros(6)
            step[k] = 1e-5
            jac[:, k] = (feats.residuals(offset_camera(camera, offset + step)) - res) / 1e-5
        wj = jac * weight[:, None]
        info = wj.T @ jac + np.diag(1.0 / prior ** 2)
        grad = wj.T @ res + offset / prior ** 2
        offset = offset - np.linalg.solve(info, grad)
    fitted = offset_camera(camera, offset)
    res = feats.residuals(fitted)[keep > 0] if feats.size else np.zeros(0)
    return CameraFit(fitted, offset, np.linalg.inv(info), int(res.size),
                     int(feats.size - res.size),
                     float(np.sqrt(np.mean(res ** 2))) if res.size else 0.0)


def table_edges(spec) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Return the four edges ``(a, b)`` of the table top (z = 0) in the world frame."""
    cx, cy = spec.table_centre
    hx, hy = spec.table_size[0] / 2.0, spec.table_size[1] / 2.0
    corners = [np.array(c, float) for c in ((cx - hx, cy - hy, 0.0), (cx + hx, cy - hy, 0.0),
                                            (cx + hx, cy + hy, 0.0), (cx - hx, cy + hy, 0.0))]
    return [(corners[k], corners[(k + 1) % 4]) for k in range(4)]


def _tilted(pts: np.ndarray, tilt: float, tilt_towards: float) -> np.ndarray:
    """Return points about a ring's centre turned by ``tilt`` towards ``tilt_towards``."""
    if not tilt:
        return pts
    # turn about the horizontal axis across ``tilt_towards``: that side goes down
    ux, uy = -math.sin(tilt_towards), math.cos(tilt_towards)
    c, s_ = math.cos(tilt), math.sin(tilt)
    axis = np.array([ux, uy, 0.0])
    k = np.array([[0.0, 0.0, uy], [0.0, 0.0, -ux], [-uy, ux, 0.0]])
    rot = c * np.eye(3) + s_ * k + (1.0 - c) * np.outer(axis, axis)
    return pts @ rot.T


def ring_axis(tilt: float, tilt_towards: float) -> np.ndarray:
    """Return the unit axis (3,) of a ring posed as in ring_outline (upwards: z >= 0)."""
    return _tilted(np.array([[0.0, 0.0, 1.0]]), tilt, tilt_towards)[0]


def ring_outline(camera: PinholeCamera, centre: Sequence[float], apothem: float, height: float,
                 segments: int, yaw: float = 0.0, tilt: float = 0.0,
                 tilt_towards: float = 0.0) -> np.ndarray:
    """
    Return the image outline (M, 2) float32 of a ring block: its convex silhouette.

    The block is a prism of ``segments`` flat faces (outer apothem ``apothem``) of ``height``,
    centred at ``centre`` and turned by ``yaw`` about the vertical; the hole does not change the
    outline. ``tilt`` (rad) leans its axis over towards the horizontal direction
    ``tilt_towards`` (rad): the side that way goes down. The points are in order
    (``cv2.convexHull``), ready for ``cv2.fillConvexPoly``.
    """
    r = apothem / math.cos(math.pi / segments)
    ang = yaw + math.pi / segments + 2 * math.pi * np.arange(segments) / segments
    ring = np.column_stack([r * np.cos(ang), r * np.sin(ang)])
    pts = np.concatenate([np.column_stack([ring, np.full(segments, dz)])
                          for dz in (-height / 2.0, height / 2.0)])
    pts = _tilted(pts, tilt, tilt_towards) + np.asarray(centre, float)
    uv = camera.project(pts).astype(np.float32)
    return cv2.convexHull(uv).reshape(-1, 2)


def ring_solid_points(centre: Sequence[float], apothem: float, height: float, segments: int,
                      tilt: float = 0.0, tilt_towards: float = 0.0, per_side: int = 4,
                      rings: int = 4) -> np.ndarray:
    """
    Return world points (N, 3) spread over a ring block's two faces, posed as in ring_outline.

    On each face: the centre and ``rings`` scaled copies of the outline (the outer one last),
    ``per_side`` points along each of its ``segments`` sides; the hole is not left out. For
    what the block reaches into (a peg, a stack it leans on), not for the image.
    """
    r = apothem / math.cos(math.pi / segments)
    ang = math.pi / segments + 2 * math.pi * np.arange(segments) / segments
    corners = r * np.column_stack([np.cos(ang), np.sin(ang)])
    t = (np.arange(per_side) / per_side)[:, None]
    edge = np.concatenate([(1 - t) * corners[j] + t * corners[(j + 1) % segments]
                           for j in range(segments)])
    flat = np.concatenate([np.zeros((1, 2))] + [edge * (k / rings) for k in range(1, rings + 1)])
    pts = np.concatenate([np.column_stack([flat, np.full(len(flat), dz)])
                          for dz in (-height / 2.0, height / 2.0)])
    return _tilted(pts, tilt, tilt_towards) + np.asarray(centre, float)


def stack_points(spec, num_levels: int) -> np.ndarray:
    """Return world centres (K, L, 3) of a block at level ``0..L-1`` on each of the K pegs."""
    out = np.zeros((spec.num_pegs, num_levels, 3))
    for k in range(spec.num_pegs):
        x, y = spec.peg_xy(k + 1)
        for level in range(num_levels):
            out[k, level] = (x, y, spec.block_centre_z(level))
    return out


def stack_pixels(spec, camera: PinholeCamera, num_levels: int) -> np.ndarray:
    """Return the pixel (K, L, 2) of a block centre at each peg and level."""
    pts = stack_points(spec, num_levels)
    return camera.project(pts.reshape(-1, 3)).reshape(spec.num_pegs, num_levels, 2)


def region_of_interest(spec, camera: PinholeCamera, num_levels: int, margin: float
                       ) -> Tuple[int, int, int, int]:
    """
    Return ``(x0, y0, x1, y1)``: the image box holding every stack column, with a margin.

    The box covers the largest block (apothem_max, corners included) at levels ``0..L-1`` on
    every peg, grown by ``margin`` metres on each side for camera and placement tolerance.
    """
    radius = spec.apothem_max / math.cos(math.pi / spec.segments) + margin
    pts = []
    for k in range(spec.num_pegs):
        x, y = spec.peg_xy(k + 1)
        for z in (-margin, num_levels * spec.block_height + margin):
            for dx in (-radius, radius):
                for dy in (-radius, radius):
                    pts.append((x + dx, y + dy, z))
    uv = camera.project(pts)
    x0 = int(max(0, math.floor(uv[:, 0].min())))
    y0 = int(max(0, math.floor(uv[:, 1].min())))
    x1 = int(min(camera.width, math.ceil(uv[:, 0].max()) + 1))
    y1 = int(min(camera.height, math.ceil(uv[:, 1].max()) + 1))
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise ConfigError('the pegs are not in the camera view (box %r)' % ((x0, y0, x1, y1),))
    return x0, y0, x1, y1

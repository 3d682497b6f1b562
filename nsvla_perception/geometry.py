# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Pinhole geometry of the scene camera: world points to pixels and back, rings, regions of interest.

The camera is the one of the scene file (``camera.fovy_deg``, ``position``, ``look_at``, image
``width`` x ``height``), modelled like MuJoCo's: no distortion, square pixels, principal point at
the image centre, x right and y up in its body frame, looking along its -z axis (the optical frame
used here has x right, y down, z forward). A real rig uses the same model with its own YAML.

Back-projection (:meth:`PinholeCamera.on_plane`) intersects a pixel's ray with a horizontal
plane: the table position of a block lying flat is where the ray through its image meets the
plane of its centre, ``z = block_height / 2``. :func:`ring_outline` is the image outline of a
ring block (the convex hull of its two octagons), the shape a fully visible block must have.
"""

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from nsvla_common.errors import ConfigError


def look_at_rotation(position: Sequence[float], look_at: Sequence[float]) -> np.ndarray:
    """
    Return the 3x3 rotation of the optical frame (x right, y down, z forward) in the world.

    Columns are the optical axes expressed in world coordinates; world up is +z.
    """
    pos = np.asarray(position, float)
    fwd = np.asarray(look_at, float) - pos
    norm = np.linalg.norm(fwd)
    if norm < 1e-9:
        raise ConfigError('camera position and look_at coincide')
    fwd /= norm
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    norm = np.linalg.norm(right)
    if norm < 1e-9:
        raise ConfigError('camera looks straight along the up vector')
    right /= norm
    up = np.cross(right, fwd)
    return np.column_stack([right, -up, fwd])


@dataclass(frozen=True)
class PinholeCamera:
    """An undistorted pinhole camera with its pose in the world."""

    width: int
    height: int
    fovy_deg: float
    position: Tuple[float, float, float]
    look_at: Tuple[float, float, float]

    @property
    def focal(self) -> float:
        """Focal length in pixels (square pixels)."""
        return self.height / (2.0 * math.tan(math.radians(self.fovy_deg) / 2.0))

    @property
    def rotation(self) -> np.ndarray:
        return look_at_rotation(self.position, self.look_at)

    def to_camera(self, points: Sequence[Sequence[float]]) -> np.ndarray:
        """Return world points (N, 3) in the optical frame (x right, y down, z forward)."""
        pts = np.asarray(points, float).reshape(-1, 3)
        return (pts - np.asarray(self.position, float)) @ self.rotation

    def project(self, points: Sequence[Sequence[float]]) -> np.ndarray:
        """Return pixel coordinates (N, 2) of world points, (u right, v down)."""
        cam = self.to_camera(points)
        z = np.maximum(cam[:, 2], 1e-9)
        f = self.focal
        u = f * cam[:, 0] / z + (self.width - 1) / 2.0
        v = f * cam[:, 1] / z + (self.height - 1) / 2.0
        return np.stack([u, v], axis=1)

    def rays(self, pixels: Sequence[Sequence[float]]) -> np.ndarray:
        """Return unit world directions (N, 3) of the rays through pixels (N, 2) ``(u, v)``."""
        uv = np.asarray(pixels, float).reshape(-1, 2)
        f = self.focal
        cam = np.column_stack([(uv[:, 0] - (self.width - 1) / 2.0) / f,
                               (uv[:, 1] - (self.height - 1) / 2.0) / f,
                               np.ones(len(uv))])
        world = cam @ self.rotation.T
        return world / np.linalg.norm(world, axis=1, keepdims=True)

    def on_plane(self, pixels: Sequence[Sequence[float]], z: float) -> np.ndarray:
        """
        Return the world points (N, 3) where the rays through ``pixels`` meet the plane ``z``.

        A ray that never reaches the plane in front of the camera (it points above the horizon
        of that plane) gives NaN.
        """
        d = self.rays(pixels)
        origin = np.asarray(self.position, float)
        with np.errstate(divide='ignore', invalid='ignore'):
            t = (float(z) - origin[2]) / d[:, 2]
        t = np.where(t > 0, t, np.nan)
        return origin + t[:, None] * d

    def pixels_per_metre(self, point: Sequence[float]) -> float:
        """Return the image scale (pixels per metre) at a world point, across the optical axis."""
        return self.focal / max(float(self.to_camera([point])[0, 2]), 1e-9)

    def scaled(self, width: int, height: int) -> 'PinholeCamera':
        """Return the same camera for an image resized to ``width`` x ``height`` (same aspect)."""
        return PinholeCamera(int(width), int(height), self.fovy_deg, self.position, self.look_at)


def camera_from_spec(spec, position: Optional[Sequence[float]] = None,
                     look_at: Optional[Sequence[float]] = None) -> PinholeCamera:
    """
    Build the camera of a scene spec (``nsvla_sim.scene.SceneSpec``).

    ``position`` / ``look_at`` override the nominal pose (e.g. a randomised layout's pose for
    labels); a real rig only knows the nominal one from its configuration.
    """
    cam = spec.camera
    return PinholeCamera(int(cam.width), int(cam.height), float(cam.fovy_deg),
                         tuple(float(c) for c in (position or cam.position)),
                         tuple(float(c) for c in (look_at or cam.look_at)))


def ring_outline(camera: PinholeCamera, centre: Sequence[float], apothem: float, height: float,
                 segments: int, yaw: float = 0.0) -> np.ndarray:
    """
    Return the image outline (M, 2) float32 of an upright ring block: its convex silhouette.

    The block is a prism of ``segments`` flat faces (outer apothem ``apothem``) of ``height``,
    centred at ``centre`` and turned by ``yaw`` about the vertical; the hole does not change the
    outline. The points are in order (``cv2.convexHull``), ready for ``cv2.fillConvexPoly``.
    """
    r = apothem / math.cos(math.pi / segments)
    ang = yaw + math.pi / segments + 2 * math.pi * np.arange(segments) / segments
    ring = np.column_stack([r * np.cos(ang), r * np.sin(ang)])
    pts = np.concatenate([np.column_stack([ring, np.full(segments, dz)])
                          for dz in (-height / 2.0, height / 2.0)]) + np.asarray(centre, float)
    uv = camera.project(pts).astype(np.float32)
    return cv2.convexHull(uv).reshape(-1, 2)


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

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
The pinhole camera model every layer shares: world points to pixels and back, and camera_info.

:class:`PinholeCamera` is the camera of a rig (``nsvla_common.rig.CameraSpec``): image size,
intrinsics ``fx, fy, cx, cy`` in pixels ((0, 0) the centre of the top-left pixel, as in ROS
camera_info and OpenCV), an optional lens distortion (camera_info ``D``: ``plumb_bob`` k1 k2 p1
p2 k3 or ``rational_polynomial``), and a look-at pose; the optical frame has x right, y down,
z forward. :meth:`PinholeCamera.project` maps world points to the pixels a camera with that lens
records; :meth:`PinholeCamera.rays` undistorts pixels (OpenCV's fixed-point iteration, in
numpy) and casts their rays. With no intrinsics given the camera is MuJoCo's: square pixels from
the vertical field of view ``fovy_deg``, principal point at the image centre, no distortion.

A live camera says its intrinsics on ``camera/camera_info``: :func:`camera_from_info` turns the
message's fields into a rig camera (the pose stays the rig file's) and
:func:`intrinsics_change` says how it differs from what the rig file gave, or '' when it does
not. :func:`camera_info_fields` is the other direction (what the simulator publishes).
Pure numpy: no OpenCV, MuJoCo or rclpy.
"""

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from nsvla_common.errors import ConfigError, ValidationError
from nsvla_common.rig import (CameraSpec, DISTORTION_SIZES, fov_from_focal, fov_mixup_hint,
                              resolved_intrinsics)

INTRINSICS_TOLERANCE_PX = 1e-3   # camera_info values this close to the rig file's are the same
UNDISTORT_ITERATIONS = 20


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
    right = np.array([fwd[1], -fwd[0], 0.0])          # fwd x (0, 0, 1)
    norm = np.linalg.norm(right)
    if norm < 1e-9:
        raise ConfigError('camera looks straight along the up vector')
    right /= norm
    up = np.array([right[1] * fwd[2] - right[2] * fwd[1], right[2] * fwd[0] - right[0] * fwd[2],
                   right[0] * fwd[1] - right[1] * fwd[0]])   # right x fwd
    return np.column_stack([right, -up, fwd])


def _radial_tangential(x: np.ndarray, y: np.ndarray, d: np.ndarray
                       ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the radial factor and the tangential shifts of normalised points (OpenCV model)."""
    k1, k2, p1, p2, k3, k4, k5, k6 = d
    r2 = x * x + y * y
    radial = (1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1.0 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    dx = 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    dy = p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return radial, dx, dy


@dataclass(frozen=True)
class PinholeCamera:
    """
    A pinhole camera with its pose in the world.

    ``fx, fy, cx, cy`` left at ``None`` follow from ``fovy_deg`` (square pixels, principal point
    at the image centre); ``distortion`` is camera_info's ``D`` (empty: none).
    """

    width: int
    height: int
    fovy_deg: float
    position: Tuple[float, float, float]
    look_at: Tuple[float, float, float]
    fx: Optional[float] = None
    fy: Optional[float] = None
    cx: Optional[float] = None
    cy: Optional[float] = None
    distortion: Tuple[float, ...] = ()

    @cached_property
    def intrinsics(self) -> Tuple[float, float, float, float]:
        """Return ``(fx, fy, cx, cy)`` in pixels."""
        return resolved_intrinsics(self)

    @property
    def k(self) -> Tuple[float, ...]:
        """Return the 3x3 intrinsic matrix, row-major (camera_info ``K``)."""
        fx, fy, cx, cy = self.intrinsics
        return (fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0)

    @property
    def focal(self) -> float:
        """Focal length in pixels (the mean of fx and fy)."""
        fx, fy, _, _ = self.intrinsics
        return 0.5 * (fx + fy)

    @cached_property
    def _lens(self) -> Optional[np.ndarray]:
        if not any(self.distortion):
            return None
        d = np.zeros(8)
        d[:len(self.distortion)] = self.distortion
        return d

    @cached_property
    def rotation(self) -> np.ndarray:
        """Return the optical frame's rotation in the world (computed once per camera)."""
        return look_at_rotation(self.position, self.look_at)

    def to_camera(self, points: Sequence[Sequence[float]]) -> np.ndarray:
        """Return world points (N, 3) in the optical frame (x right, y down, z forward)."""
        pts = np.asarray(points, float).reshape(-1, 3)
        return (pts - np.asarray(self.position, float)) @ self.rotation

    def project(self, points: Sequence[Sequence[float]]) -> np.ndarray:
        """Return pixel coordinates (N, 2) of world points, (u right, v down), lens included."""
        cam = self.to_camera(points)
        z = np.maximum(cam[:, 2], 1e-9)
        x, y = cam[:, 0] / z, cam[:, 1] / z
        if self._lens is not None:
            radial, dx, dy = _radial_tangential(x, y, self._lens)
            x, y = x * radial + dx, y * radial + dy
        fx, fy, cx, cy = self.intrinsics
        return np.stack([fx * x + cx, fy * y + cy], axis=1)

    def undistort(self, pixels: Sequence[Sequence[float]]) -> np.ndarray:
        """Return the normalised image coordinates (N, 2) ``(x/z, y/z)`` of pixels (N, 2)."""
        uv = np.asarray(pixels, float).reshape(-1, 2)
        fx, fy, cx, cy = self.intrinsics
        xd, yd = (uv[:, 0] - cx) / fx, (uv[:, 1] - cy) / fy
        if self._lens is None:
            return np.stack([xd, yd], axis=1)
        x, y = xd.copy(), yd.copy()
        for _ in range(UNDISTORT_ITERATIONS):   # as cv2.undistortPoints
            radial, dx, dy = _radial_tangential(x, y, self._lens)
            x, y = (xd - dx) / radial, (yd - dy) / radial
        return np.stack([x, y], axis=1)

    def rays(self, pixels: Sequence[Sequence[float]]) -> np.ndarray:
        """Return unit world directions (N, 3) of the rays through pixels (N, 2) ``(u, v)``."""
        xy = self.undistort(pixels)
        cam = np.column_stack([xy, np.ones(len(xy))])
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
        if self.fx is None and self.fy is None and self.cx is None and self.cy is None:
            return replace(self, width=int(width), height=int(height))
        sx, sy = width / self.width, height / self.height
        fx, fy, cx, cy = self.intrinsics
        return replace(self, width=int(width), height=int(height), fx=fx * sx, fy=fy * sy,
                       cx=(cx + 0.5) * sx - 0.5, cy=(cy + 0.5) * sy - 0.5)

    def moved(self, position: Sequence[float], look_at: Sequence[float]) -> 'PinholeCamera':
        """Return the same camera (image, intrinsics, lens) at another pose."""
        return replace(self, position=tuple(float(c) for c in position),
                       look_at=tuple(float(c) for c in look_at))


def camera_from_spec(spec: Any, position: Optional[Sequence[float]] = None,
                     look_at: Optional[Sequence[float]] = None) -> PinholeCamera:
    """
    Build the camera of a rig spec (``nsvla_common.rig.SceneSpec``).

    ``position`` / ``look_at`` override the nominal pose (e.g. a randomised layout's pose for
    labels); a real rig only knows the nominal one from its configuration.
    """
    cam = spec.camera
    return PinholeCamera(int(cam.width), int(cam.height), float(cam.fovy_deg),
                         tuple(float(c) for c in (position or cam.position)),
                         tuple(float(c) for c in (look_at or cam.look_at)),
                         cam.fx, cam.fy, cam.cx, cam.cy, tuple(cam.distortion))


def camera_info_fields(width: int, height: int, intrinsics: Sequence[float],
                       distortion: Sequence[float] = (), distortion_model: str = 'plumb_bob'
                       ) -> Dict[str, Any]:
    """Return the sensor_msgs/CameraInfo fields (width, height, model, d, k, r, p) of a camera."""
    fx, fy, cx, cy = (float(v) for v in intrinsics)
    d = [float(v) for v in distortion] or [0.0] * DISTORTION_SIZES[distortion_model]
    return {'width': int(width), 'height': int(height), 'distortion_model': distortion_model,
            'd': d, 'k': [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0],
            'r': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            'p': [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]}


def camera_from_info(camera: CameraSpec, width: int, height: int, k: Sequence[float],
                     d: Sequence[float] = (), distortion_model: str = '') -> CameraSpec:
    """
    Return ``camera`` with the image size, K and D of a camera_info message (pose kept).

    Raise ValidationError on a message no pinhole camera sends: K all zeros (an uncalibrated
    camera), a skewed or non-positive K, a principal point off the image, or a distortion model
    other than plumb_bob / rational_polynomial with its coefficients.
    """
    width, height = int(width), int(height)
    if not 16 <= width <= 8192 or not 16 <= height <= 8192:
        raise ValidationError('camera_info size %dx%d is not an image size' % (width, height))
    k = [float(v) for v in k]
    if len(k) != 9 or not all(math.isfinite(v) for v in k):
        raise ValidationError('camera_info K must be 9 finite numbers, got %r' % (k,))
    if not any(k):
        raise ValidationError('camera_info K is all zeros: the camera is not calibrated')
    fx, skew, cx, _, fy, cy = k[:6]
    if fx <= 0 or fy <= 0 or abs(k[8] - 1.0) > 1e-9 or any(abs(v) > 1e-9 for v in k[3:4] + k[6:8]):
        raise ValidationError('camera_info K %r is not a pinhole matrix [fx 0 cx; 0 fy cy; 0 0 1]'
                              % (k,))
    if abs(skew) > 1e-6 * fx:
        raise ValidationError('camera_info K has a skew of %g px; nsvla models none' % skew)
    if not (0.0 <= cx <= width - 1 and 0.0 <= cy <= height - 1):
        raise ValidationError('camera_info principal point (%g, %g) is off the %dx%d image'
                              % (cx, cy, width, height))
    d = tuple(float(v) for v in d)
    model = distortion_model or 'plumb_bob'
    if any(d):
        if model not in DISTORTION_SIZES:
            raise ValidationError('camera_info distortion model %r is not supported (%s)'
                                  % (model, ', '.join(DISTORTION_SIZES)))
        if len(d) not in (DISTORTION_SIZES[model], 4) or not all(math.isfinite(v) for v in d):
            raise ValidationError('camera_info D for %s needs %d finite numbers, got %r'
                                  % (model, DISTORTION_SIZES[model], d))
    else:
        d = ()
    return replace(camera, width=width, height=height, fovy_deg=fov_from_focal(height, fy),
                   fx=fx, fy=fy, cx=cx, cy=cy, distortion=d,
                   distortion_model=model if model in DISTORTION_SIZES else 'plumb_bob')


def intrinsics_change(old: CameraSpec, new: CameraSpec) -> str:
    """
    Say how ``new``'s image size, intrinsics and lens differ from ``old``'s; '' when they agree.

    Values within :data:`INTRINSICS_TOLERANCE_PX` are the same. When the old vertical field of
    view is the new horizontal one, the text says so (a horizontal field of view entered as
    ``fovy_deg`` in the rig file).
    """
    parts = []
    if (old.width, old.height) != (new.width, new.height):
        parts.append('image %dx%d -> %dx%d' % (old.width, old.height, new.width, new.height))
    for name, a, b in zip(('fx', 'fy', 'cx', 'cy'), old.intrinsics, new.intrinsics):
        if abs(a - b) > INTRINSICS_TOLERANCE_PX:
            parts.append('%s %.2f -> %.2f px' % (name, a, b))
    da, db = np.zeros(8), np.zeros(8)
    da[:len(old.distortion)] = old.distortion
    db[:len(new.distortion)] = new.distortion
    if np.max(np.abs(da - db)) > 1e-9:
        parts.append('distortion %s -> %s' % (list(old.distortion) or 'none',
                                              list(new.distortion) or 'none'))
    if not parts:
        return ''
    hint = fov_mixup_hint('fovy_deg', old.fovy_deg, fov_from_focal(new.width, new.intrinsics[0]))
    return ', '.join(parts) + hint

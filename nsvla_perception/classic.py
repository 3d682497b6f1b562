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
   well above where its stack puts it (lifted by the gripper) is not on a peg.

The rig only enters through the scene file (camera, pegs, sizes, colours) and
``config/perception.yaml`` (thresholds), so another rig needs a new YAML, no code.
"""

import math
from typing import List, Optional, Tuple

import cv2
import numpy as np

from nsvla_perception.backend import Perceiver
from nsvla_perception.geometry import camera_from_spec, PinholeCamera, region_of_interest
from nsvla_perception.geometry import stack_pixels
from nsvla_perception.settings import ClassicSettings
from nsvla_perception.symbols import BlockReading, flag_lifted


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
    r = apothem / math.cos(math.pi / segments)
    pts = []
    for dz in (-height / 2, height / 2):
        for j in range(segments):
            ang = math.pi / segments + 2 * math.pi * j / segments
            pts.append((centre[0] + r * math.cos(ang), centre[1] + r * math.sin(ang),
                        centre[2] + dz))
    uv = camera.project(pts).astype(np.float32)
    return float(cv2.contourArea(cv2.convexHull(uv)))


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
        lut[lut > n + (1 if self.sentinel else 0)] = 0              # distractors: background
        self.lut = lut
        self.kernel = np.ones((s.open_kernel, s.open_kernel), np.uint8)
        self.last_labels: Optional[np.ndarray] = None

    # ------------------------------------------------------------------ segmentation
    def label_image(self, rgb: np.ndarray) -> np.ndarray:
        """Return the block index (1..N) of each pixel of the region of interest, 0 elsewhere."""
        x0, y0, x1, y1 = self.roi
        hsv = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2HSV)
        labels = self.lut[hsv[:, :, 0], hsv[:, :, 1]]
        s = self.settings
        labels[(hsv[:, :, 1] < s.min_saturation) | (hsv[:, :, 2] < s.min_value)] = 0
        return labels

    def _blob(self, mask: np.ndarray, radius: float) -> Tuple[int, Optional[Tuple[float, float]]]:
        """Return (area, centre in ROI pixels) of the largest blob and its nearby fragments."""
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        count, _lab, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count <= 1:
            return 0, None
        areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
        best = int(np.argmax(areas))
        near = np.hypot(*(cents[1:] - cents[1 + best]).T) <= radius
        area = float(areas[near].sum())
        centre = (areas[near, None] * cents[1:][near]).sum(axis=0) / area
        return int(area), (float(centre[0]), float(centre[1]))

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
        labels = self.label_image(rgb)
        self.last_labels = labels
        x0, y0 = self.roi[0], self.roi[1]
        out: List[BlockReading] = []
        seen = []
        for i in range(self.num_blocks):
            name = 'b%d' % (i + 1)
            mask = (labels == i + 1).astype(np.uint8)
            area, centre = self._blob(mask, float(self.radius_px[i].max()))
            if centre is None:
                out.append(BlockReading(name, 0, 0.0, False, note='colour not seen'))
                continue
            uv = np.array([centre[0] + x0, centre[1] + y0])
            across, along = self._column_coords(uv)
            p = int(np.argmin(np.abs(across / self.ppm)))
            out.append(BlockReading(name, p + 1, 0.0, True, float(along[p]), float(along[p]),
                                    (float(uv[0]), float(uv[1])), area))
            seen.append((i, out[-1], across, along))
        # The rig knows only the nominal camera pose: remove the shift common to all blobs.
        shift = float(np.median([a[r.peg - 1] for _i, r, a, _l in seen])) if seen else 0.0
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
            area, _centre = self._blob((labels == self.sentinel).astype(np.uint8),
                                       float(self.radius_px.max()))
            if area >= s.min_visible * float(self.silhouette[0].min()):
                self.unexpected = ['b%d' % self.sentinel]
        return out

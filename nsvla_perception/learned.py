# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Learned backend: a small CNN reads one crop per peg column and says which blocks are in it.

Geometry decides *where* to look, the network decides *what* is there. For each peg the camera
model gives an image box around the peg's stack column (every level a block can reach, plus a
margin for camera and placement error); the box is resized to ``crop_width`` x ``crop_height``
and :class:`ColumnNet` (about 60 k parameters, shared by all pegs) predicts, for every colour
slot b1..bS, ``absent`` (not in this column, or hidden) or the stack level it sits at.

Per block the column predictions are combined into a posterior over "on peg k" and "not seen":
``log P(on k) = log(1 - p_k(absent)) + sum_{j != k} log p_j(absent)``, ``log P(not seen) =
sum_j log p_j(absent)``, normalised. The best peg's probability is the block's confidence and the
expected level orders the stack (so a seen order breaking the rules stays illegal).

The network only sees the peg columns and was trained on blocks on pegs: a block lying on the
table off the pegs is "not seen" by it, or, when it lies in front of or behind a column, may be
put on that peg. So every frame is also read by the classical backend
(``nsvla_perception.classic``: colour blobs, the camera pose corrected from the table's edges and
the pegs) for loose blocks only (:func:`check_loose`): a block the classical backend finds lying
flat on the table is loose there (the classical pose and confidence), whether the network did
not see it or put it on a peg; a block the network puts on a peg that the classical backend
finds cannot be there (behind a stack, off its place, on another peg) is off the pegs with both
readings in the reason, so the state is unknown, never a guess between the two; a block the
network does not see at all that the classical backend sees on a peg (a ring under a larger one
that slipped onto it: the network was never shown one) is where the classical reading puts it,
with a note that says so. This costs the
classical backend's time on every frame (about 6 ms on one core with a still camera).

The model file stores the weights and the crop geometry it was trained with, plus a fingerprint
of the rig (camera, pegs, block sizes and colours); a scene that differs is refused with the
command that retrains for it.
"""

import dataclasses
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from nsvla_common.errors import ConfigError
from nsvla_common.paths import model_path
from nsvla_perception.backend import Perceiver
from nsvla_perception.calibration import apply_white_balance
from nsvla_perception.geometry import camera_from_spec, PinholeCamera
from nsvla_perception.settings import ClassicSettings, LearnedSettings
from nsvla_perception.symbols import BlockReading, flag_lifted

DEFAULT_MODEL = 'perception_cnn.pt'
MODEL_FORMAT = 'nsvla/perception_cnn/1'
RETRAIN_HINT = 'nsvla train-perception --scene-config SCENE.yaml'
LIFT_TOLERANCE = 1.0   # levels above its stack at which a block counts as lifted


# A camera the rig file does not describe exactly is followed (LearnedPerceiver.follow_camera)
FOLLOW_PX = 2.0          # px the pegs must move under a new fit before it is followed
FOLLOW_MIN_USED = 16     # measurements a followed fit rests on (a point counts two)
FOLLOW_MAX_RMS = 2.0     # sigmas: the RMS residual of a followed fit
FOLLOW_MAX_M = 0.08      # m: a fit this far from the rig's camera (position or look-at) is not
FOLLOW_TRIES = 3         # fits per frame: a weak one proposes where to search for features


def _peg_points(spec) -> np.ndarray:
    """Return the base and tip of every peg (world, m)."""
    pts = []
    for k in range(1, spec.num_pegs + 1):
        x, y = spec.peg_xy(k)
        pts += [(x, y, 0.0), (x, y, spec.peg_height)]
    return np.array(pts, float)


def _peg_shift_px(spec, a: PinholeCamera, b: PinholeCamera) -> float:
    """Return how far (px, the worst peg end) camera ``b`` puts the pegs from camera ``a``."""
    pts = _peg_points(spec)
    return float(np.max(np.linalg.norm(a.project(pts) - b.project(pts), axis=1)))


def _pose_distance(a: PinholeCamera, b: PinholeCamera) -> float:
    """Return the larger of the position and look-at distances of two cameras (m)."""
    return float(max(np.linalg.norm(np.subtract(a.position, b.position)),
                     np.linalg.norm(np.subtract(a.look_at, b.look_at))))


# ---------------------------------------------------------------------- crop geometry
def column_boxes(spec, camera: PinholeCamera, levels: int, margin: float
                 ) -> List[Tuple[int, int, int, int]]:
    """
    Return one image box ``(x0, y0, x1, y1)`` per peg around its stack column.

    The box holds a cylinder around the peg axis (the largest block's corner radius plus
    ``margin``) from ``margin`` below the table to ``margin`` above level ``levels``; it is
    clipped to the image, and a column mostly outside the image raises ConfigError.
    """
    radius = spec.apothem_max / math.cos(math.pi / spec.segments) + margin
    boxes = []
    for k in range(1, spec.num_pegs + 1):
        x, y = spec.peg_xy(k)
        pts = [(x + radius * math.cos(a), y + radius * math.sin(a), z)
               for a in np.linspace(0.0, 2 * math.pi, 16, endpoint=False)
               for z in (-margin, levels * spec.block_height + margin)]
        uv = camera.project(pts)
        x0, y0 = int(math.floor(uv[:, 0].min())), int(math.floor(uv[:, 1].min()))
        x1, y1 = int(math.ceil(uv[:, 0].max())) + 1, int(math.ceil(uv[:, 1].max())) + 1
        inside = ((min(x1, camera.width) - max(x0, 0)) * (min(y1, camera.height) - max(y0, 0))
                  / float((x1 - x0) * (y1 - y0)))
        if min(x1, camera.width) <= max(x0, 0) or min(y1, camera.height) <= max(y0, 0) \
                or inside < 0.8:
            raise ConfigError('the stack column of p%d is not in the camera view (box %r in '
                              '%dx%d)' % (k, (x0, y0, x1, y1), camera.width, camera.height))
        boxes.append((max(x0, 0), max(y0, 0), min(x1, camera.width), min(y1, camera.height)))
    return boxes


def crop_columns(rgb: np.ndarray, boxes: Sequence[Tuple[int, int, int, int]], width: int,
                 height: int, jitter: Optional[np.ndarray] = None) -> np.ndarray:
    """
    Return the column crops (K, height, width, 3) uint8 of an RGB image.

    ``jitter`` (K, 4) adds pixel offsets to each box (training augmentation).
    """
    out = np.empty((len(boxes), height, width, 3), np.uint8)
    h_img, w_img = rgb.shape[:2]
    for k, box in enumerate(boxes):
        x0, y0, x1, y1 = box
        if jitter is not None:
            x0, y0, x1, y1 = (int(round(a + b)) for a, b in zip(box, jitter[k]))
            x0, y0 = max(0, x0), max(0, y0)
            x1, y1 = min(w_img, max(x1, x0 + 4)), min(h_img, max(y1, y0 + 4))
        out[k] = cv2.resize(rgb[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)
    return out


def rig_fingerprint(spec, max_blocks: int) -> Dict[str, Any]:
    """Return what the network depends on: camera, pegs, block sizes and colours."""
    cam = spec.camera
    return {
        'camera': {'width': cam.width, 'height': cam.height, 'fovy_deg': cam.fovy_deg,
                   'position': [round(c, 4) for c in cam.position],
                   'look_at': [round(c, 4) for c in cam.look_at]},
        'pegs': [[round(c, 4) for c in spec.peg_xy(k)] for k in range(1, spec.num_pegs + 1)],
        'block_height': round(spec.block_height, 4),
        'apothems': [round(spec.apothem_min, 4), round(spec.apothem_max, 4),
                     round(spec.apothem_step_max, 4)],
        'colours': [[round(c, 3) for c in spec.block_colour(i)]
                    for i in range(1, max_blocks + 1)],
    }


# How far a rig may differ from the one a model was trained for and still be read by it. The
# crops are placed with the rig's camera (and follow a fitted one), so a calibrated camera
# pose within FOLLOW_MAX_M is the same rig to the network; colours re-measured by calibration
# move by thousandths; the image size must be the same.
FINGERPRINT_TOLERANCE = {'camera.width': 0, 'camera.height': 0, 'camera.fovy_deg': 0.5,
                         'camera.position': FOLLOW_MAX_M, 'camera.look_at': FOLLOW_MAX_M,
                         'pegs': 0.002, 'block_height': 0.0005, 'apothems': 0.0005,
                         'colours': 0.05}
DISTANCE_KEYS = ('camera.position', 'camera.look_at', 'colours')   # compared as points


def _differs(a: Any, b: Any, tolerance: float, distance: bool = False) -> bool:
    """Tell whether two fingerprint values differ by more than ``tolerance`` anywhere."""
    try:
        x, y = np.asarray(a, float), np.asarray(b, float)
    except (TypeError, ValueError):
        return a != b
    if x.shape != y.shape:
        return True
    if distance:      # points (positions, colours): by their distance
        return bool(np.any(np.linalg.norm(x - y, axis=-1) > tolerance + 1e-9))
    return bool(np.any(np.abs(x - y) > tolerance + 1e-9))


def fingerprint_difference(a: Dict[str, Any], b: Dict[str, Any]) -> str:
    """Return the first key of two fingerprints differing beyond its tolerance, '' if none."""
    flat_a, flat_b = _flat(a), _flat(b)
    for key in sorted(set(flat_a) | set(flat_b)):
        if key not in flat_a or key not in flat_b:
            return '%s: model %r, scene %r' % (key, flat_a.get(key), flat_b.get(key))
        if _differs(flat_a[key], flat_b[key], FINGERPRINT_TOLERANCE.get(key, 0.0),
                    key in DISTANCE_KEYS):
            return '%s: model %r, scene %r' % (key, flat_a[key], flat_b[key])
    return ''


def _flat(fingerprint: Dict[str, Any]) -> Dict[str, Any]:
    """Return ``{'camera': {'width': 1}}`` as ``{'camera.width': 1}``."""
    out: Dict[str, Any] = {}
    for key, value in fingerprint.items():
        if isinstance(value, dict):
            out.update({'%s.%s' % (key, k): v for k, v in value.items()})
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------- the network
def build_network(max_blocks: int, levels: int):
    """Return the ColumnNet module (imports torch only here)."""
    import torch
    from torch import nn

    class ColumnNet(nn.Module):
        """Conv net: a (3, H, W) column crop -> (S, L + 1) logits (absent, level 0..L-1)."""

        def __init__(self, slots: int, n_levels: int) -> None:
            super().__init__()
            self.slots, self.levels = slots, n_levels

            def block(c_in: int, c_out: int) -> nn.Sequential:
                return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                     nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                                     nn.MaxPool2d(2))

            self.features = nn.Sequential(block(3, 16), block(16, 32), block(32, 32),
                                          block(32, 48))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d((4, 3)), nn.Flatten(),
                                      nn.Linear(48 * 12, 48), nn.ReLU(inplace=True),
                                      nn.Linear(48, slots * (n_levels + 1)))

        def forward(self, x: 'torch.Tensor') -> 'torch.Tensor':
            return self.head(self.features(x)).view(-1, self.slots, self.levels + 1)

    return ColumnNet(max_blocks, levels)


def to_tensor(crops: np.ndarray):
    """Return float tensor (B, 3, H, W) in [-0.5, 0.5] from uint8 crops (B, H, W, 3)."""
    import torch
    x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float()
    return x / 255.0 - 0.5


def count_parameters(net) -> int:
    """Return the number of trainable parameters."""
    return int(sum(p.numel() for p in net.parameters() if p.requires_grad))


# ---------------------------------------------------------------------- combination
def combine_columns(logits: np.ndarray, num_blocks: int) -> List[Dict[str, Any]]:
    """
    Combine column logits (K, S, L + 1) into a per-block posterior (see the module docstring).

    Returns, per block b1..bN: ``probs`` (K + 1: not seen, p1..pK), ``peg`` (0 = not seen),
    ``confidence`` and ``level`` (expected level on the best peg).
    """
    z = logits - logits.max(axis=2, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))        # (K, S, L+1)
    k = logits.shape[0]
    out = []
    for i in range(num_blocks):
        absent = logp[:, i, 0]                                      # (K,)
        present = np.log1p(-np.minimum(np.exp(absent), 1.0 - 1e-7))
        total_absent = float(absent.sum())
        scores = np.array([total_absent] + [present[p] + total_absent - absent[p]
                                            for p in range(k)])
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        best = int(np.argmax(probs))
        level = 0.0
        if best > 0:
            lp = np.exp(logp[best - 1, i, 1:])
            level = float((lp / lp.sum()) @ np.arange(lp.size))
        out.append({'probs': probs, 'peg': best, 'confidence': float(probs[best]),
                    'level': level})
    return out


def check_loose(readings: Sequence[BlockReading], classic: Sequence[BlockReading]) -> None:
    """
    Take the classical backend's reading of the blocks it finds lying loose on the table.

    The network was never shown a loose block: one it does not see, or puts on a peg, that the
    classical backend finds lying flat on the table (a whole ring, off every column, with the
    camera pose corrected) is loose there, the network's placement in the note. A block the
    network puts on a peg that the classical backend sees elsewhere but not loose (off the
    pegs, behind a stack, off its place, on another peg) is off the pegs with both readings in
    its note: the state is unknown. A block the network does not see at all that the
    classical backend sees on a peg is where that reading puts it, said in its note: the
    network was never shown a ring under a larger one (4 blocks with slips, 7 of 100
    episodes: b2 slipped onto b1 on p2, b1 a red band under it; 'not visible: b1' until the
    episode was lost, where the classical backend solved all seven). Other readings stay the
    network's.
    """
    by_name = {r.name: r for r in classic}
    for r in readings:
        c = by_name.get(r.name)
        if c is None:
            continue
        if c.loose:
            note = 'the network put it on p%d' % r.peg if r.peg else ''
            r.peg, r.visible, r.confidence, r.pose = 0, True, c.confidence, c.pose
            r.rests_on = c.rests_on
            r.pixel, r.height, r.level, r.area = c.pixel, 0.0, 0.0, c.area
            r.note = ', '.join(n for n in (c.note, note) if n)
        elif r.peg == 0 and not r.visible and c.visible and c.peg > 0:
            unseen = 'the network did not see it (%s)' % (r.note or 'not seen')
            note = ', '.join(n for n in (unseen, c.note) if n)
            for field in dataclasses.fields(c):
                if field.name != 'name':
                    setattr(r, field.name, getattr(c, field.name))
            r.note = note
        elif r.peg > 0 and r.visible and c.visible and c.peg != r.peg:
            r.note = 'the network puts it on p%d, its colour is seen %s%s' % (
                r.peg, 'on p%d' % c.peg if c.peg else 'off the pegs',
                ' (%s)' % c.note if c.note else '')
            r.peg, r.confidence = 0, 0.0


# ---------------------------------------------------------------------- the backend
def load_checkpoint(path: str) -> Dict[str, Any]:
    """Load a model file; ConfigError naming the problem when it is missing or not ours."""
    import torch
    if not os.path.isfile(path):
        raise ConfigError('perception model %s not found (make it with `nsvla train-perception`)'
                          % path)
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a configuration error
        raise ConfigError('cannot read perception model %s: %s' % (path, exc)) from None
    if not isinstance(ckpt, dict) or ckpt.get('format') != MODEL_FORMAT:
        raise ConfigError('%s is not an nsvla perception model (format %r)'
                          % (path, ckpt.get('format') if isinstance(ckpt, dict) else None))
    return ckpt


class LearnedPerceiver(Perceiver):
    """The CNN backend (see the module docstring)."""

    backend = 'learned'

    def __init__(self, spec, num_blocks: int, path: str = DEFAULT_MODEL,
                 min_confidence: float = 0.5, strict_rig: bool = True,
                 threads: int = 1, classic: Optional[ClassicSettings] = None) -> None:
        """
        Load the model at ``path`` (a models/ file or a path) for ``num_blocks`` blocks.

        ``threads`` sets torch's CPU threads for the whole process (0 keeps torch's choice);
        one thread is as fast for three small crops and leaves the other core to the rest.
        ``classic`` are the settings of the classical reading of loose blocks (by default those
        of ``config/perception.yaml``).
        """
        import torch
        from nsvla_perception.classic import ClassicPerceiver
        from nsvla_perception.settings import load_settings
        super().__init__(spec, num_blocks, min_confidence)
        if threads:
            torch.set_num_threads(int(threads))
        self.path = model_path(path)
        ckpt = load_checkpoint(self.path)
        meta = ckpt['meta']
        self.meta = meta
        self.settings = LearnedSettings(**meta['settings'])
        s = self.settings
        if num_blocks > s.max_blocks:
            raise ConfigError('the perception model knows %d blocks at most, %d asked; retrain '
                              'with more (`nsvla train-perception --max-blocks %d`)'
                              % (s.max_blocks, num_blocks, num_blocks))
        if meta['num_pegs'] != spec.num_pegs:
            raise ConfigError('the perception model was trained for %d pegs, the scene has %d'
                              % (meta['num_pegs'], spec.num_pegs))
        diff = fingerprint_difference(meta['rig'], rig_fingerprint(spec, s.max_blocks))
        self.rig_mismatch = diff
        if diff and strict_rig:
            raise ConfigError('the perception model %s was trained for another rig (%s); '
                              'retrain for this scene: %s' % (self.path, diff, RETRAIN_HINT))
        self.net = build_network(s.max_blocks, meta['levels'])
        self.net.load_state_dict(ckpt['state_dict'])
        self.net.eval()
        self._torch = torch
        self.camera = camera_from_spec(spec)
        self.rig_camera = self.camera      # the rig file's: a followed fit stays near it
        self.boxes = column_boxes(spec, self.camera, meta['levels'], s.crop_margin)
        self.followed = 0                  # times the camera was followed (follow_camera)
        self.loose_reader = ClassicPerceiver(spec, num_blocks,
                                             classic or load_settings().classic,
                                             min_confidence, threads=threads)
        # Gains from ``nsvla calibrate`` (camera.white_balance): the network was trained under
        # white light, so a tinted image is balanced back before it is cropped.
        self.white_balance = tuple(getattr(spec.camera, 'white_balance', ()) or ())

    def column_logits(self, rgb: np.ndarray) -> np.ndarray:
        """Return the network's logits (K, S, L + 1) for an RGB image (white-balanced)."""
        s = self.settings
        crops = crop_columns(rgb, self.boxes, s.crop_width, s.crop_height)
        with self._torch.inference_mode():
            return self.net(to_tensor(crops)).numpy().astype(np.float64)

    def follow_camera(self, rgb: np.ndarray, classic: List[BlockReading],
                      raw: np.ndarray) -> List[BlockReading]:
        """
        Follow a camera that is not where the rig file says; return the classical readings.

        The classical reader corrects its camera pose from the table's edges and the peg tips
        (kept from frame to frame while they stay where it puts them: a third of a new fit's
        cost). A camera bumped by a few centimetres and degrees moves the stacks out of boxes
        placed with the rig's pose (0 % of 4-block scenes read at 3 cm + 3 degrees, every one
        refused). When a well-supported fit (``FOLLOW_MIN_USED`` measurements, RMS within
        ``FOLLOW_MAX_RMS`` sigmas) puts the pegs more than ``FOLLOW_PX`` pixels from where
        the reader's camera does, the reader is rebuilt with the fitted camera (its next fits
        start there), the network's boxes are placed with it, and this frame is read again.
        A fit on too few features (the edges searched where the old camera puts them, far from
        where they are) is only a proposal: the features are searched again where it puts
        them, up to ``FOLLOW_TRIES`` times, and followed once that refit is well supported. A
        fit more than ``FOLLOW_MAX_M`` from the rig's camera is not followed: that rig needs
        ``nsvla calibrate``.
        """
        from nsvla_perception.classic import ClassicPerceiver
        reader = self.loose_reader
        fit = reader.camera_fit(rgb, classic)
        for attempt in range(FOLLOW_TRIES):
            if (fit.camera is reader.camera or fit.rms > FOLLOW_MAX_RMS
                    or _peg_shift_px(self.spec, reader.camera, fit.camera) <= FOLLOW_PX
                    or _pose_distance(self.rig_camera, fit.camera) > FOLLOW_MAX_M):
                return classic
            try:
                boxes = column_boxes(self.spec, fit.camera, self.meta['levels'],
                                     self.settings.crop_margin)
            except ConfigError:       # a fit that puts a column out of view: not followed
                return classic
            candidate = ClassicPerceiver(self.spec, self.num_blocks, reader.settings,
                                         self.min_confidence, camera=fit.camera, threads=0)
            if fit.used >= FOLLOW_MIN_USED:
                candidate.hand_empty = self.hand_empty
                self.loose_reader, self.boxes, self.camera = candidate, boxes, fit.camera
                self.followed += 1
                return candidate.readings(raw)
            if attempt + 1 < FOLLOW_TRIES:     # a proposal: search its features again
                fit = candidate.camera_fit(rgb, classic, keep=False)
        return classic

    def readings(self, rgb: np.ndarray) -> List[BlockReading]:
        """Return one reading per block from the combined column predictions."""
        self.loose_reader.hand_empty = self.hand_empty
        raw = rgb
        classic = self.loose_reader.readings(raw)         # it balances the image itself
        if self.white_balance:
            rgb = apply_white_balance(rgb, self.white_balance)
        classic = self.follow_camera(rgb, classic, raw)
        logits = self.column_logits(rgb)
        combined = combine_columns(logits, self.num_blocks)
        if self.num_blocks < logits.shape[1]:     # a colour slot beyond bN: wrong block count
            extra = combine_columns(logits, self.num_blocks + 1)[-1]
            if extra['peg'] > 0 and extra['confidence'] >= 0.9:
                self.unexpected = ['b%d' % (self.num_blocks + 1)]
        out = []
        for i, c in enumerate(combined):
            name = 'b%d' % (i + 1)
            if c['peg'] == 0:
                out.append(BlockReading(name, 0, 0.0, False, note='not seen (p=%.2f)'
                                        % c['probs'][0]))
                continue
            p = c['peg']
            x, y = self.spec.peg_xy(p)
            uv = self.camera.project([(x, y, self.spec.block_centre_z(max(0, round(c['level']))))])
            pixel = (float(uv[0, 0]), float(uv[0, 1]))
            note = ''
            if c['confidence'] < 0.99:
                rest = sorted(((float(v), j) for j, v in enumerate(c['probs']) if j != p),
                              reverse=True)[0]
                note = 'else %s %.2f' % ('not seen' if rest[1] == 0 else 'p%d' % rest[1],
                                         rest[0])
            out.append(BlockReading(name, p, round(c['confidence'], 4), True, c['level'],
                                    c['level'], pixel, 0, note))
        flag_lifted(out, LIFT_TOLERANCE)
        check_loose(out, classic)
        return out

    def describe(self) -> str:
        """Return a one-line description for logs."""
        return '%s (%s, %d parameters, held-out exact accuracy %s)' % (
            super().describe(), os.path.basename(self.path), count_parameters(self.net),
            self.meta.get('held_out', {}).get('exact_state_accuracy', '?'))

# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Debug overlay: the detections drawn on the camera image (``~/debug_image``)."""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from nsvla_perception.symbols import Perception

_GREEN = (40, 200, 60)
_AMBER = (255, 170, 0)
_RED = (230, 40, 40)


def _text(img: np.ndarray, text: str, org: Tuple[int, int], colour, scale: float = 0.45) -> None:
    """Draw ``text`` on a dark box so it reads on any background."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = org
    cv2.rectangle(img, (x - 2, y - h - 3), (x + w + 2, y + base + 1), (20, 20, 20), -1)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def draw_overlay(rgb: np.ndarray, perception: Perception, held: bool = False,
                 boxes: Optional[Sequence[Tuple[int, int, int, int]]] = None) -> np.ndarray:
    """
    Return a copy of ``rgb`` with each block's reading, the state and the filter status.

    Each placed block gets a circle and ``bI pK conf`` (``bI table conf`` when it lies loose);
    the banner gives the state (stacks, or
    unknown with the reason) and ``HELD`` when the filter repeats the last confident state.
    ``boxes`` (image boxes, e.g. the learned backend's peg columns) are outlined.
    """
    img = np.ascontiguousarray(rgb).copy()
    for box in boxes or ():
        cv2.rectangle(img, (int(box[0]), int(box[1])), (int(box[2]) - 1, int(box[3]) - 1),
                      (200, 200, 200), 1)
    for r in perception.readings:
        if r.pixel is None:
            continue
        u, v = int(round(r.pixel[0])), int(round(r.pixel[1]))
        ok = r.visible and (r.peg > 0 or r.loose)
        colour = _GREEN if ok and r.confidence >= 0.9 else (_AMBER if ok else _RED)
        cv2.circle(img, (u, v), 6, colour, 2, cv2.LINE_AA)
        where = 'table' if r.loose else 'p%d' % r.peg
        label = '%s %s %.2f' % (r.name, where, r.confidence) if ok else '%s ?' % r.name
        _text(img, label, (u + 8, v + 4), colour, 0.4)
    state = perception.state
    if state.known:
        banner = '%s: %s' % (state.source, '  '.join(
            '%s:%s' % (p, ','.join(c) or '-') for p, c in state.stacks().items()))
        if state.loose:
            banner += '  loose:%s' % ','.join(sorted(state.loose))
        colour = _GREEN
    else:
        banner = '%s: unknown (%s)' % (state.source, state.reason)
        colour = _RED
    _text(img, banner[:90], (8, 18), colour, 0.5)
    if held:
        _text(img, 'HELD: last confident state', (8, 38), _AMBER, 0.5)
    return img

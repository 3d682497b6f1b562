# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""
Checked conversion of raw image messages (sensor_msgs/Image fields) to RGB arrays, no ROS needed.

Accepted encodings are ``rgb8`` and ``bgr8`` (converted to RGB); rows may be padded (``step``
larger than ``3 * width``). Anything else (another encoding, a size the perceiver was not set up
for, an empty or truncated buffer) raises :class:`ImageError`, a ValidationError, with the reason.
"""

import array
from typing import Optional, Tuple

import numpy as np

from nsvla_common.errors import ValidationError

ENCODINGS = ('rgb8', 'bgr8')


class ImageError(ValidationError):
    """An image that cannot be used: wrong encoding, wrong size, empty or truncated data."""

    status = 'bad_image'


def image_from_fields(encoding: str, width: int, height: int, step: int, data,
                      expected: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """
    Return an RGB uint8 array (height, width, 3) from the fields of a sensor_msgs/Image.

    ``expected`` is the (width, height) the perceiver needs; another size raises ImageError.
    """
    enc = (encoding or '').strip().lower()
    if enc not in ENCODINGS:
        raise ImageError('encoding %r not supported (use %s)' % (encoding, ' or '.join(ENCODINGS)))
    width, height, step = int(width), int(height), int(step)
    if width <= 0 or height <= 0:
        raise ImageError('empty image (%dx%d)' % (width, height))
    if expected is not None and (width, height) != tuple(expected):
        raise ImageError('image is %dx%d, expected %dx%d (the scene camera)'
                         % (width, height, expected[0], expected[1]))
    if step < 3 * width:
        raise ImageError('step %d is smaller than 3 x width (%d)' % (step, 3 * width))
    if not isinstance(data, (bytes, bytearray, memoryview, np.ndarray, array.array)):
        data = bytes(data)   # a list of ints
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size == 0:
        raise ImageError('empty image data (%dx%d announced)' % (width, height))
    if buf.size < step * height:
        raise ImageError('image data has %d bytes, %d x %d rows need %d'
                         % (buf.size, step, height, step * height))
    img = buf[:step * height].reshape(height, step)[:, :3 * width].reshape(height, width, 3)
    if enc == 'bgr8':
        img = img[:, :, ::-1]
    return np.ascontiguousarray(img)


def check_rgb(image, expected: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Return ``image`` as a contiguous (H, W, 3) uint8 RGB array, or raise ImageError."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ImageError('expected an (H, W, 3) uint8 RGB image, got %s %s'
                         % (img.dtype, img.shape))
    if img.size == 0:
        raise ImageError('empty image')
    if expected is not None and (img.shape[1], img.shape[0]) != tuple(expected):
        raise ImageError('image is %dx%d, expected %dx%d (the scene camera)'
                         % (img.shape[1], img.shape[0], expected[0], expected[1]))
    return np.ascontiguousarray(img)

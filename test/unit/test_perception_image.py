# Copyright 2026 nsvla maintainers
# Licensed under the Apache License, Version 2.0

"""Malformed camera images: wrong encoding, wrong size, empty or truncated data."""

import array

import numpy as np
import pytest

from nsvla_common.errors import ValidationError
from nsvla_perception.image import check_rgb, image_from_fields, ImageError


def _rgb(w=8, h=6):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_rgb8_round_trip_from_array_array():
    img = _rgb()
    out = image_from_fields('rgb8', 8, 6, 24, array.array('B', img.tobytes()), (8, 6))
    assert np.array_equal(out, img)


def test_bgr8_is_converted_to_rgb():
    img = _rgb()
    out = image_from_fields('bgr8', 8, 6, 24, img[:, :, ::-1].tobytes(), (8, 6))
    assert np.array_equal(out, img)


def test_padded_rows_are_unpadded():
    img = _rgb()
    padded = np.zeros((6, 30), np.uint8)
    padded[:, :24] = img.reshape(6, 24)
    out = image_from_fields('rgb8', 8, 6, 30, padded.tobytes())
    assert np.array_equal(out, img)


@pytest.mark.parametrize('encoding', ['mono8', 'rgba8', '16UC1', '', 'yuv422'])
def test_wrong_encoding_is_refused(encoding):
    with pytest.raises(ImageError, match='encoding'):
        image_from_fields(encoding, 8, 6, 24, _rgb().tobytes())


def test_wrong_size_is_refused():
    with pytest.raises(ImageError, match='expected 640x480'):
        image_from_fields('rgb8', 8, 6, 24, _rgb().tobytes(), (640, 480))


@pytest.mark.parametrize('width,height,step,data,match', [
    (0, 0, 0, b'', 'empty image'),
    (8, 6, 24, b'', 'empty image data'),
    (8, 6, 24, b'\x00' * 100, 'bytes'),
    (8, 6, 10, b'\x00' * 144, 'step'),
])
def test_empty_or_truncated_is_refused(width, height, step, data, match):
    with pytest.raises(ImageError, match=match):
        image_from_fields('rgb8', width, height, step, data)


def test_image_error_is_a_validation_error():
    assert issubclass(ImageError, ValidationError)
    assert ImageError.status == 'bad_image'


def test_check_rgb_refuses_other_arrays():
    with pytest.raises(ImageError):
        check_rgb(np.zeros((6, 8), np.uint8))
    with pytest.raises(ImageError):
        check_rgb(np.zeros((6, 8, 3), np.float32))
    with pytest.raises(ImageError, match='expected 9x6'):
        check_rgb(np.zeros((6, 8, 3), np.uint8), (9, 6))
    assert check_rgb(np.zeros((6, 8, 3), np.uint8), (8, 6)).shape == (6, 8, 3)

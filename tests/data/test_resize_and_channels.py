"""resize_and_center_crop and convert_channels on known arrays."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.data.transforms import convert_channels, resize_and_center_crop


def test_center_crop_without_scaling():
    image = np.arange(4 * 8, dtype=np.uint8).reshape(4, 8, 1)
    out = resize_and_center_crop(tf.constant(image), (4, 4)).numpy()
    np.testing.assert_array_equal(out, image[:, 2:6])
    assert out.dtype == np.uint8


def test_shrink_by_area_then_crop():
    image = np.zeros((4, 8, 1), np.uint8)
    image[:2] = 200  # top half bright
    out = resize_and_center_crop(tf.constant(image), (2, 2)).numpy()[..., 0]
    # Scaled to 2x4 by 2x2 block means, then the middle 2 columns.
    np.testing.assert_array_equal(out, [[200, 200], [0, 0]])


def test_enlarge_keeps_a_constant_image_constant():
    image = tf.fill([3, 5, 3], tf.constant(77, tf.uint8))
    out = resize_and_center_crop(image, (8, 6)).numpy()
    assert out.shape == (8, 6, 3)
    assert np.all(out == 77)


def test_convert_channels():
    rgb = tf.constant([[[255, 0, 0], [0, 0, 255]]], tf.uint8)
    grey = convert_channels(rgb, 1).numpy()
    np.testing.assert_array_equal(grey[..., 0], [[76, 29]])  # 0.299 * 255, 0.114 * 255
    back = convert_channels(tf.constant(grey), 3).numpy()
    np.testing.assert_array_equal(back, np.repeat(grey, 3, axis=-1))
    rgba = tf.constant([[[1, 2, 3, 4]]], tf.uint8)
    np.testing.assert_array_equal(convert_channels(rgba, 3).numpy(), [[[1, 2, 3]]])
    with pytest.raises(ValueError, match="channels=2"):
        convert_channels(rgb, 2)

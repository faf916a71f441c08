"""The quantization and binarization formulas on known values."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.data import binarize_stochastic, binarize_threshold, quantize, validate_levels


def test_quantize_known_8_bit_values():
    values = tf.constant([0, 1, 63, 64, 127, 128, 191, 192, 255], tf.uint8)
    np.testing.assert_array_equal(quantize(values, 4, 256), [0, 0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(quantize(values, 2, 256), [0, 0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(quantize(values, 256, 256), values.numpy())
    assert quantize(values, 4, 256).dtype == tf.int32


def test_quantize_is_floor_of_v_times_levels_over_native():
    native = np.arange(17)
    for num_levels in range(2, 18):
        got = quantize(tf.constant(native), num_levels, 17).numpy()
        np.testing.assert_array_equal(got, np.floor(native * num_levels / 17))
        # Every level is used, the largest value maps to the top level.
        assert set(got.tolist()) == set(range(num_levels))


def test_threshold_at_half_intensity():
    np.testing.assert_array_equal(
        binarize_threshold(tf.constant([0, 127, 128, 255]), 256), [0, 0, 1, 1]
    )
    np.testing.assert_array_equal(binarize_threshold(tf.constant([7, 8, 16]), 17), [0, 1, 1])
    np.testing.assert_array_equal(binarize_threshold(tf.constant([0, 1]), 2), [0, 1])


def test_stochastic_probability_is_intensity():
    image = tf.fill([100, 100], tf.constant(64, tf.uint8))  # intensity 64 / 255
    draws = binarize_stochastic(image, 256, seed=1, example_key=tf.constant(9, tf.int64))
    assert abs(float(tf.reduce_mean(tf.cast(draws, tf.float32))) - 64 / 255) < 0.015
    same = binarize_stochastic(image, 256, seed=1, example_key=tf.constant(9, tf.int64))
    other = binarize_stochastic(image, 256, seed=1, example_key=tf.constant(10, tf.int64))
    np.testing.assert_array_equal(draws, same)
    assert np.mean(draws.numpy() != other.numpy()) > 0.1


@pytest.mark.parametrize(
    "args, pattern",
    [
        ((1, 256), r"num_levels=1 must be in \[2, 256\]"),
        ((3, 2), r"num_levels=3 must be in \[2, 2\]"),
        ((4, 256, "threshold"), r"binarize='threshold'.*num_levels=4"),
        ((2, 256, "bernoulli"), r"binarize='bernoulli'; allowed: None, 'threshold', 'stochastic'"),
    ],
)
def test_validate_levels_names_values(args, pattern):
    with pytest.raises(ValueError, match=pattern):
        validate_levels(*args)


def test_validate_levels_accepts_valid():
    validate_levels(2, 2)
    validate_levels(256, 256)
    validate_levels(2, 17, "stochastic")

"""Threshold and stochastic binarization through `load_dataset`."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def load(digits_data_dir, as_arrays):
    from arzoo.data import load_dataset

    def load_images(split, num_levels, **kwargs):
        dataset = load_dataset("digits", split, num_levels, data_dir=digits_data_dir, **kwargs)
        return as_arrays(dataset)[0]

    return load_images


@pytest.fixture(scope="module")
def native_test(load):
    return load("test", 17)


def test_threshold_is_intensity_at_least_half(load, native_test):
    binary = load("test", 2, binarize="threshold")
    assert set(np.unique(binary).tolist()) == {0, 1}
    # Intensity v / 16 >= 0.5  <=>  v >= 8.
    np.testing.assert_array_equal(binary, (native_test >= 8).astype(np.int32))


def test_stochastic_is_fixed_by_its_seed(load):
    first = load("test", 2, binarize="stochastic", binarize_seed=7)
    again = load("test", 2, binarize="stochastic", binarize_seed=7)
    other = load("test", 2, binarize="stochastic", binarize_seed=8)
    assert set(np.unique(first).tolist()) == {0, 1}
    np.testing.assert_array_equal(first, again)
    assert np.mean(first != other) > 0.05


def test_stochastic_mean_matches_mean_intensity(load, native_test):
    binary = load("test", 2, binarize="stochastic", binarize_seed=3)
    intensity = native_test / 16.0
    # 19,200 Bernoulli draws: the standard error of the mean is below 0.004.
    assert abs(binary.mean() - intensity.mean()) < 0.015
    # Black pixels stay 0 and full-intensity pixels stay 1.
    assert np.all(binary[native_test == 0] == 0)
    assert np.all(binary[native_test == 16] == 1)


def test_stochastic_depends_on_the_example_not_its_position(load):
    whole = load("test", 2, binarize="stochastic", binarize_seed=5)
    tail = load("test[100:]", 2, binarize="stochastic", binarize_seed=5)
    np.testing.assert_array_equal(whole[100:], tail)

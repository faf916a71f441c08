"""The offline `digits` builder: sizes, partition, shapes, levels, labels."""

import numpy as np
import pytest

from arzoo.data import load_dataset
from arzoo.data.builders.digits import NUM_TEST, SPLIT_SEED
from arzoo.data.builders.seeded_split import seeded_split


@pytest.fixture(scope="module")
def digits17(digits_data_dir, as_arrays):
    return {
        split: as_arrays(load_dataset("digits", split, 17, data_dir=digits_data_dir))
        for split in ("train", "test")
    }


def test_split_sizes_sum_to_1797(digits17):
    assert len(digits17["train"][0]) == 1497
    assert len(digits17["test"][0]) == 300
    assert len(digits17["train"][0]) + len(digits17["test"][0]) == 1797


def test_splits_partition_the_sklearn_images(digits17, sklearn_digits):
    images, labels = sklearn_digits
    train_idx, test_idx = seeded_split(len(images), NUM_TEST, SPLIT_SEED)
    assert not set(train_idx) & set(test_idx)
    assert len(set(train_idx) | set(test_idx)) == 1797
    # Each split holds exactly its indices' images and labels, in source order.
    for split, idx in (("train", train_idx), ("test", test_idx)):
        got_images, got_labels = digits17[split]
        np.testing.assert_array_equal(got_images[..., 0], images[idx])
        np.testing.assert_array_equal(got_labels, labels[idx])


def test_shapes_dtypes_and_native_range(digits17):
    images, labels = digits17["train"]
    assert images.shape == (1497, 8, 8, 1)
    assert images.dtype == np.int32 and labels.dtype == np.int32
    assert images.min() == 0 and images.max() == 16


def test_labels_are_0_to_9(digits17):
    for split in ("train", "test"):
        assert set(digits17[split][1].tolist()) == set(range(10))


def test_four_levels_follow_the_formula(digits_data_dir, digits17, as_arrays):
    images4, _ = as_arrays(load_dataset("digits", "test", 4, data_dir=digits_data_dir))
    native = digits17["test"][0]
    np.testing.assert_array_equal(images4, native * 4 // 17)
    assert set(np.unique(images4).tolist()) == {0, 1, 2, 3}
    # Known values: 0..4 -> 0, 5..8 -> 1, 9..12 -> 2, 13..16 -> 3.
    for value, level in ((4, 0), (5, 1), (8, 1), (9, 2), (12, 2), (13, 3), (16, 3)):
        assert np.all(images4[native == value] == level)


def test_default_data_dir_from_env(monkeypatch, tmp_path, as_arrays):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path))
    images, _ = as_arrays(load_dataset("digits", "test", 17))
    assert images.shape == (300, 8, 8, 1)
    assert (tmp_path / "digits" / "1.0.0" / "dataset_info.json").is_file()


def test_read_time_resize_and_channels(digits_data_dir, digits17, as_arrays):
    images, labels = as_arrays(
        load_dataset(
            "digits", "test", 17, data_dir=digits_data_dir, image_size=(4, 4), channels=3
        )
    )
    assert images.shape == (300, 4, 4, 3)
    np.testing.assert_array_equal(images[..., 0], images[..., 2])
    # Halving by area averages 2x2 blocks of the native image.
    native = digits17["test"][0][..., 0].astype(np.float64)
    blocks = native.reshape(300, 4, 2, 4, 2).mean(axis=(2, 4))
    np.testing.assert_array_equal(images[..., 0], np.round(blocks))
    np.testing.assert_array_equal(labels, digits17["test"][1])

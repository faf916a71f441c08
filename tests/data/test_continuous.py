"""The real-valued datasets of arzoo.data.continuous: shapes, standardization,
the fixed split and the dequantized digits."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from arzoo.data.continuous import (
    CONTINUOUS_DATASETS,
    continuous_dataset,
    load_continuous,
    split_indices,
)

SHAPES = {
    "wine": ((142, 13), (36, 13)),
    "breast_cancer": ((455, 30), (114, 30)),
    "digits_dequantized": ((1438, 64), (359, 64)),
}


@pytest.mark.parametrize("name", CONTINUOUS_DATASETS)
def test_shapes_and_dtype(name):
    train, test = load_continuous(name, "train"), load_continuous(name, "test")
    assert (train.shape, test.shape) == SHAPES[name]
    assert train.dtype == np.float32 and test.dtype == np.float32
    assert np.isfinite(train).all() and np.isfinite(test).all()


@pytest.mark.parametrize("name", ["wine", "breast_cancer"])
def test_standardized_with_the_train_statistics(name):
    train, test = load_continuous(name, "train"), load_continuous(name, "test")
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-4)
    # The test split went through the train statistics, not its own: its
    # means are near 0 but not 0.
    assert 1e-3 < np.abs(test.mean(axis=0)).max() < 1.0


@pytest.mark.parametrize("name", CONTINUOUS_DATASETS)
def test_the_split_is_fixed_and_disjoint(name):
    np.testing.assert_array_equal(load_continuous(name, "train"), load_continuous(name, "train"))
    np.testing.assert_array_equal(load_continuous(name, "test", seed=3), load_continuous(name, "test", seed=3))
    n = sum(shape[0] for shape in SHAPES[name])
    train, test = split_indices(n, "train"), split_indices(n, "test")
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(n))
    # Shuffled, not sorted: the scikit-learn sets are sorted by class.
    assert not np.all(np.diff(train) > 0)


def test_dequantized_digits_keep_their_levels():
    levels = load_digits().data
    for split in ("train", "test"):
        rows = levels[split_indices(len(levels), split)]
        for seed in (0, 1):
            x = load_continuous("digits_dequantized", split, seed=seed)
            assert x.min() > 0.0 and x.max() < 1.0
            np.testing.assert_array_equal(np.floor(x.astype(np.float64) * 17), rows)
            # The noise is uniform within each bin: mean 1/2, variance 1/12.
            noise = x.astype(np.float64) * 17 - rows
            assert abs(noise.mean() - 0.5) < 0.01 and abs(noise.var() - 1 / 12) < 0.005
    a = load_continuous("digits_dequantized", "train", seed=0)
    b = load_continuous("digits_dequantized", "train", seed=1)
    assert np.abs(a - b).max() > 0.5 / 17  # another seed, other noise, same split


def test_unknown_names_and_splits_are_named():
    with pytest.raises(ValueError, match=r"Unknown continuous dataset 'iris'; allowed: wine, breast_cancer, digits_dequantized"):
        load_continuous("iris", "train")
    with pytest.raises(ValueError, match=r"Unknown split 'validation'; allowed: train, test"):
        load_continuous("wine", "validation")
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got batch_size=0"):
        continuous_dataset("wine", "train", 0)


def test_continuous_dataset_batches():
    test = load_continuous("wine", "test")
    batches = [batch["x"].numpy() for batch in continuous_dataset("wine", "test", batch_size=16)]
    assert [len(b) for b in batches] == [16, 16, 4]
    np.testing.assert_array_equal(np.concatenate(batches), test)  # test keeps its order
    train = load_continuous("wine", "train")
    shuffled = np.concatenate([b["x"].numpy() for b in continuous_dataset("wine", "train", batch_size=50)])
    assert shuffled.shape == (142, 13) and not np.array_equal(shuffled, train)
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), np.sort(train, axis=0))

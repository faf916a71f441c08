"""The offline `photo_patches` builder: real colour patches, a fixed partition."""

import numpy as np
import pytest

from arzoo.data import load_dataset
from arzoo.data.builders.photo_patches import NUM_TEST, SPLIT_SEED, photo_patches
from arzoo.data.builders.seeded_split import seeded_split


@pytest.fixture(scope="module")
def patches(tmp_path_factory, as_arrays):
    data_dir = str(tmp_path_factory.mktemp("tfds_photos"))
    return {split: as_arrays(load_dataset("photo_patches", split, 256, data_dir=data_dir))
            for split in ("train", "test")}


def test_splits_partition_the_photographs_grid(patches):
    images, labels = photo_patches()
    assert images.shape == (520, 32, 32, 3) and set(labels) == {0, 1}
    train_idx, test_idx = seeded_split(len(images), NUM_TEST, SPLIT_SEED)
    assert len(patches["train"][0]) == 416 and len(patches["test"][0]) == 104
    for split, idx in (("train", train_idx), ("test", test_idx)):
        got_images, got_labels = patches[split]
        np.testing.assert_array_equal(got_images, images[idx])
        np.testing.assert_array_equal(got_labels, labels[idx])


def test_patches_are_real_colour(patches):
    images = patches["train"][0].astype(np.float64)
    assert images.min() >= 0 and images.max() <= 255
    # Colour: the channels differ, and are strongly correlated, as in photographs.
    assert np.abs(images[..., 0] - images[..., 2]).mean() > 5.0
    correlation = np.corrcoef(images[..., 0].ravel(), images[..., 1].ravel())[0, 1]
    assert 0.5 < correlation < 0.999

"""The offline `photo_patches_64` builder: 64x64 patches of the six bundled photographs."""

import numpy as np
import pytest

from arzoo.data import load_dataset
from arzoo.data.builders.photo_patches_64 import NUM_TEST, PHOTOGRAPHS, SPLIT_SEED, photographs, photo_patches_64
from arzoo.data.builders.seeded_split import seeded_split


@pytest.fixture(scope="module")
def patches(tmp_path_factory, as_arrays):
    data_dir = str(tmp_path_factory.mktemp("tfds_photos_64"))
    return {split: as_arrays(load_dataset("photo_patches_64", split, 256, data_dir=data_dir))
            for split in ("train", "test")}


def test_every_patch_is_a_64x64_tile_of_a_bundled_photograph(patches):
    images, labels = photo_patches_64()
    photos = photographs()
    assert len(photos) == len(PHOTOGRAPHS)
    counts = [(p.shape[0] // 64) * (p.shape[1] // 64) for p in photos]
    assert images.shape == (sum(counts), 64, 64, 3) and np.bincount(labels).tolist() == counts
    first_of = np.cumsum([0] + counts)
    for label, photo in enumerate(photos):
        np.testing.assert_array_equal(images[first_of[label]], photo[:64, :64, :3])  # the top-left tile
        cols = photo.shape[1] // 64
        np.testing.assert_array_equal(images[first_of[label] + cols + 1], photo[64:128, 64:128, :3])
    train_idx, test_idx = seeded_split(len(images), NUM_TEST, SPLIT_SEED)
    assert len(patches["test"][0]) == NUM_TEST and len(patches["train"][0]) == len(images) - NUM_TEST
    for split, idx in (("train", train_idx), ("test", test_idx)):
        np.testing.assert_array_equal(patches[split][0], images[idx])
        np.testing.assert_array_equal(patches[split][1], labels[idx])


def test_patches_are_real_colour(patches):
    images = patches["train"][0].astype(np.float64)
    assert np.abs(images[..., 0] - images[..., 2]).mean() > 5.0
    correlation = np.corrcoef(images[..., 0].ravel(), images[..., 1].ravel())[0, 1]
    assert 0.5 < correlation < 0.999

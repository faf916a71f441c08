"""The offline real-image sources (`dead_leaves`, `natural_patches`) and the
dequantizing loader `load_real_images`."""

import numpy as np
import pytest

from arzoo.data.builders.dead_leaves import dead_leaves_config, dead_leaves_image, power_law_radii
from arzoo.data.builders.natural_patches import cut_grey_patches, grey, natural_patches_config, photographs
from arzoo.data.real_image_load import load_real_images
from arzoo.data.sources import open_source


def test_radii_follow_the_power_law():
    radii = power_law_radii(np.random.RandomState(0), 200_000, 1.0, 16.0)
    assert radii.min() >= 1.0 and radii.max() <= 16.0
    # P(r > t) = (t^-2 - 16^-2) / (1 - 16^-2) for density ~ r^-3 on [1, 16].
    for t in (1.5, 2.0, 4.0):
        expected = (t ** -2 - 16.0 ** -2) / (1.0 - 16.0 ** -2)
        assert abs(np.mean(radii > t) - expected) < 0.005


def test_dead_leaves_cover_the_image_with_flat_discs():
    image = dead_leaves_image(np.random.RandomState(1), 16, 16)
    again = dead_leaves_image(np.random.RandomState(1), 16, 16)
    np.testing.assert_array_equal(image, again)  # a function of its seed
    assert image.shape == (16, 16) and image.dtype == np.uint8
    # Discs make flat regions: neighbouring pixels are equal or close far more
    # often than independent grey levels would be (5 in 256, 2%), and the
    # image is not one flat colour.
    steps = np.abs(np.diff(image.astype(int), axis=1))
    assert np.mean(steps <= 2) > 0.15 and image.std() > 5


@pytest.mark.parametrize("make, name", [(dead_leaves_config, "8x8x1"), (natural_patches_config, "8"),
                                        (dead_leaves_config, "1x8")])
def test_bad_config_names_are_named(make, name):
    with pytest.raises(ValueError, match=repr(name)):
        make(name)


def test_natural_patches_are_grey_grids_of_the_photographs():
    photos = photographs()
    assert len(photos) == 10 and all(p.dtype == np.uint8 and p.ndim == 2 for p in photos)
    np.testing.assert_array_equal(grey(np.array([[[255, 255, 255], [0, 0, 0]]])), [[255, 0]])
    patches, labels = cut_grey_patches(photos, 8, 8)
    assert len(patches) == sum((p.shape[0] // 8) * (p.shape[1] // 8) for p in photos)
    np.testing.assert_array_equal(patches[0], photos[0][:8, :8])
    np.testing.assert_array_equal(patches[1], photos[0][:8, 8:16])
    assert labels[0] == 0 and labels[-1] == len(photos) - 1


def test_sizes_are_configs_of_the_offline_sources(tmp_path):
    source = open_source("dead_leaves/6x5", data_dir=str(tmp_path))
    assert source.stored_shape == (6, 5, 1) and source.native_levels == 256 and source.offline
    with pytest.raises(ValueError, match="no config 'big'"):
        open_source("digits/big", data_dir=str(tmp_path))


@pytest.fixture(scope="module")
def built_data_dir(tmp_path_factory):
    """One folder the 4x4 dead leaves are built into, for the tests that read them."""
    return tmp_path_factory.mktemp("dead_leaves_4x4")


def test_dequantized_images_floor_to_their_levels(built_data_dir):
    name, tmp_path = "dead_leaves/4x4", built_data_dir
    levels = [e["image"] for e in __import__("arzoo").data.load_dataset(
        name, "test[:16]", 256, data_dir=str(tmp_path)).as_numpy_iterator()]
    test = [e["image"] for e in load_real_images(name, "test[:16]", data_dir=str(tmp_path)).as_numpy_iterator()]
    again = [e["image"] for e in load_real_images(name, "test[:16]", data_dir=str(tmp_path)).as_numpy_iterator()]
    test, again, levels = np.stack(test), np.stack(again), np.stack(levels)
    assert test.dtype == np.float32 and test.min() >= 0.0 and test.max() < 1.0
    np.testing.assert_array_equal(np.floor(test * 256), levels)  # x = (X + u) / 256
    np.testing.assert_array_equal(test, again)  # the test noise is fixed
    # Training reads an endless stream, fresh noise each time an image comes round.
    stream = load_real_images(name, "test[:16]", training=True, seed=3, data_dir=str(tmp_path))
    first, second = np.split(np.stack([e["image"] for e in stream.take(32).as_numpy_iterator()]), 2)
    np.testing.assert_array_equal(np.floor(first * 256), levels)
    np.testing.assert_array_equal(np.floor(second * 256), levels)
    assert not np.array_equal(first, second)
    replay = load_real_images(name, "test[:16]", training=True, seed=3, data_dir=str(tmp_path))
    np.testing.assert_array_equal(np.stack([e["image"] for e in replay.take(16).as_numpy_iterator()]), first)


def test_removing_the_mean_centres_each_image_after_the_noise(built_data_dir):
    """The BSDS300 protocol: x = (X + u) / 256 less its mean, the same noise."""
    name, data_dir = "dead_leaves/4x4", str(built_data_dir)
    raw = np.stack([e["image"] for e in load_real_images(name, "test[:8]", data_dir=data_dir).as_numpy_iterator()])
    centred = np.stack([e["image"] for e in load_real_images(
        name, "test[:8]", data_dir=data_dir, remove_mean=True).as_numpy_iterator()])
    np.testing.assert_allclose(centred, raw - raw.mean(axis=(1, 2), keepdims=True), atol=1e-6)
    np.testing.assert_allclose(centred.sum(axis=(1, 2)), 0.0, atol=1e-5)
    stream = load_real_images(name, "test[:8]", training=True, seed=3, data_dir=data_dir, remove_mean=True)
    np.testing.assert_allclose(np.stack([e["image"] for e in stream.take(8).as_numpy_iterator()]).mean(axis=(1, 2)),
                               0.0, atol=1e-6)

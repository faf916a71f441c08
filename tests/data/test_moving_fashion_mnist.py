"""The offline `moving_fashion_mnist` video builder and `load_video_dataset`."""

import os

import numpy as np
import pytest

from arzoo.data.builders.fashion_mnist_local import fashion_mnist_dir
from arzoo.data.builders.moving_fashion_mnist import bouncing_paths, moving_config, moving_sequence
from arzoo.data.video_load import load_video_dataset, open_video_source

FOLDER = fashion_mnist_dir()
needs_files = pytest.mark.skipif(
    not os.path.isfile(os.path.join(FOLDER, "t10k-images-idx3-ubyte.gz")),
    reason=f"Fashion-MNIST IDX files not in {FOLDER} (apt-get install dataset-fashion-mnist)",
)
NAME = "moving_fashion_mnist/12x12_4frames"


def test_paths_bounce_inside_the_frame():
    path = bouncing_paths(np.random.RandomState(0), 200, 2)
    assert path.shape == (200, 2, 2) and path.min() >= 0.0 and path.max() <= 1.0
    steps = np.abs(np.diff(path, axis=0))
    assert np.all(steps <= 0.1 + 1e-9) and np.all(steps.max(axis=(0, 1)) > 0.05)  # they move, at most 0.1 a frame
    moves = np.diff(path, axis=0)
    assert np.any(np.sign(moves[1:]) != np.sign(moves[:-1])), "no sprite ever bounced"


def test_sequences_draw_sprites_where_the_path_says():
    sprites = np.stack([np.full((2, 2), 100, np.uint8), np.full((2, 2), 200, np.uint8)])
    path = np.array([[[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]]])  # [T=2, S=2, 2]
    video = moving_sequence(sprites, path, 4, 5)
    assert video.shape == (2, 4, 5)
    np.testing.assert_array_equal(video[0, :2, :2], 200)  # overlapping: the brighter value
    assert video[0].sum() == 4 * 200
    np.testing.assert_array_equal(video[1, 2:, 3:], 100)  # bottom right corner
    np.testing.assert_array_equal(video[1, :2, 3:], 200)  # top right corner


@pytest.mark.parametrize("name", ["64x64", "", "8x8x4", "8x8_4"])
def test_bad_config_names_say_the_form(name):
    with pytest.raises(ValueError, match="<height>x<width>_<frames>frames"):
        moving_config(name)


@pytest.mark.parametrize("name", ["8x8_0frames", "1x8_4frames"])
def test_too_small_configs_are_refused(name):
    with pytest.raises(ValueError, match="at least 2x2, and 1 long"):
        moving_config(name)


@needs_files
def test_prepared_splits_are_seeded_and_take_the_right_sprites(tmp_path):
    test = list(load_video_dataset(NAME, "test[:3]", 256, data_dir=str(tmp_path / "a")).as_numpy_iterator())
    again = list(load_video_dataset(NAME, "test[:3]", 256, data_dir=str(tmp_path / "b")).as_numpy_iterator())
    for first, second in zip(test, again):  # prepared twice from nothing: the same test set
        np.testing.assert_array_equal(first["video"], second["video"])
    video = test[0]["video"]
    assert video.shape == (4, 12, 12, 1) and video.dtype == np.int32 and video.max() > 0
    assert not np.array_equal(video[0], video[1]), "the sprites do not move"
    train = next(load_video_dataset(NAME, "train[:1]", 256, data_dir=str(tmp_path / "a")).as_numpy_iterator())
    assert not np.array_equal(train["video"], video)
    source = open_video_source(NAME, data_dir=str(tmp_path / "a"))
    assert source.builder.info.splits["test"].num_examples == 1000
    assert source.builder.info.splits["train"].num_examples == 10000
    binary = next(load_video_dataset(NAME, "test[:1]", 2, binarize="threshold",
                                     data_dir=str(tmp_path / "a")).as_numpy_iterator())["video"]
    np.testing.assert_array_equal(binary, (video >= 128).astype(np.int32))
    levels = next(load_video_dataset(NAME, "test[:1]", 4, data_dir=str(tmp_path / "a")).as_numpy_iterator())["video"]
    np.testing.assert_array_equal(levels, video * 4 // 256)


@pytest.mark.parametrize("name, shape", [
    ("moving_fashion_mnist", (10, 32, 32, 1)),  # the default config
    ("moving_fashion_mnist/32x32_10frames", (10, 32, 32, 1)),
    ("moving_fashion_mnist/64x64_20frames", (20, 64, 64, 1)),  # the paper's size
    ("moving_fashion_mnist/16x24_3frames", (3, 16, 24, 1)),
])
def test_listed_and_other_configs_open(name, shape, tmp_path):
    source = open_video_source(name, data_dir=str(tmp_path))
    assert source.video_shape == shape and source.offline and source.native_levels == 256


def test_unknown_names_and_levels_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown video dataset name='moving_fashion_mnits'.*moving_fashion_mnist"):
        open_video_source("moving_fashion_mnits", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="no video feature"):
        open_video_source("mnist", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="num_levels=300 must be in \\[2, 256\\]"):
        load_video_dataset(NAME, "test", 300, data_dir=str(tmp_path))

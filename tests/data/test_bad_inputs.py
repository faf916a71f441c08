"""Bad arguments fail early with ValueErrors that name the values."""

import pytest

from arzoo.data import load_dataset


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(num_levels=2, binarize="otsu"), r"binarize='otsu'.*'threshold', 'stochastic'"),
        (dict(num_levels=1), r"num_levels=1 must be in \[2, 17\]"),
        (dict(num_levels=18), r"num_levels=18 must be in \[2, 17\]"),
        (dict(num_levels=4, binarize="threshold"), r"binarize='threshold'.*num_levels=4"),
        (dict(num_levels=4, binarize="stochastic"), r"binarize='stochastic'.*num_levels=4"),
        (dict(num_levels=17, channels=2), r"channels=2"),
        (dict(num_levels=17, image_size=(0, 4)), r"image_size=\(0, 4\)"),
        (dict(num_levels=17, image_folder="/tmp/x"), r"image_folder='/tmp/x'.*name='digits'"),
    ],
)
def test_value_errors_name_the_value(kwargs, pattern, tmp_path):
    with pytest.raises(ValueError, match=pattern):
        load_dataset("digits", "train", data_dir=str(tmp_path), **kwargs)
    # Validation happens before anything is prepared.
    assert not (tmp_path / "digits").exists()


def test_num_levels_above_256_for_8_bit(tmp_path):
    with pytest.raises(ValueError, match=r"num_levels=257 must be in \[2, 256\]"):
        load_dataset("mnist", "train", 257, data_dir=str(tmp_path))


def test_unknown_name_lists_offline_names(tmp_path):
    with pytest.raises(ValueError, match="no_such_set.*digits, fashion_mnist_local, image_folder"):
        load_dataset("no_such_set", "train", 2, data_dir=str(tmp_path))


def test_image_folder_needs_a_folder(tmp_path):
    with pytest.raises(ValueError, match="image_folder=<path"):
        load_dataset("image_folder", "train", 2, data_dir=str(tmp_path))

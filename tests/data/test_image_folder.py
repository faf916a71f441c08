"""The offline `image_folder` builder: labels from subfolders, resize, split."""

import numpy as np
import pytest
from PIL import Image

from arzoo.data import dataset_info, load_dataset

# class name -> (RGB colour, number of images); sorted names give labels 0, 1, 2.
CLASSES = {"apple": ((200, 30, 10), 4), "kiwi": ((20, 160, 40), 3), "plum": ((90, 20, 120), 5)}


def _write_images(folder, classes=CLASSES):
    """Solid-colour PNGs of assorted sizes in one subfolder per class."""
    sizes = [(12, 9), (7, 7), (20, 10), (6, 15), (9, 9)]
    for name, (colour, count) in classes.items():
        (folder / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", sizes[i], colour).save(folder / name / f"{i}.png")
    return folder


@pytest.fixture
def folder(tmp_path):
    return _write_images(tmp_path / "fruit")


def _load_all(folder, data_dir, as_arrays, **kwargs):
    return {
        split: as_arrays(
            load_dataset(
                "image_folder", split, 256, image_folder=str(folder), data_dir=data_dir, **kwargs
            )
        )
        for split in ("train", "test")
    }


def test_labels_shapes_and_values_rgb(folder, tmp_path, as_arrays):
    splits = _load_all(folder, str(tmp_path / "tfds"), as_arrays, image_size=(6, 5))
    images = np.concatenate([splits["train"][0], splits["test"][0]])
    labels = np.concatenate([splits["train"][1], splits["test"][1]])
    assert images.shape == (12, 6, 5, 3)
    assert len(splits["test"][0]) == 1  # round(0.1 * 12) = 1
    assert sorted(labels.tolist()) == [0] * 4 + [1] * 3 + [2] * 5
    colours = [np.array(c) for c, _ in CLASSES.values()]
    for image, label in zip(images, labels):
        # A solid image stays solid through resizing and cropping.
        assert np.all(image == colours[label])


def test_grey_conversion(folder, tmp_path, as_arrays):
    splits = _load_all(folder, str(tmp_path / "tfds"), as_arrays, image_size=(4, 4), channels=1)
    images, labels = splits["train"]
    assert images.shape[1:] == (4, 4, 1)
    for image, label in zip(images, labels):
        r, g, b = list(CLASSES.values())[label][0]
        # ITU-R 601 luma, as TensorFlow's decoder converts RGB to grey.
        assert abs(int(image[0, 0, 0]) - (0.299 * r + 0.587 * g + 0.114 * b)) <= 1
        assert np.all(image == image[0, 0, 0])


def test_flat_folder_labels_are_zero_and_levels_quantize(tmp_path, as_arrays):
    flat = tmp_path / "flat"
    flat.mkdir()
    # Grey PNG, grey BMP, RGB JPEG (solid grey survives JPEG exactly) and an
    # RGBA PNG: decoding handles each format's channels the same way.
    Image.new("L", (8, 8), 10).save(flat / "img0.png")
    Image.new("L", (8, 8), 50).save(flat / "img1.bmp")
    Image.new("RGB", (8, 8), (90, 90, 90)).save(flat / "img2.jpg", quality=95)
    Image.new("RGBA", (8, 8), (130, 130, 130, 255)).save(flat / "img3.png")
    Image.new("L", (8, 8), 170).save(flat / "img4.PNG")
    (flat / "readme.txt").write_text("not an image")
    data_dir = str(tmp_path / "tfds")
    info = dataset_info(
        "image_folder", image_folder=str(flat), image_size=(8, 8), channels=1, data_dir=data_dir
    )
    assert (info.image_shape, info.num_classes, info.native_levels) == ((8, 8, 1), 1, 256)
    images, labels = [], []
    for split in ("train", "test"):
        dataset = load_dataset(
            "image_folder", split, 4, image_folder=str(flat), data_dir=data_dir,
            image_size=(8, 8), channels=1,
        )
        split_images, split_labels = as_arrays(dataset)
        images.append(split_images)
        labels.append(split_labels)
    images, labels = np.concatenate(images), np.concatenate(labels)
    assert labels.tolist() == [0] * 5
    # Values 10, 50, 90, 130, 170 -> floor(v * 4 / 256) = 0, 0, 1, 2, 2.
    assert sorted(images[:, 0, 0, 0].tolist()) == [0, 0, 1, 2, 2]


def test_prepared_copy_is_reused_until_the_folder_changes(folder, tmp_path):
    data_dir = tmp_path / "tfds"
    kwargs = dict(image_folder=str(folder), data_dir=str(data_dir), image_size=(4, 4))
    load_dataset("image_folder", "train", 256, **kwargs)
    load_dataset("image_folder", "train", 256, **kwargs)
    assert len(list((data_dir / "image_folder").iterdir())) == 1
    Image.new("RGB", (5, 5), (1, 2, 3)).save(folder / "kiwi" / "new.png")
    load_dataset("image_folder", "train", 256, **kwargs)
    assert len(list((data_dir / "image_folder").iterdir())) == 2


def test_missing_or_empty_folder_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_dataset(
            "image_folder", "train", 256, image_folder=str(missing), image_size=(4, 4),
            data_dir=str(tmp_path / "tfds"),
        )
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError, match=str(empty)):
        load_dataset(
            "image_folder", "train", 256, image_folder=str(empty), image_size=(4, 4),
            data_dir=str(tmp_path / "tfds"),
        )


def test_needs_image_size(folder, tmp_path):
    with pytest.raises(ValueError, match="image_size=None"):
        load_dataset(
            "image_folder", "train", 256, image_folder=str(folder), data_dir=str(tmp_path)
        )

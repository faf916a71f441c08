"""The offline `fashion_mnist_local` builder over Debian's IDX files."""

import gzip
import os
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from arzoo.data import dataset_info, load_dataset
from arzoo.data.builders.fashion_mnist_local import FashionMnistLocal, fashion_mnist_dir

FOLDER = fashion_mnist_dir()
pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(FOLDER, "t10k-images-idx3-ubyte.gz")),
    reason=f"Fashion-MNIST IDX files not in {FOLDER} (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(scope="module")
def fashion_data_dir(tmp_path_factory):
    """Prepares the 70,000 images once for this module; prints the time taken."""
    data_dir = str(tmp_path_factory.mktemp("tfds_fashion"))
    start = time.perf_counter()
    load_dataset("fashion_mnist_local", "test", 256, data_dir=data_dir)
    seconds = time.perf_counter() - start
    print(f"fashion_mnist_local prepared in {seconds:.1f} s")
    assert seconds < 60
    return data_dir


def _idx_first_image(path):
    """The first 28x28 image of an IDX images file, parsed here with numpy."""
    with gzip.open(path, "rb") as f:
        header = np.frombuffer(f.read(16), dtype=">u4")
        first = np.frombuffer(f.read(28 * 28), dtype=np.uint8)
    assert header[0] == 0x803 and tuple(header[2:]) == (28, 28)
    return first.reshape(28, 28)


def _count(dataset):
    return int(dataset.reduce(np.int64(0), lambda n, _: n + 1))


def test_split_sizes(fashion_data_dir):
    info = dataset_info("fashion_mnist_local", data_dir=fashion_data_dir)
    assert info.split_sizes == {"train": 60000, "test": 10000}
    assert info.image_shape == (28, 28, 1)
    assert (info.native_levels, info.num_classes) == (256, 10)
    test = load_dataset("fashion_mnist_local", "test", 256, data_dir=fashion_data_dir)
    assert _count(test) == 10000
    # Count the stored train records without decoding 60,000 PNGs.
    train = FashionMnistLocal(data_dir=fashion_data_dir).as_dataset(
        split="train", decoders={"image": tfds.decode.SkipDecoding()}
    )
    assert _count(train) == 60000


def test_first_test_image_matches_idx_file(fashion_data_dir):
    expected = _idx_first_image(os.path.join(FOLDER, "t10k-images-idx3-ubyte.gz"))
    with gzip.open(os.path.join(FOLDER, "t10k-labels-idx1-ubyte.gz"), "rb") as f:
        expected_label = f.read(9)[8]
    test = load_dataset("fashion_mnist_local", "test", 256, data_dir=fashion_data_dir)
    first = next(iter(test))
    assert first["image"].shape == (28, 28, 1)
    assert first["image"].dtype == tf.int32
    assert int(tf.reduce_sum(first["image"])) == int(expected.sum())
    np.testing.assert_array_equal(first["image"].numpy()[..., 0], expected)
    assert int(first["label"]) == expected_label


def test_quantized_to_16_levels(fashion_data_dir):
    expected = _idx_first_image(os.path.join(FOLDER, "t10k-images-idx3-ubyte.gz"))
    test = load_dataset("fashion_mnist_local", "test", 16, data_dir=fashion_data_dir)
    image = next(iter(test))["image"].numpy()[..., 0]
    np.testing.assert_array_equal(image, expected.astype(np.int32) * 16 // 256)
    assert image.max() == 15


def test_missing_files_say_how_to_get_them(monkeypatch, tmp_path):
    missing = str(tmp_path / "no_such_folder")
    monkeypatch.setenv("ARZOO_FASHION_MNIST_DIR", missing)
    with pytest.raises(FileNotFoundError) as raised:
        load_dataset("fashion_mnist_local", "train", 256, data_dir=str(tmp_path / "tfds"))
    message = str(raised.value)
    assert missing in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "'fashion_mnist'" in message

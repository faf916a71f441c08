"""TFDS catalogue names: described offline, fail fast and helpfully offline."""

import socket
import time

import pytest
import tensorflow_datasets as tfds

from arzoo.data import DatasetUnavailableError, dataset_info, load_dataset
from arzoo.data import sources


def _no_dns(*args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture
def offline(monkeypatch):
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sources.socket, "getaddrinfo", _no_dns)


@pytest.mark.parametrize(
    "name, shape, levels, classes",
    [
        ("mnist", (28, 28, 1), 256, 10),
        ("binarized_mnist", (28, 28, 1), 2, 1),
        ("cifar10", (32, 32, 3), 256, 10),
        ("celeb_a", (218, 178, 3), 256, 1),
    ],
)
def test_catalogue_info_needs_no_download(name, shape, levels, classes, tmp_path):
    info = dataset_info(name, data_dir=str(tmp_path))
    assert (info.image_shape, info.native_levels, info.num_classes) == (shape, levels, classes)
    assert info.split_sizes == {}


def test_catalogue_read_time_resize_in_info(tmp_path):
    info = dataset_info("celeb_a", data_dir=str(tmp_path), image_size=(32, 32), channels=1)
    assert info.image_shape == (32, 32, 1)


def test_no_network_fails_fast_naming_offline_sets(offline, tmp_path):
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as raised:
        load_dataset("mnist", "train", 256, data_dir=str(tmp_path))
    assert time.perf_counter() - start < 5
    message = str(raised.value)
    assert "'mnist'" in message and "storage.googleapis.com" in message
    assert "digits, fashion_mnist_local, image_folder" in message


def test_download_error_is_reraised_with_offline_names(monkeypatch, tmp_path):
    monkeypatch.setattr(sources, "network_unreachable_reason", lambda: None)
    mnist_class = type(tfds.builder("mnist", data_dir=str(tmp_path), try_gcs=False))

    def failing_download(self, *args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(mnist_class, "download_and_prepare", failing_download)
    with pytest.raises(DatasetUnavailableError, match="connection refused.*digits") as raised:
        load_dataset("mnist", "test", 256, data_dir=str(tmp_path))
    assert isinstance(raised.value.__cause__, ConnectionError)

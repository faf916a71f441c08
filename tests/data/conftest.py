"""Shared fixtures: offline datasets prepared once per session in tmp folders."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from arzoo.data import load_dataset


@pytest.fixture(autouse=True)
def _no_home_data_dir(monkeypatch, tmp_path_factory):
    """A test that forgets data_dir writes to a tmp folder, never to ~."""
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path_factory.getbasetemp() / "default_tfds"))


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory):
    """A data_dir holding the prepared digits dataset."""
    data_dir = tmp_path_factory.mktemp("tfds_digits")
    load_dataset("digits", "train", 17, data_dir=str(data_dir))
    return str(data_dir)


@pytest.fixture(scope="session")
def sklearn_digits():
    """(images uint8 [1797, 8, 8], labels [1797]) straight from scikit-learn."""
    digits = load_digits()
    return digits.images.astype(np.uint8), digits.target


def _as_arrays(dataset):
    images, labels = [], []
    for batch in dataset.batch(4096):
        images.append(batch["image"].numpy())
        labels.append(batch["label"].numpy())
    return np.concatenate(images), np.concatenate(labels)


@pytest.fixture(scope="session")
def as_arrays():
    """f(dataset) -> all its examples as numpy (images [N, H, W, C], labels [N])."""
    return _as_arrays

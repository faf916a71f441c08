"""Fixtures of the training tests."""

import pytest


@pytest.fixture(scope="session")
def training_data_dir(tmp_path_factory):
    """A data_dir holding the prepared digits dataset (prepared once)."""
    from arzoo.data import load_dataset

    data_dir = tmp_path_factory.mktemp("training_tfds")
    load_dataset("digits", "train", 4, data_dir=str(data_dir))
    return str(data_dir)

"""Evaluation: NLL bookkeeping, the baselines, and training beating them on real data."""

import math

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.evaluation import evaluate_log_likelihood, independent_pixel_baseline, uniform_baseline
from tests import test_case


def as_dataset(images, labels=None):
    labels = np.zeros(len(images), np.int32) if labels is None else labels
    return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})


def test_evaluate_matches_log_prob():
    model = test_case.build_tiny("gated_pixelcnn")
    x = test_case.random_images(model, 10)
    report = evaluate_log_likelihood(model, as_dataset(x), batch_size=4)
    expected = -model.log_prob(x).numpy().astype(np.float64).mean()
    assert report.num_examples == 10
    assert report.nats_per_image == pytest.approx(expected, rel=1e-5)
    assert report.bits_per_dim == pytest.approx(expected / (16 * math.log(2)), rel=1e-5)
    assert report.headline(3).endswith("bits/dim") and report.headline(2).endswith("nats/image")


def test_baselines_by_hand():
    uniform = uniform_baseline([2, 2, 1], 4)
    assert uniform.bits_per_dim == 2.0 and uniform.nats_per_image == pytest.approx(4 * math.log(4))
    train_x = np.array([[[[0]]], [[[1]]], [[[1]]]], np.int32)  # 1x1x1 images, 3 levels
    test_x = np.array([[[[1]]], [[[2]]]], np.int32)
    report = independent_pixel_baseline(as_dataset(train_x), as_dataset(test_x), [1, 1, 1], 3)
    # add-one counts: level0 2, level1 3, level2 1 -> p = 2/6, 3/6, 1/6
    expected = -(math.log(3 / 6) + math.log(1 / 6)) / 2
    assert report.nats_per_image == pytest.approx(expected)
    assert report.num_examples == 2


# Gated PixelCNN's run (40 s of the suite) runs with `make test-extras`; the
# demo trains that family in `make test` too.
@pytest.mark.slow
@pytest.mark.parametrize("family", ["pixelcnn", pytest.param("gated_pixelcnn", marks=pytest.mark.extras)])
def test_training_on_digits_beats_the_independent_pixel_baseline(family, tmp_path, monkeypatch):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path / "data"))
    config = arzoo.load_config(
        test_case.REPO / "zoo_configs" / "digits" / f"{family}.yaml",
        ["training.steps=300", "training.checkpoint_every=300", "model.num_filters=16",
         "model.num_output_filters=32"],
    )
    trained = test_case.check_digits_training_beats_the_independent_pixel_baseline(config, tmp_path / "run")
    assert trained.num_examples == 300

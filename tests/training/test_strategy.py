"""Strategy selection: names, logical CPUs, errors; mirrored in a subprocess."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.training import configure_logical_cpus, make_strategy, train
from arzoo.training.strategy import STRATEGIES, is_chief
from tests.training.helpers import run_worker, tiny_config
from tests.training.worker import synthetic_dataset


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match=r"'parameter_server'.*default, mirrored, multi_worker, tpu"):
        make_strategy("parameter_server")


def test_strategy_names():
    assert STRATEGIES == ("default", "mirrored", "multi_worker", "tpu")


def test_default_strategy():
    strategy = make_strategy("default")
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert is_chief(strategy)


def test_bad_num_devices():
    with pytest.raises(ValueError, match="num_devices"):
        make_strategy("mirrored", num_devices=0)


def test_logical_cpus_after_tensorflow_started():
    tf.constant(1.0) + 1.0  # TensorFlow has fixed its devices now
    present = len(tf.config.list_logical_devices("CPU"))
    with pytest.raises(RuntimeError, match=f"already initialised {present} logical CPU"):
        configure_logical_cpus(present + 5)
    configure_logical_cpus(present)  # the count in place: harmless


def test_mirrored_with_too_few_devices():
    present = len(tf.config.list_logical_devices("CPU"))
    with pytest.raises(ValueError, match="configure_logical_cpus"):
        make_strategy("mirrored", num_devices=present + 1)


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        make_strategy("multi_worker")


MIRRORED_TRAINING = {
    "steps": 6, "log_every": 2, "checkpoint_every": 3, "learning_rate": 0.01,
    "grad_clip_norm": 0.05, "ema_decay": 0.9,
}


@pytest.mark.slow
def test_mirrored_two_logical_cpus_matches_one_device(tmp_path):
    # Two replicas of batch 4 see the rows one device sees in a batch of 8
    # (one input pipeline, consecutive per-replica batches), so with the loss
    # and clipping scaled by the global batch the runs must agree.
    config = tiny_config(training={"strategy": "mirrored", **MIRRORED_TRAINING})
    done = run_worker(config, tmp_path / "mirrored", "--logical-cpus", 2, "--synthetic", 64)
    assert done["num_replicas"] == 2
    mirrored = np.array(done["history"])
    assert mirrored[:, 0].tolist() == [2, 4, 6]
    assert np.all(np.isfinite(mirrored[:, 1]))
    assert (tmp_path / "mirrored" / "checkpoints" / "ckpt-6.index").exists()
    assert (tmp_path / "mirrored" / "model.keras").exists()

    single = train(
        tiny_config(training={"strategy": "default", **MIRRORED_TRAINING}),
        tmp_path / "default", progress=False, train_dataset=synthetic_dataset(64, [8, 8, 1], 4),
    )
    assert single.num_replicas == 1
    np.testing.assert_allclose(mirrored[:, 1], np.array(single.history)[:, 1], rtol=1e-4)

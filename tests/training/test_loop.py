"""The training loop under the default strategy, on the offline digits data."""

import glob
import os
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.training import CheckpointError, train
from arzoo.training.summaries import image_grid
from tests.training.helpers import tiny_config
from tests.training.worker import synthetic_dataset

STEPS = 60


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory, training_data_dir):
    """60 steps on digits with evaluation, samples and EMA; (result, output_dir, logs, config)."""
    output_dir = str(tmp_path_factory.mktemp("digits_run"))
    config = tiny_config(
        data={"data_dir": training_data_dir, "batch_size": 32, "max_test_examples": 128},
        training={
            "steps": STEPS, "learning_rate": 0.01, "log_every": 10, "checkpoint_every": 20,
            "eval_every": 30, "sample_every": 30, "num_samples": 5, "ema_decay": 0.9,
        },
    )
    logs = []
    result = train(config, output_dir, progress=False, callbacks=[lambda step, log: logs.append((step, log))])
    return result, output_dir, logs, config


def test_training_lowers_bits_per_dim(digits_run):
    result, _, logs, _ = digits_run
    assert result.step == STEPS and result.start_step == 0
    steps, bpd = zip(*result.history)
    assert steps == (10, 20, 30, 40, 50, 60)
    # 4 levels: a uniform model costs 2 bits/dim; digits are mostly background.
    assert 1.5 < bpd[0] < 2.2
    assert bpd[-1] < bpd[0] - 0.3
    assert result.bits_per_dim == bpd[-1]
    assert 0.3 < result.test_bits_per_dim < 1.5
    assert [step for step, _ in logs] == list(steps)
    assert logs[-1][1]["test_bits_per_dim"] == result.test_bits_per_dim
    assert logs[0][1]["learning_rate"] == pytest.approx(0.01)
    assert all(log["steps_per_second"] > 0 for _, log in logs)
    assert result.wall_time > 0


def test_checkpoints_and_model_file(digits_run):
    result, output_dir, _, _ = digits_run
    checkpoints = os.path.join(output_dir, "checkpoints")
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-60")
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(checkpoints, "*.index"))) == [
        "ckpt-20.index", "ckpt-40.index", "ckpt-60.index"
    ]
    assert not [p for p in os.listdir(output_dir) if p.startswith(".")]  # no temp file left
    reader = tf.train.load_checkpoint(os.path.join(checkpoints, "ckpt-60"))
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == STEPS


def test_model_file_holds_the_ema_weights(digits_run):
    result, output_dir, _, _ = digits_run
    loaded = keras.models.load_model(os.path.join(output_dir, "model.keras"))
    for saved, returned in zip(loaded.trainable_weights, result.model.trainable_weights):
        np.testing.assert_array_equal(saved.numpy(), returned.numpy())
    # The checkpoint keeps the raw weights, which differ from the averages.
    raw = arzoo.build_model(tiny_config())
    tf.train.Checkpoint(model=raw).restore(
        os.path.join(output_dir, "checkpoints", "ckpt-60")
    ).expect_partial()
    differences = [
        np.abs(r.numpy() - e.numpy()).max() for r, e in zip(raw.trainable_weights, loaded.trainable_weights)
    ]
    assert max(differences) > 1e-4
    x = np.zeros((2, 8, 8, 1), np.int32)
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), result.model.log_prob(x).numpy(), rtol=1e-6)


def _events(output_dir):
    events = {}
    for path in sorted(glob.glob(os.path.join(output_dir, "tensorboard", "events.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                events.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return events


def test_tensorboard_scalars_and_samples(digits_run):
    result, output_dir, _, _ = digits_run
    events = _events(output_dir)
    assert {"train/bits_per_dim", "train/steps_per_second", "train/learning_rate",
            "test/bits_per_dim", "samples"} <= set(events)
    logged = [(step, float(value)) for step, value in events["train/bits_per_dim"]]
    np.testing.assert_allclose(np.array(logged), np.array(result.history), rtol=1e-6)
    assert [step for step, _ in events["test/bits_per_dim"]] == [30, 60]
    assert float(events["test/bits_per_dim"][-1][1]) == pytest.approx(result.test_bits_per_dim, rel=1e-6)
    assert [step for step, _ in events["samples"]] == [30, 60]
    width, height, png = events["samples"][0][1]
    assert (int(width), int(height)) == (24, 16)  # 5 samples of 8x8 in a 3x2 grid
    grid = tf.io.decode_png(png).numpy()
    assert grid.shape == (16, 24, 1)
    assert set(np.unique(grid)) <= {0, 85, 170, 255}  # 4 levels scaled to 8 bits


def test_resume_goes_on_from_the_last_checkpoint(digits_run, tmp_path):
    result, output_dir, _, config = digits_run
    copy = tmp_path / "copy"
    shutil.copytree(output_dir, copy)
    config = {**config, "training": {**config["training"], "log_every": 5}}
    # Already at the target: nothing to train, the outputs stay.
    same = train(config, copy, steps=STEPS, progress=False)
    assert (same.start_step, same.step, same.history) == (STEPS, STEPS, [])
    more = train(config, copy, steps=STEPS + 10, progress=False)
    assert (more.start_step, more.step) == (STEPS, STEPS + 10)
    assert [step for step, _ in more.history] == [65, 70]
    assert more.bits_per_dim < result.history[0][1]  # not back to an untrained model
    assert tf.train.latest_checkpoint(str(copy / "checkpoints")).endswith("ckpt-70")


def test_unreadable_checkpoint_falls_back_to_the_one_before(digits_run, tmp_path, capsys):
    """A checkpoint truncated by a crash is named on stderr and the one before
    it resumed; with none readable, or a corrupt state file, an error names them."""
    _, output_dir, _, config = digits_run
    copy = tmp_path / "copy"
    shutil.copytree(output_dir, copy)
    checkpoints = copy / "checkpoints"
    (data,) = checkpoints.glob("ckpt-60.data-*")
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    capsys.readouterr()
    resumed = train(config, copy, steps=STEPS + 1, progress=False)
    assert (resumed.start_step, resumed.step) == (40, STEPS + 1)
    err = capsys.readouterr().err
    assert re.search(r"checkpoint .*ckpt-60 is unreadable \(\w+", err) and "resumed from" in err
    for index in checkpoints.glob("ckpt-*.index"):
        index.write_bytes(b"not a checkpoint index")
    with pytest.raises(CheckpointError, match=r"No readable checkpoint in .*ckpt-61.*ckpt-40"):
        train(config, copy, steps=STEPS + 2, progress=False)
    (checkpoints / "checkpoint").write_text("model_checkpoint_path: {{{")
    with pytest.raises(CheckpointError, match=str(checkpoints / "checkpoint")):
        train(config, copy, steps=STEPS + 2, progress=False)


def test_export_restores_the_newest_readable_checkpoint(digits_run, tmp_path):
    from arzoo.training.checkpoints import restore_weights

    _, output_dir, _, config = digits_run
    copy = tmp_path / "copy"
    shutil.copytree(output_dir, copy)
    (data,) = (copy / "checkpoints").glob("ckpt-60.data-*")
    data.write_bytes(data.read_bytes()[:10])
    model = arzoo.build_model(config)
    assert restore_weights(model, str(copy)).endswith("ckpt-40")
    with pytest.raises(CheckpointError, match=r"Cannot read the checkpoint .*ckpt-60"):
        restore_weights(model, str(copy / "checkpoints" / "ckpt-60"))


def test_checkpoint_of_another_model_is_refused(digits_run, tmp_path):
    _, output_dir, _, config = digits_run
    copy = tmp_path / "copy"
    shutil.copytree(output_dir, copy)
    wider = {**config, "model": {**config["model"], "num_filters": 16}}
    with pytest.raises(CheckpointError, match="ckpt-60.*another model or optimizer config"):
        train(wider, copy, steps=STEPS + 1, progress=False)


def test_dataset_that_does_not_fit_the_model(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(6, 6, 1\).*image_shape=\[8, 8, 1\]"):
        train(tiny_config(), tmp_path, steps=1, progress=False,
              train_dataset=synthetic_dataset(8, [6, 6, 1], 4))


def test_condition_shape_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match="condition_shape"):
        train(tiny_config(condition_shape=[3]), tmp_path, steps=1, progress=False,
              train_dataset=synthetic_dataset(8, [8, 8, 1], 4))


def test_class_conditional_xla_with_progress_bar(tmp_path, capsys):
    training = {"steps": 4, "log_every": 2, "sample_every": 4, "num_samples": 3, "jit_compile": True}
    result = train(
        tiny_config(num_classes=3, training=training), tmp_path, progress=True,
        train_dataset=lambda: synthetic_dataset(32, [8, 8, 1], 4, num_classes=3),
    )
    assert result.step == 4 and result.model.num_classes == 3
    assert 1.0 < result.bits_per_dim < 2.5
    bar = capsys.readouterr().err
    assert "4/4" in bar and "step/s" in bar
    shown = [float(v) for v in re.findall(r"bits/dim=(\d+\.\d+)", bar)]
    assert shown and all(1.0 < v < 2.5 for v in shown)


def test_bad_steps(tmp_path):
    with pytest.raises(ValueError, match="steps=-1"):
        train(tiny_config(), tmp_path, steps=-1, progress=False)


def test_image_grid():
    images = np.arange(5 * 2 * 3).reshape(5, 2, 3, 1) % 4
    grid = image_grid(images, num_levels=4)
    assert grid.shape == (1, 4, 9, 1) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[0, 2:4, 3:6, 0], images[4, ..., 0] * 85)
    np.testing.assert_array_equal(grid[0, 2:4, 6:9, 0], 0)  # the empty cell


def test_max_seconds_stops_on_the_clock_and_keeps_the_outputs(tmp_path):
    training = {"steps": 10**6, "max_seconds": 3.0, "checkpoint_every": 10**6}
    result = train(
        tiny_config(training=training), tmp_path, progress=False,
        train_dataset=lambda: synthetic_dataset(32, [8, 8, 1], 4),
    )
    assert 0 < result.step < 10**6
    assert result.wall_time < 60
    assert os.path.exists(os.path.join(tmp_path, "model.keras"))
    # The last step was checkpointed: a resume starts where the clock stopped.
    again = train(
        tiny_config(training={"steps": result.step + 2, "checkpoint_every": 10**6}), tmp_path,
        progress=False, train_dataset=lambda: synthetic_dataset(32, [8, 8, 1], 4),
    )
    assert again.start_step == result.step and again.step == result.step + 2


def test_max_seconds_is_refused_under_multi_worker(tmp_path):
    with pytest.raises(ValueError, match="max_seconds=5.0"):
        train(tiny_config(training={"steps": 1, "max_seconds": 5.0, "strategy": "multi_worker"}),
              tmp_path, progress=False)


def test_samples_during_training_for_every_kind_of_event(tmp_path, training_data_dir):
    """training.sample_every writes samples for vector and text models too
    (it once assumed every non-audio model was an image model)."""
    rnade = {
        "model": {"family": "rnade", "num_dims": 13, "num_hidden": 4, "num_components": 2},
        "data": {"dataset": "wine", "batch_size": 16},
        "training": {"steps": 4, "sample_every": 2, "num_samples": 3, "log_every": 2, "checkpoint_every": 4},
    }
    train(rnade, str(tmp_path / "rnade"), progress=False)
    samples = np.load(tmp_path / "rnade" / "samples" / "step4.npy")
    assert samples.shape == (3, 13) and np.isfinite(samples).all()
    text = {
        "model": {"family": "char_rnn", "vocabulary": "printable", "num_layers": 1, "units": 8, "sample_length": 20},
        "data": {"dataset": "fortunes", "sequence_length": 16, "batch_size": 8,
                 "data_dir": str(tmp_path / "data"), "max_test_examples": 8},
        "training": {"steps": 4, "sample_every": 2, "num_samples": 2, "log_every": 2, "checkpoint_every": 4},
    }
    train(text, str(tmp_path / "text"), progress=False)
    written = (tmp_path / "text" / "samples" / "step4.txt").read_text(encoding="utf-8")
    assert written.count("-" * 40) == 1 and len(written) >= 40

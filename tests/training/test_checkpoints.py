"""Checkpoints in relative run folders (every README example and the default
`runs/<config>` are relative): a run saved there resumes, its weights load,
and no error ever advises deleting a run whose checkpoints exist."""

import os

import numpy as np
import pytest
import tensorflow as tf

from arzoo.training.checkpoints import Checkpointer, CheckpointError, checkpoint_candidates, restore_weights


def _variables(value):
    return {"weights": tf.Variable(np.full([3], value, np.float32)), "step": tf.Variable(0, dtype=tf.int64)}


def test_relative_run_folder_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved = _variables(1.5)
    writer = Checkpointer(os.path.join("runs", "r"), model=tf.train.Checkpoint(w=saved["weights"]),
                          step=saved["step"])
    saved["step"].assign(5)
    writer.save(5)
    saved["step"].assign(10)
    writer.save(10)
    assert checkpoint_candidates(os.path.join("runs", "r", "checkpoints")) == [
        os.path.join("runs", "r", "checkpoints", "ckpt-10"), os.path.join("runs", "r", "checkpoints", "ckpt-5")]

    fresh = _variables(0.0)
    reader = Checkpointer(os.path.join("runs", "r"), model=tf.train.Checkpoint(w=fresh["weights"]),
                          step=fresh["step"])
    assert reader.restore_latest() == os.path.join("runs", "r", "checkpoints", "ckpt-10")
    assert int(fresh["step"].numpy()) == 10
    np.testing.assert_array_equal(fresh["weights"].numpy(), [1.5, 1.5, 1.5])


def test_relative_checkpoints_folder_restores_weights(tmp_path, monkeypatch):
    import keras

    monkeypatch.chdir(tmp_path)
    model = keras.Sequential([keras.Input([2]), keras.layers.Dense(2)])
    Checkpointer("run", model=model).save(3)
    other = keras.Sequential([keras.Input([2]), keras.layers.Dense(2)])
    for folder in ("run", os.path.join("run", "checkpoints")):
        assert restore_weights(other, folder) == os.path.join("run", "checkpoints", "ckpt-3")
        for a, b in zip(other.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_unreadable_checkpoints_are_kept_not_deleted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    variables = _variables(1.0)
    Checkpointer("run", model=tf.train.Checkpoint(w=variables["weights"])).save(5)
    for name in os.listdir(os.path.join("run", "checkpoints")):
        if name.startswith("ckpt-5.data"):
            with open(os.path.join("run", "checkpoints", name), "wb") as f:
                f.write(b"truncated")
    with pytest.raises(CheckpointError) as raised:
        Checkpointer("run", model=tf.train.Checkpoint(w=variables["weights"])).restore_latest()
    message = str(raised.value)
    assert "ckpt-5" in message and "another --output" in message
    assert "delete" not in message.lower()
    assert os.path.exists(os.path.join("run", "checkpoints", "checkpoint"))

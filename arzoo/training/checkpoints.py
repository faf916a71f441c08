"""Checkpoints that survive preemption: save every N steps, resume from the last.

The checkpoint holds the model, the optimizer (its slots and, with EMA, the
moving averages) and the step counter. Files live in
`<output_dir>/checkpoints/`. Under multi-worker training every worker must
save (saving reads distributed variables), but only the chief writes into
`output_dir`; the others write to a private temporary folder that is removed
at the end, the usual TensorFlow pattern. Every worker restores from the
chief's folder.
"""

import os
import shutil
import tempfile

import tensorflow as tf

CHECKPOINT_SUBDIR = "checkpoints"


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be read or does not fit the model."""


def checkpoint_dir(output_dir):
    """The folder that holds the chief's checkpoints."""
    return os.path.join(output_dir, CHECKPOINT_SUBDIR)


class Checkpointer:
    """Saves and restores `tf.train.Checkpoint(model, optimizer, step)`.

    Args:
      output_dir: the run's output folder.
      chief: whether this process writes into `output_dir`.
      max_to_keep: checkpoints kept by the chief.
      **objects: what to checkpoint (model=..., optimizer=..., step=...).
    """

    def __init__(self, output_dir, chief=True, max_to_keep=3, **objects):
        self.directory = checkpoint_dir(output_dir)
        self.chief = chief
        self.checkpoint = tf.train.Checkpoint(**objects)
        if chief:
            write_dir = self.directory
        else:
            self._temp_dir = tempfile.mkdtemp(prefix="arzoo-worker-checkpoints-")
            write_dir = self._temp_dir
            max_to_keep = 1
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, write_dir, max_to_keep=max_to_keep
        )

    def latest(self):
        """Path prefix of the chief's newest checkpoint, or None."""
        state_file = os.path.join(self.directory, "checkpoint")
        if not tf.io.gfile.exists(state_file):
            return None
        try:
            path = tf.train.latest_checkpoint(self.directory)
        except Exception as err:  # a corrupt state file is a parse error
            raise CheckpointError(
                f"Cannot read the checkpoint state file {state_file}: {err}. "
                "Delete it (or the whole checkpoints folder) to start afresh."
            ) from err
        if path is None:
            raise CheckpointError(
                f"The checkpoint state file {state_file} names no readable checkpoint. "
                "Delete it (or the whole checkpoints folder) to start afresh."
            )
        return path

    def restore_latest(self):
        """Restore the newest checkpoint if there is one; return its path or None."""
        path = self.latest()
        if path is None:
            return None
        try:
            status = self.checkpoint.restore(path)
            status.assert_existing_objects_matched()
        except (tf.errors.OpError, ValueError, AssertionError) as err:
            raise CheckpointError(
                f"Cannot restore the checkpoint {path}: {type(err).__name__}: {err}. "
                "Was it written with another model or optimizer config (e.g. "
                "ema_decay)? Delete "
                f"{self.directory} to start afresh."
            ) from err
        return path

    def save(self, step):
        """Write a checkpoint numbered `step`; return its path."""
        return self.manager.save(checkpoint_number=int(step))

    def close(self):
        """Remove a non-chief worker's temporary folder."""
        if not self.chief:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


def restore_weights(model, path):
    """Load only the model's weights from a training checkpoint.

    Args:
      model: a model built from the same config as the checkpoint's.
      path: a checkpoint prefix (`.../ckpt-300`), a `checkpoints/` folder or a
        run folder (the latest checkpoint in it is used).
    """
    prefix = path
    if os.path.isdir(path):
        folder = path if tf.train.latest_checkpoint(path) else checkpoint_dir(path)
        prefix = tf.train.latest_checkpoint(folder)
        if prefix is None:
            raise CheckpointError(f"No checkpoint found in {path!r}.")
    try:
        tf.train.Checkpoint(model=model).restore(prefix).expect_partial().assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError) as err:
        raise CheckpointError(
            f"Cannot restore model weights from {prefix!r}: {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}"
        ) from err
    return prefix

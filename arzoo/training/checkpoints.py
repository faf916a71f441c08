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
import sys
import tempfile

import tensorflow as tf

CHECKPOINT_SUBDIR = "checkpoints"
# What an error says instead of "delete the run": a run's checkpoints are never
# the thing to throw away on a hunch.
_START_AFRESH = "to start afresh, train into another --output folder (or move this run aside)."


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be read or does not fit the model."""


def checkpoint_dir(output_dir):
    """The folder that holds the chief's checkpoints."""
    return os.path.join(output_dir, CHECKPOINT_SUBDIR)


def checkpoint_candidates(directory):
    """Path prefixes of the checkpoints a CheckpointManager state file in
    `directory` lists, newest first ([] if there is no state file)."""
    state_file = os.path.join(directory, "checkpoint")
    if not tf.io.gfile.exists(state_file):
        return []
    try:
        state = tf.train.get_checkpoint_state(directory)
    except Exception as err:  # a corrupt state file is a parse error
        raise CheckpointError(
            f"Cannot read the checkpoint state file {state_file}: {err}. The checkpoints beside it "
            f"are left as they are; {_START_AFRESH}"
        ) from err
    paths = list(state.all_model_checkpoint_paths) if state is not None else []
    if state is not None and state.model_checkpoint_path and state.model_checkpoint_path not in paths:
        paths.append(state.model_checkpoint_path)
    if not paths:
        raise CheckpointError(
            f"The checkpoint state file {state_file} names no checkpoint. {_START_AFRESH}"
        )
    # get_checkpoint_state has already joined relative entries to `directory`.
    return paths[::-1]


def newest_readable(candidates):
    """(the first readable checkpoint of `candidates` or None, the unreadable
    ones before it); each unreadable one is reported on stderr."""
    unreadable = []
    for path in candidates:
        reason = unreadable_checkpoint(path)
        if reason is None:
            return path, unreadable
        unreadable.append(path)
        print(f"arzoo: checkpoint {path} is unreadable ({reason}); trying the one before it.",
              file=sys.stderr, flush=True)
    return None, unreadable


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

    def candidates(self):
        """Path prefixes of the chief's checkpoints, newest first ([] if none)."""
        return checkpoint_candidates(self.directory)

    def restore_latest(self):
        """Restore the newest readable checkpoint if there is one; return its
        path or None. An unreadable one (truncated by a crash, deleted) is
        reported on stderr and the one before it tried; a readable one that
        does not fit the model is an error."""
        path, unreadable = newest_readable(self.candidates())
        if path is None:
            if unreadable:
                raise CheckpointError(
                    f"No readable checkpoint in {self.directory}: {', '.join(unreadable)} cannot be read. "
                    f"Nothing was changed; {_START_AFRESH}"
                )
            return None
        try:
            status = self.checkpoint.restore(path)
            status.assert_existing_objects_matched()
        except (tf.errors.OpError, ValueError, AssertionError) as err:
            raise CheckpointError(
                f"Cannot restore the checkpoint {path}: {type(err).__name__}: {err}. "
                "Was it written with another model or optimizer config (e.g. "
                f"ema_decay)? Nothing was changed; {_START_AFRESH}"
            ) from err
        if unreadable:
            print(f"arzoo: resumed from {path}.", file=sys.stderr, flush=True)
        return path

    def save(self, step):
        """Write a checkpoint numbered `step`; return its path."""
        return self.manager.save(checkpoint_number=int(step))

    def close(self):
        """Remove a non-chief worker's temporary folder."""
        if not self.chief:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


def unreadable_checkpoint(prefix):
    """Why the checkpoint at `prefix` cannot be read (one line), or None.
    Every tensor is read: a file truncated by a crash fails only there."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as err:  # truncated files raise IndexError, DataLossError, OutOfRangeError, ...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return f"{type(err).__name__}: {first_line}"
    return None


def restore_weights(model, path):
    """Load only the model's weights from a training checkpoint.

    Args:
      model: a model built from the same config as the checkpoint's.
      path: a checkpoint prefix (`.../ckpt-300`), a `checkpoints/` folder or a
        run folder (the latest checkpoint in it is used).
    """
    prefix = path
    if os.path.isdir(path):
        folder = path if tf.io.gfile.exists(os.path.join(path, "checkpoint")) else checkpoint_dir(path)
        prefix, unreadable = newest_readable(checkpoint_candidates(folder))
        if prefix is None:
            what = f": {', '.join(unreadable)} cannot be read" if unreadable else ""
            raise CheckpointError(f"No readable checkpoint found in {path!r}{what}.")
    else:
        reason = unreadable_checkpoint(prefix)
        if reason is not None:
            raise CheckpointError(f"Cannot read the checkpoint {prefix!r}: {reason}")
    try:
        tf.train.Checkpoint(model=model).restore(prefix).expect_partial().assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError) as err:
        raise CheckpointError(
            f"Cannot restore model weights from {prefix!r}: {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}"
        ) from err
    return prefix

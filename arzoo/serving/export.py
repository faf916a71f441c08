"""Writing TF Serving's layout: `<base>/<name>/<version>/`, atomically.

A version folder is written under a temporary name (not an integer, so a
server polling `<base>/<name>` ignores it) and renamed to its integer version
only when complete, so a server never sees half a model. `model.keras` is
written beside the SavedModel for `keras.models.load_model`. Exports of one
model may run at once: the version is chosen and the folder renamed under a
lock on `<base>/<name>`, and each removes only the temporaries of exports
that are no longer running.
"""

import contextlib
import fcntl
import os
import re
import shutil
import time
import uuid

import tensorflow as tf

from arzoo.events import event_space
from arzoo.progress import progress_bar
from arzoo.serving.signatures import DEFAULT_MAX_BATCH_SIZE, ServingModule
from arzoo.serving.warmup import warmup_logs, write_warmup_records

KERAS_FILENAME = "model.keras"
_TEMPORARY_PREFIX = ".incomplete-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def existing_versions(model_dir):
    """Integer versions present under `model_dir`, sorted."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(n) for n in os.listdir(model_dir) if n.isdigit())


# Temporaries named without a process id (older arzoo) count as stale after this long.
_STALE_UNOWNED_SECONDS = 3600
_OWNED = re.compile(r"^" + re.escape(_TEMPORARY_PREFIX) + r"pid(?P<pid>\d+)-[0-9a-f]+$")


def _temporary_name():
    return f"{_TEMPORARY_PREFIX}pid{os.getpid()}-{uuid.uuid4().hex}"


def _writer_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _remove_stale_temporaries(model_dir):
    """Remove the temporaries of exports that are no longer running: their
    names carry the writer's process id (`.incomplete-pid<pid>-<hex>`), so
    an export running beside this one keeps its folder; one named without
    (older arzoo) goes once it is an hour old."""
    for entry in os.listdir(model_dir):
        if not entry.startswith(_TEMPORARY_PREFIX):
            continue
        path = os.path.join(model_dir, entry)
        owned = _OWNED.match(entry)
        if owned:
            stale = not _writer_alive(int(owned["pid"]))
        else:
            try:
                stale = time.time() - os.path.getmtime(path) > _STALE_UNOWNED_SECONDS
            except FileNotFoundError:
                continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _model_dir_lock(model_dir):
    """An exclusive lock on the folder `model_dir` itself (flock on its
    descriptor; nothing written into it): concurrent exports clean up, pick
    their versions and rename one at a time."""
    descriptor = os.open(model_dir, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _version_taken(version, model_dir):
    present = existing_versions(model_dir)
    return ValueError(f"Version {version} already exists in {model_dir}; versions present: {present}.")


def serving_module_for(model, max_batch_size=DEFAULT_MAX_BATCH_SIZE, max_length=None, xla=False):
    """The `ServingModule` that exports `model`, built from its event space's specs.

    Args:
      model: an arzoo model.
      max_batch_size: largest B any signature accepts.
      max_length: sequence models only: the most steps a request may ask for
        or send (audio: default ten seconds at `model.sample_rate`).
      xla: compile the sampling loops with XLA (`ServingModule`).
    """
    return ServingModule(model, event_space(model), max_batch_size, max_length, xla)


def export_model(model, base, name, version=None, max_batch_size=DEFAULT_MAX_BATCH_SIZE, max_length=None,
                 progress=False, xla=False, warmup=True):
    """Export `model` as `<base>/<name>/<version>/` with every signature.

    Args:
      model: an arzoo model.
      base: the folder TF Serving's `base_path` points above (`<base>/<name>`).
      name: the served model name (letters, digits, `_ . -`).
      version: integer version; default one more than the highest present.
      max_batch_size: the largest batch any signature accepts.
      max_length: sequence models only: the most steps a request may ask for
        or send (audio: default ten seconds at the model's sample rate).
      progress: show a progress bar of the stages on stderr (tracing the
        signatures, writing the SavedModel, writing model.keras).
      xla: compile the sampling loops of `sample`, `complete` and `decode`
        with XLA (TF Serving must run with --xla_cpu_compilation_enabled=true);
        default portable.
      warmup: write TF Serving warmup records
        (`assets.extra/tf_serving_warmup_requests`, `arzoo.serving.warmup`),
        which the server replays before it serves the version.

    Returns:
      The path of the finished version folder.
    """
    if not _NAME.match(name):
        raise ValueError(
            f"Model name {name!r} is not allowed: use letters, digits, '_', '.' or '-'."
        )
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise ValueError(f"version must be a positive integer, got {version!r}.")
    if not isinstance(warmup, bool):
        raise ValueError(f"warmup must be True or False, got {warmup!r}.")
    module = serving_module_for(model, max_batch_size, max_length, xla)  # bad arguments fail before any folder
    model_dir = os.path.join(os.path.abspath(base), name)
    for folder in (base, model_dir):
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ValueError(f"The export base {folder!r} is a file, not a folder; give a folder (created if missing).")
    os.makedirs(model_dir, exist_ok=True)
    with _model_dir_lock(model_dir):
        _remove_stale_temporaries(model_dir)
    if version is not None and version in existing_versions(model_dir):
        raise _version_taken(version, model_dir)
    shown = version if version is not None else "(next version)"
    temporary = os.path.join(model_dir, _temporary_name())
    bar = progress_bar(total=3 + warmup, desc=f"exporting {name} {shown}: tracing the signatures", unit="stage",
                       enabled=progress)
    try:
        signatures = module.signatures()
        bar.update()
        bar.set_description(f"exporting {name} {shown}: writing the SavedModel")
        tf.saved_model.save(module, temporary, signatures=signatures)
        bar.update()
        if warmup:
            bar.set_description(f"exporting {name} {shown}: writing the warmup records")
            write_warmup_records(temporary, warmup_logs(module, signatures, name))
            bar.update()
        bar.set_description(f"exporting {name} {shown}: writing {KERAS_FILENAME}")
        model.save(os.path.join(temporary, KERAS_FILENAME))
        # The version is chosen and taken under the lock: two exports running
        # at once get two versions, never the same one.
        with _model_dir_lock(model_dir):
            present = existing_versions(model_dir)
            if version is None:
                version = (present[-1] + 1) if present else 1
            elif version in present:
                raise _version_taken(version, model_dir)
            final = os.path.join(model_dir, str(version))
            os.rename(temporary, final)
        bar.update()
    finally:
        bar.close()
        if os.path.exists(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
    return final

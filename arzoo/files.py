"""Atomic writes: a file or folder appears whole or not at all."""

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside `path`; rename it over `path` on success.

    A crash or an exception leaves `path` as it was (or absent) and removes
    the temporary file or folder.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=suffix or os.path.splitext(path)[1], dir=directory
    )
    os.close(handle)
    os.remove(temporary)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.isdir(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
        elif os.path.exists(temporary):
            os.remove(temporary)


def atomic_save_npy(path, array):
    """`np.save` `array` to `path` atomically."""
    import numpy as np

    with atomic_path(path) as temporary:
        np.save(temporary, array)


def atomic_write_bytes(path, data):
    """Write `data` to `path` atomically."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

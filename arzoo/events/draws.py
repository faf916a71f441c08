"""Large draws for `arzoo sample`: sized before anything is allocated, drawn
in batches with a progress bar, written as they complete.

A draw of `--n` events is planned first: about how many bytes one row holds
while it is drawn (the cached loop's state for one row, its per-step
uniforms and events, the decoded output), how many rows are drawn at once
(`--batch-size`), what is kept in memory across batches (the rows a figure
shows) and what the .npy file will take on disk. A plan over `--max-memory`
(default half of this machine's memory) or over the free disk space is
refused with the figures, before a byte is allocated; the kernel's
out-of-memory killer never gets to say it instead.

Rows are then drawn `--batch-size` at a time, each from its own seed
(`fold_in(seed, i)` for row i), so the samples are the same as one call of
`model.sample(n)` would give, and written into the .npy as they come (a
temporary file renamed when complete). If the draw is interrupted or fails,
the rows finished so far are saved as `<name>.partial.npy` and named.
"""

import dataclasses
import os
import re
import shutil
import sys

import numpy as np
from arzoo.files import atomic_path
from arzoo.progress import progress_bar

DEFAULT_MEMORY_FRACTION = 0.5
DEFAULT_BATCH_SIZE = 256
# Working copies the sampler holds of a row's events and uniforms (known
# events, the mask, the loop's output, XLA's buffers): a deliberate over-count.
_COPIES = 4
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def machine_memory_bytes():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_max_memory():
    return int(DEFAULT_MEMORY_FRACTION * machine_memory_bytes())


def human_bytes(count):
    count = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} PiB"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_byte_size(text):
    """"8G", "512M", "1.5GiB", "100000" -> bytes (binary units); ValueError naming the text."""
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"must be a size such as 8G, 512M or 1000000 (bytes), got {text!r}")
    value = float(match[1]) * _UNITS[match[2].upper()]
    if value < 1:
        raise ValueError(f"must be a size of at least 1 byte, got {text!r}")
    return int(value)


def existing_folder(path):
    """`path`, or its nearest parent that exists (where its files will go)."""
    path = os.path.abspath(path)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def state_bytes_per_row(model, condition_row=None):
    """Bytes of the cached sampler's state for one row."""
    import tensorflow as tf

    state = model.initial_state_for_seeds(tf.zeros([1, 2], tf.int32), condition_row)
    return int(sum(np.asarray(t).nbytes for t in tf.nest.flatten(state)))


@dataclasses.dataclass(frozen=True)
class DrawPlan:
    """What a draw of `count` rows will hold and write.

    Args:
      count: rows to draw.
      batch_size: rows drawn at once.
      row_bytes: about what one row holds while it is drawn.
      kept_bytes: what stays in memory across batches (figure rows).
      disk_bytes: what the files take.
      what: the request in the user's words, for messages ("--n 1000000000").
    """

    count: int
    batch_size: int
    row_bytes: int
    kept_bytes: int
    disk_bytes: int
    what: str

    @classmethod
    def for_model(cls, model, count, batch_size, steps, values_per_step, output_bytes_per_row,
                  kept_rows, what, condition_row=None):
        """A plan from the model's step layout: `steps` steps of
        `values_per_step` int32/float32 values per row, `output_bytes_per_row`
        of decoded output (written to disk too), `kept_rows` rows kept."""
        uniforms = steps * model.uniforms_per_step * 4
        events = steps * values_per_step * 4
        row = state_bytes_per_row(model, condition_row) + _COPIES * (uniforms + events) + output_bytes_per_row
        batch = max(1, min(int(batch_size), int(count)))
        return cls(count=int(count), batch_size=batch, row_bytes=int(row),
                   kept_bytes=int(min(kept_rows, count) * (events + output_bytes_per_row)),
                   disk_bytes=int(count * (events + output_bytes_per_row)), what=what)

    @property
    def memory_bytes(self):
        return self.batch_size * self.row_bytes + self.kept_bytes

    def check(self, max_memory, folder):
        """ValueError with the figures if the draw does not fit in memory or on disk."""
        if self.memory_bytes > max_memory:
            fewer = max(0, (max_memory - self.kept_bytes) // max(self.row_bytes, 1))
            hint = (f"draw at most {fewer} rows at once (--batch-size {fewer})" if fewer >= 1
                    else "draw shorter or fewer samples")
            raise ValueError(
                f"{self.what} needs about {human_bytes(self.memory_bytes)} of memory at once "
                f"({self.batch_size} rows of about {human_bytes(self.row_bytes)} each being drawn), over the "
                f"limit of {human_bytes(max_memory)} (--max-memory; default half of this machine's "
                f"{human_bytes(machine_memory_bytes())}): {hint}, or raise --max-memory."
            )
        free = shutil.disk_usage(existing_folder(folder)).free
        if self.disk_bytes > free:
            raise ValueError(
                f"{self.what} writes about {human_bytes(self.disk_bytes)} to {folder}, which has "
                f"{human_bytes(free)} free: draw fewer samples or write elsewhere (--out)."
            )


def draw_in_batches(plan, draw, npy_path, row_shape, dtype, keep=0, on_rows=None, unit="samples"):
    """Draw `plan.count` rows, `plan.batch_size` at a time, into `npy_path`.

    Args:
      plan: the checked DrawPlan.
      draw: `draw(start, stop)` -> array `[stop - start, *row_shape]`, rows
        `start` .. `stop - 1` of the whole draw.
      npy_path: the .npy file all rows go to (renamed into place when
        complete), or None to keep no .npy.
      row_shape, dtype: one row's.
      keep: how many of the first rows to return (for a figure).
      on_rows: optional `on_rows(start, rows)` after each batch (audio writes
        its WAV files, text its lines, as they come).
      unit: the progress bar's unit.

    Returns:
      The first `keep` rows.
    """
    if npy_path is None:
        return _draw_rows(plan, draw, None, row_shape, dtype, keep, on_rows, unit)
    with atomic_path(npy_path) as temporary:
        out = np.lib.format.open_memmap(temporary, mode="w+", dtype=dtype, shape=(plan.count,) + tuple(row_shape))
        try:
            kept = _draw_rows(plan, draw, out, row_shape, dtype, keep, on_rows, unit, npy_path)
            out.flush()
        finally:
            del out
    return kept


def _draw_rows(plan, draw, out, row_shape, dtype, keep, on_rows, unit, npy_path=None):
    kept, done = [], 0
    try:
        with progress_bar(total=plan.count, unit=unit, desc="sampling",
                          enabled=plan.count > plan.batch_size) as bar:
            for start in range(0, plan.count, plan.batch_size):
                stop = min(start + plan.batch_size, plan.count)
                rows = np.asarray(draw(start, stop))
                if out is not None:
                    out[start:stop] = rows
                done = stop
                if on_rows is not None:
                    on_rows(start, rows)
                if start < keep:
                    kept.append(rows[: keep - start])
                bar.update(stop - start)
    except BaseException:
        if out is not None and 0 < done < plan.count:
            partial = os.path.splitext(npy_path)[0] + ".partial.npy"
            with atomic_path(partial) as spare:
                np.save(spare, np.asarray(out[:done]))
            print(f"arzoo sample: stopped after {done} of {plan.count} rows; they are in {partial}",
                  file=sys.stderr, flush=True)
        raise
    return np.concatenate(kept) if kept else np.zeros((0,) + tuple(row_shape), dtype)

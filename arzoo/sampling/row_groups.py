"""Run a batched sampler on groups of rows in parallel threads.

Every row of a sample depends on its own seed and condition only, so a batch
can be cut into groups of rows, each sampled by its own call, and put back
together: the result is the same array. On a CPU this pays: a compiled
generation loop at a small batch is bound by one core's per-step latency
(small matmuls), and TensorFlow releases the GIL while a call runs, so two
groups on two cores take about as long as one (measured for WaveNet:
benchmarks/wavenet_sampling.py, BENCHMARKS.md).
"""

import concurrent.futures
import os

import numpy as np
import tensorflow as tf

# Fewer rows per group than this and the per-call overhead wins.
MIN_ROWS_PER_GROUP = 4


def max_row_groups(max_groups=None):
    """The most groups a batch is cut into on this machine: `max_groups`,
    None meaning one per CPU core, and 1 with a GPU (it runs a batch in one
    call better). XLA exports cut their batches the same way."""
    if tf.config.list_logical_devices("GPU"):
        return 1
    return int(max_groups or os.cpu_count() or 1)


def num_row_groups(batch, max_groups=None):
    """How many groups to cut `batch` rows into: up to `max_row_groups`, at
    least `MIN_ROWS_PER_GROUP` rows each, and 1 inside a graph (`tf.function`
    traces one call)."""
    if not tf.executing_eagerly():
        return 1
    return int(max(1, min(max_row_groups(max_groups), batch // MIN_ROWS_PER_GROUP)))


def call_in_row_groups(fn, num_groups, *tensors):
    """`fn(*tensors)` computed as `concat([fn(*group) for group in groups])`,
    the groups cut along axis 0 of every tensor (each argument may be a nest
    of tensors, None passes through) and run in parallel threads."""
    if num_groups <= 1:
        return fn(*tensors)
    batch = next(int(t.shape[0]) for t in tf.nest.flatten(tensors) if t is not None)
    bounds = np.linspace(0, batch, num_groups + 1).astype(int)
    groups = [
        tf.nest.map_structure(lambda t, start=start, stop=stop: None if t is None else t[start:stop], list(tensors))
        for start, stop in zip(bounds[:-1], bounds[1:])
    ]
    with concurrent.futures.ThreadPoolExecutor(num_groups) as pool:
        parts = list(pool.map(lambda args: fn(*args), groups))
    return tf.concat(parts, axis=0)

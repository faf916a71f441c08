"""Bits per dimension, the training loss and the logged metric.

For an image x with D = H * W * C sub-pixels,

    bits/dim(x) = -log2 p(x) / D = -log p(x) / (D ln 2).

The training loss is its mean over the *global* batch. Under a
`tf.distribute` strategy each replica sees `global_batch / replicas` rows and
returns `sum(per-row bits/dim) / global_batch`; the gradients the replicas
sum are then exactly those of the global mean.
"""

import numpy as np
import tensorflow as tf


def per_example_bits_per_dim(model, batch, training=False, step=None):
    """`[B]` bits/dim of the examples of `batch` under `model` (bits per
    sample for audio); with `training`, of the training objective at
    training step `step` (`model.training_log_probs`)."""
    x, condition = model.inputs_from_batch(batch)
    if training:
        log_probs = model.training_log_probs(x, condition, step)
    else:
        log_probs = model.teacher_forced_log_probs(x, condition)
    flat = tf.reshape(log_probs, [tf.shape(log_probs)[0], -1])
    dims = tf.cast(tf.shape(flat)[1], tf.float32)
    return -tf.reduce_sum(flat, axis=1) / (dims * np.log(2.0))


class DatasetBitsPerDim:
    """Mean bits/dim of `model` over a dataset; one compiled function reused.

    Runs in the caller's context (not replicated): every process that calls
    it reads the whole dataset, which needs no collective ops.

    Args:
      model: an arzoo image model.

    Call arguments:
      dataset: finite `tf.data.Dataset` of batches `{"image": [B, H, W, C]
        int, "label": [B] int}`.

    Returns a Python float, the mean over examples (not over batches).
    """

    def __init__(self, model):
        self.model = model
        self._batch_sum = tf.function(self._sum, reduce_retracing=True, autograph=False)

    def _sum(self, batch):
        bpd = per_example_bits_per_dim(self.model, batch)
        return tf.reduce_sum(tf.cast(bpd, tf.float64)), tf.shape(bpd)[0]

    def __call__(self, dataset):
        total, count = 0.0, 0
        for batch in dataset:
            batch_total, batch_count = self._batch_sum(batch)
            total += float(batch_total)
            count += int(batch_count)
        if count == 0:
            raise ValueError("dataset_bits_per_dim: the dataset has no examples.")
        return total / count


def dataset_bits_per_dim(model, dataset):
    """Mean bits/dim over every image of a batched `{"image", "label"}` dataset.

    See `DatasetBitsPerDim`; use that class to evaluate the same model often.
    """
    return DatasetBitsPerDim(model)(dataset)

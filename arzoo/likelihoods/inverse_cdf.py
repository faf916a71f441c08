"""Categorical draws from caller-supplied uniforms.

`tfd.Categorical.sample` takes one seed for the whole batch, but arzoo's
contract is one seed per batch row (a sample must not change with the batch
it is drawn in). Drawing by inverse CDF from per-row uniforms gives that, and
needs one uniform per draw instead of `num_levels` Gumbel variates.
"""

import tensorflow as tf


def categorical_from_uniform(logits, uniform):
    """Index of the first level whose cumulative probability exceeds `uniform`.

    Args:
      logits: `[B, L]` float32.
      uniform: `[B]` float32 in [0, 1).

    Returns:
      `[B]` int32 in [0, L).
    """
    probs = tf.nn.softmax(logits, axis=-1)
    cdf = tf.cumsum(probs, axis=-1)
    below = tf.cast(cdf <= uniform[:, None], tf.int32)
    # Rounding can leave cdf[-1] slightly under 1: clip to the last level.
    return tf.minimum(tf.reduce_sum(below, axis=-1), tf.shape(logits)[-1] - 1)

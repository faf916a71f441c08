"""Per-row stateless randomness.

One seed per batch row, so that row i's sample depends on its own seed alone:
the same in any batch, in a SavedModel and behind TF Serving's batcher.
"""

import tensorflow as tf


def row_seeds(seed, num_rows):
    """`[num_rows, 2]` int32 seeds derived from one `[2]` seed: row i gets
    `stateless_fold_in(seed, i)`, independent of `num_rows`."""
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
    return tf.map_fn(
        lambda i: tf.cast(
            tf.random.experimental.stateless_fold_in(seed, i), tf.int32
        ),
        tf.range(num_rows),
        fn_output_signature=tf.TensorSpec([2], tf.int32),
    )


def as_seed(seed):
    """An int, a pair or a `[2]` tensor -> `[2]` int32 seed."""
    if isinstance(seed, int):
        return tf.constant([0, seed], tf.int32)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
    if seed.shape.rank == 0:
        return tf.stack([tf.zeros([], tf.int32), seed])
    if seed.shape != (2,):
        raise ValueError(f"A seed is an int or a pair of ints, got shape {seed.shape}.")
    return seed


def step_uniforms(seeds, num_steps, num_uniforms):
    """`[B, num_steps, num_uniforms]` float32 uniforms in [0, 1), row b drawn
    from `seeds[b]` alone."""
    return tf.map_fn(
        lambda s: tf.random.stateless_uniform([num_steps, num_uniforms], seed=s, alg="philox"),
        tf.cast(seeds, tf.int32),
        fn_output_signature=tf.TensorSpec([num_steps, num_uniforms], tf.float32),
    )

"""Per-row stateless randomness.

One seed per batch row, so that row i's sample depends on its own seed alone:
the same in any batch, in a SavedModel and behind TF Serving's batcher.

Step t of a row draws `uniforms[t]` of `stateless_uniform([num_steps, k],
seed, alg="philox")`. TensorFlow's Philox kernel fills the flat output in
order, element i taking word i % 4 of the Philox block at counter + i // 4,
so a row's first n steps are the same whatever num_steps is (drawing longer
only appends), and `step_uniforms_at` can draw step t alone by starting the
generator at t's block: a streamed step costs O(1), not O(t).
tests/sampling/test_seeds.py checks both properties against
`stateless_uniform` itself (on the CPU kernel; the GPU kernel follows the
same scheme but is not tested here). XLA's stateless RNG maps seeds
differently, which is why the sampling loops take uniforms as an input.
"""

import numpy as np
import tensorflow as tf

from arzoo.arguments import fits_int32

_PHILOX = tf.random.Algorithm.PHILOX.value
_WORDS_PER_BLOCK = 4  # float32 uniforms per Philox block (one per 32-bit word)
_LOW32 = 0xFFFFFFFF


def row_seeds(seed, num_rows, first_row=0):
    """`[num_rows, 2]` int32 seeds derived from one seed (an int, a pair or a
    `[2]` tensor, as `as_seed` reads it): row i gets
    `stateless_fold_in(seed, i)`, independent of `num_rows`, the rows
    `model.sample(num_rows, seed=seed)` uses. `first_row` starts at row
    `first_row` of that sequence (a large draw taken in batches)."""
    seed = as_seed(seed)
    return tf.map_fn(
        lambda i: tf.cast(
            tf.random.experimental.stateless_fold_in(seed, i), tf.int32
        ),
        tf.range(first_row, first_row + num_rows),
        fn_output_signature=tf.TensorSpec([2], tf.int32),
    )


def as_seed(seed):
    """An int, a pair or a `[2]` tensor -> `[2]` int32 seed (a value that does
    not fit int32 is a ValueError, never wrapped)."""
    if isinstance(seed, bool):
        raise ValueError(f"A seed is an int or a pair of ints, got {seed!r}.")
    if isinstance(seed, (int, np.integer)):
        return tf.constant([0, int(fits_int32("seed", seed))], tf.int32)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer:
        raise ValueError(f"A seed is an int or a pair of ints, got dtype {seed.dtype.name}.")
    if hasattr(seed, "numpy"):  # eager: the values can be read
        fits_int32("seed", seed.numpy())
    seed = tf.cast(seed, tf.int32)
    if seed.shape.rank == 0:
        return tf.stack([tf.zeros([], tf.int32), seed])
    if seed.shape != (2,):
        raise ValueError(f"A seed is an int or a pair of ints, got shape {seed.shape}.")
    return seed


def step_uniforms(seeds, num_steps, num_uniforms):
    """`[B, num_steps, num_uniforms]` float32 uniforms in [0, 1), row b drawn
    from `seeds[b]` alone (`num_steps` an int or a scalar tensor)."""
    static_steps = tf.get_static_value(num_steps)
    return tf.map_fn(
        lambda s: tf.random.stateless_uniform(tf.stack([num_steps, num_uniforms]), seed=s, alg="philox"),
        tf.cast(seeds, tf.int32),
        fn_output_signature=tf.TensorSpec(
            [None if static_steps is None else int(static_steps), num_uniforms], tf.float32
        ),
    )


def step_uniforms_at(seeds, steps, num_uniforms):
    """`[B, num_uniforms]`: row b's uniforms of step `steps[b]`, equal to
    `step_uniforms(seeds, n, num_uniforms)[b, steps[b]]` for every n > steps[b],
    drawn without the steps before it.

    Args:
      seeds: `[B, 2]` int seeds.
      steps: `[B]` int step indices (>= 0).
      num_uniforms: uniforms per step (`head.num_uniforms`).
    """
    steps = tf.cast(steps, tf.int64)

    def one_row(args):
        seed, step = args
        key, counter = tf.raw_ops.StatelessRandomGetKeyCounter(seed=seed)
        first = step * num_uniforms  # flat index of the step's first uniform
        counter = _skip_blocks(counter, first // _WORDS_PER_BLOCK)
        offset = tf.cast(first % _WORDS_PER_BLOCK, tf.int32)
        drawn = tf.raw_ops.StatelessRandomUniformV2(
            shape=tf.reshape(offset + num_uniforms, [1]),
            key=key, counter=counter, alg=_PHILOX, dtype=tf.float32,
        )
        return drawn[offset:]

    return tf.map_fn(
        one_row,
        (tf.cast(seeds, tf.int32), steps),
        fn_output_signature=tf.TensorSpec([num_uniforms], tf.float32),
    )


def _skip_blocks(counter, blocks):
    """A Philox counter (`[2]` uint64, low word first: 128 bits) plus `blocks`
    (an int64 >= 0), with carries; added 32 bits at a time in int64 so no
    intermediate overflows and only standard ops appear."""
    low32 = tf.constant(_LOW32, tf.uint64)
    shift = tf.constant(32, tf.uint64)
    limbs = []
    for word in tf.unstack(counter, 2):
        limbs.append(tf.cast(tf.bitwise.bitwise_and(word, low32), tf.int64))
        limbs.append(tf.cast(tf.bitwise.right_shift(word, shift), tf.int64))
    zero = tf.zeros([], tf.int64)
    addends = [tf.bitwise.bitwise_and(blocks, _LOW32), tf.bitwise.right_shift(blocks, 32), zero, zero]
    carry, summed = zero, []
    for limb, addend in zip(limbs, addends):
        total = limb + addend + carry
        carry = tf.bitwise.right_shift(total, 32)
        summed.append(tf.cast(tf.bitwise.bitwise_and(total, _LOW32), tf.uint64))
    words = [
        tf.bitwise.bitwise_or(tf.bitwise.left_shift(summed[i + 1], shift), summed[i]) for i in (0, 2)
    ]
    return tf.stack(words)

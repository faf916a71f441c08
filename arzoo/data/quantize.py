"""Pixel values -> `num_levels` discrete levels, and binarization.

A dataset stores integers in `[0, native_levels)` (256 for 8-bit images, 17 for
scikit-learn's digits, 2 for binarized MNIST). Quantization keeps the top of
the range: `level = floor(v * num_levels / native_levels)`, computed exactly in
integers, so each output level covers an equal share of the native values and
`num_levels == native_levels` is the identity.

Binarization (`num_levels == 2`) reads a pixel as intensity
`p = v / (native_levels - 1)` in [0, 1]:
- "threshold": 1 where `p >= 0.5`;
- "stochastic": 1 with probability `p` (Salakhutdinov & Murray, 2008),
  drawn with `tf.random.stateless_uniform` from a seed made of the caller's
  seed and a per-example key, so the same example binarizes the same way in
  every run and in every order it is read.
"""

import tensorflow as tf

BINARIZE_MODES = ("threshold", "stochastic")


def validate_levels(num_levels, native_levels, binarize=None):
    """Raises ValueError unless `num_levels` and `binarize` fit the data."""
    if binarize is not None and binarize not in BINARIZE_MODES:
        raise ValueError(
            f"Unknown binarize={binarize!r}; allowed: None, "
            + ", ".join(repr(m) for m in BINARIZE_MODES)
            + "."
        )
    if not 2 <= num_levels <= native_levels:
        raise ValueError(
            f"num_levels={num_levels} must be in [2, {native_levels}] "
            f"(this dataset has {native_levels} native levels)."
        )
    if binarize is not None and num_levels != 2:
        raise ValueError(
            f"binarize={binarize!r} gives 2 levels, but num_levels={num_levels}; "
            "pass num_levels=2."
        )


def quantize(image, num_levels, native_levels):
    """`floor(v * num_levels / native_levels)` as int32, exact in integers."""
    image = tf.cast(image, tf.int32)
    if num_levels == native_levels:
        return image
    return (image * num_levels) // native_levels


def binarize_threshold(image, native_levels):
    """1 where the intensity `v / (native_levels - 1)` is at least 0.5."""
    image = tf.cast(image, tf.int32)
    return tf.cast(2 * image >= native_levels - 1, tf.int32)


def binarize_stochastic(image, native_levels, seed, example_key):
    """Bernoulli(v / (native_levels - 1)) per value, keyed on (seed, example).

    Args:
      image: integer tensor of native values.
      native_levels: number of native values.
      seed: Python int, the caller's binarization seed.
      example_key: int64 scalar tensor identifying the example (stable across
        runs, e.g. a hash of its TFDS id).
    """
    intensity = tf.cast(image, tf.float32) / float(native_levels - 1)
    rng_seed = tf.stack([tf.constant(seed, tf.int64), tf.cast(example_key, tf.int64)])
    uniform = tf.random.stateless_uniform(tf.shape(image), seed=rng_seed)
    return tf.cast(uniform < intensity, tf.int32)


# Hash range for turning an example's TFDS id into its binarization key.
EXAMPLE_KEY_BUCKETS = 2**62


def to_levels(values, num_levels, native_levels, binarize=None, binarize_seed=0, example_id=None):
    """Stored values -> int32 levels as the data section asks: `quantize`d
    to `num_levels`, or binarized ("threshold", or "stochastic" keyed on
    `binarize_seed` and `example_id`, the example's TFDS id, so an example
    binarizes the same way in every run and order)."""
    if binarize == "threshold":
        return binarize_threshold(values, native_levels)
    if binarize == "stochastic":
        key = tf.strings.to_hash_bucket_fast(example_id, EXAMPLE_KEY_BUCKETS)
        return binarize_stochastic(values, native_levels, binarize_seed, key)
    return quantize(values, num_levels, native_levels)

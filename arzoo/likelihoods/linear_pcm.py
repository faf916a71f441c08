"""Linear quantization of audio to integer levels (16-bit PCM and the like).

The counterpart of `mu_law` for models of linear PCM, e.g. 65,536 levels
under a discretized logistic mixture (van den Oord et al. 2018, Parallel
WaveNet). Levels are `num_levels` equal bins of [-1, 1]; decoding gives bin
centres, so `linear_encode(linear_decode(q)) == q` for every level q.
"""

import tensorflow as tf

from arzoo.likelihoods.mu_law import _check_levels, check_audio_range


def linear_encode(audio, num_levels=65536):
    """Float audio in [-1, 1] -> int32 levels in [0, num_levels)."""
    num_levels = _check_levels(num_levels)
    audio = check_audio_range(audio)
    levels = tf.floor((audio + 1.0) / 2.0 * num_levels)
    return tf.cast(tf.clip_by_value(levels, 0, num_levels - 1), tf.int32)


def linear_decode(levels, num_levels=65536):
    """int levels in [0, num_levels) -> float audio in [-1, 1] (bin centres)."""
    num_levels = _check_levels(num_levels)
    levels = tf.convert_to_tensor(levels)
    if tf.executing_eagerly():
        values = levels.numpy()
        if values.size and (values.min() < 0 or values.max() >= num_levels):
            raise ValueError(f"levels must lie in [0, {num_levels}); got values in [{values.min()}, {values.max()}].")
    return (tf.cast(levels, tf.float32) + 0.5) / num_levels * 2.0 - 1.0

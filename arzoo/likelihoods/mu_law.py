"""mu-law companding and quantization of audio (WaveNet's 8-bit coding).

f(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu), x in [-1, 1], mu = num_levels - 1,
then f is quantized to `num_levels` integer levels (van den Oord et al. 2016,
"WaveNet: A Generative Model for Raw Audio", arXiv:1609.03499, section 2.2;
ITU-T G.711). Decoding maps each level to the centre of its bin in f and
inverts f, so `mu_law_encode(mu_law_decode(q)) == q` for every level q: the
coding is exact on the quantized grid.
"""

import numpy as np
import tensorflow as tf


def _check_levels(num_levels):
    if isinstance(num_levels, bool) or not isinstance(num_levels, (int, np.integer)) or num_levels < 2:
        raise ValueError(f"num_levels must be an integer >= 2, got num_levels={num_levels!r}.")
    return int(num_levels)


def check_audio_range(audio):
    """`audio` as float32; in eager mode a ValueError for NaN or values outside [-1, 1]."""
    audio = tf.convert_to_tensor(audio, tf.float32)
    if tf.executing_eagerly():
        values = audio.numpy()
        if np.isnan(values).any():
            raise ValueError("audio contains NaN.")
        if values.size and (values.min() < -1.0 or values.max() > 1.0):
            raise ValueError(
                f"audio must lie in [-1, 1]; got values in [{values.min()}, {values.max()}]."
            )
    return audio


def mu_law_encode(audio, num_levels=256):
    """Float audio in [-1, 1] -> int32 levels in [0, num_levels).

    Values outside [-1, 1] are an error in eager mode (clipped audio should be
    clipped on purpose by the caller), NaN likewise.
    """
    num_levels = _check_levels(num_levels)
    audio = check_audio_range(audio)
    mu = float(num_levels - 1)
    companded = tf.sign(audio) * tf.math.log1p(mu * tf.abs(audio)) / np.log1p(mu)
    # [-1, 1] -> num_levels equal bins.
    levels = tf.floor((companded + 1.0) / 2.0 * num_levels)
    return tf.cast(tf.clip_by_value(levels, 0, num_levels - 1), tf.int32)


def mu_law_decode(levels, num_levels=256):
    """int levels in [0, num_levels) -> float audio in [-1, 1] (bin centres)."""
    num_levels = _check_levels(num_levels)
    levels = tf.convert_to_tensor(levels)
    if tf.executing_eagerly():
        values = levels.numpy()
        if values.size and (values.min() < 0 or values.max() >= num_levels):
            raise ValueError(
                f"levels must lie in [0, {num_levels}); got values in [{values.min()}, {values.max()}]."
            )
    mu = float(num_levels - 1)
    companded = (tf.cast(levels, tf.float32) + 0.5) / num_levels * 2.0 - 1.0
    return tf.sign(companded) * tf.math.expm1(tf.abs(companded) * np.log1p(mu)) / mu

"""Recordings -> fixed-length training clips of levels, with aligned features.

WaveNet trains on clips cut from longer recordings. `audio_clips` maps the
examples of `load_audio_dataset` (`{"audio": float32 [T], "speaker"}`) to
`{"audio": int32 [clip_length] levels, "speaker": int32 [], "features":
float32 [clip_length / hop_length, num_mels]}` (features only with
`num_mels`). The features (`wavenet_features`, scaled log-mel) are computed
on the whole recording and then cut with the clip, so a clip's frames are
exactly those of the same samples in the full recording (frame i covers
samples [i hop, (i + 1) hop)).
"""

import tensorflow as tf

from arzoo.data.audio import log_mel_spectrogram

# log(mel + 1e-5) of speech (16 kHz, 80 bands, 1,024-sample windows; the
# offline corpus) has mean -0.9 and standard deviation 3.0 over all bands and
# frames, with silence at the floor log(1e-5) = -11.5. Centring and scaling
# by these round figures puts speech near mean 0 and variance 1 (silence near
# -3.5). Uncentred features (all near +0.8) made the gates of all layers move
# together and cost 0.17 bits/sample at 1,000 training steps
# (benchmarks/wavenet_local_conditioning.py, BENCHMARKS.md).
_FEATURE_CENTRE = -1.0
_FEATURE_SCALE = 3.0


def wavenet_features(audio, sample_rate, num_mels, hop_length, frame_length=None):
    """The local conditioning features arzoo's WaveNets use: standardised log-mel
    frames `[..., ceil(T / hop_length), num_mels]` of float audio `[..., T]`
    (frame i describes samples [i hop, (i + 1) hop)). Training, evaluation,
    sampling and serving clients all compute features with this function."""
    frame_length = frame_length or 4 * hop_length
    mel = log_mel_spectrogram(audio, sample_rate, num_mels, frame_length, hop_length)
    return (mel - _FEATURE_CENTRE) / _FEATURE_SCALE


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {name}={value!r}.")
    return value


def audio_clips(
    dataset,
    *,
    clip_length,
    encode,
    sample_rate,
    hop_length=1,
    num_mels=None,
    frame_length=None,
    seed=0,
    random_crop=True,
):
    """Cut one clip from every recording of `dataset`.

    Args:
      dataset: unbatched `{"audio": float32 [T] in [-1, 1], "speaker": int32}`.
      clip_length: samples per clip; a multiple of `hop_length` when
        `num_mels` is given. Shorter recordings are padded with silence.
      encode: float audio -> int32 levels (a model's `encode_audio`, e.g.
        mu-law).
      sample_rate: Hz, for the mel filterbank.
      hop_length: samples per feature frame; clips start at multiples of it.
      num_mels: mel bands of the local features, or None for no features.
      frame_length: analysis window of the log-mel features (default 4 hops).
      seed: clip positions are drawn from (seed, example index), so a run
        cuts the same clips every time it reads the dataset in the same order.
      random_crop: random clip positions (training); False takes the start
        of every recording (evaluation: the same clips every time).

    Returns:
      An unbatched `tf.data.Dataset`.
    """
    clip_length = _positive("clip_length", clip_length)
    hop_length = _positive("hop_length", hop_length)
    if num_mels is not None and clip_length % hop_length:
        raise ValueError(
            f"clip_length={clip_length} must be a multiple of hop_length={hop_length} so "
            "a clip holds whole feature frames."
        )
    frames = clip_length // hop_length

    def cut(index, example):
        audio = tf.convert_to_tensor(example["audio"], tf.float32)
        audio = tf.pad(audio, [[0, tf.maximum(clip_length - tf.shape(audio)[0], 0)]])
        positions = (tf.shape(audio)[0] - clip_length) // hop_length + 1
        if random_crop:
            start_frame = tf.random.stateless_uniform(
                [], seed=tf.stack([tf.cast(seed, tf.int64), index]), minval=0, maxval=positions, dtype=tf.int32
            )
        else:
            start_frame = tf.constant(0, tf.int32)
        start = start_frame * hop_length
        clip = audio[start : start + clip_length]
        out = {
            "audio": tf.ensure_shape(encode(clip), [clip_length]),
            "speaker": tf.cast(example["speaker"], tf.int32),
        }
        if num_mels is not None:
            mel = wavenet_features(audio, sample_rate, num_mels, hop_length, frame_length)
            out["features"] = tf.ensure_shape(mel[start_frame : start_frame + frames], [frames, num_mels])
        return out

    return dataset.enumerate().map(cut, num_parallel_calls=tf.data.AUTOTUNE)

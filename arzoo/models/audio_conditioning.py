"""What every model of audio levels shares: companding between float audio and
levels, and the speaker / log-mel conditioning of WaveNet (global speaker ids,
local feature frames upsampled to the sample rate)."""

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least, one_of, optional_int_at_least
from arzoo.likelihoods import linear_decode, linear_encode, mu_law_decode, mu_law_encode
from arzoo.models.validation import check_rows, split_audio_condition

UPSAMPLINGS = ("repeat", "transposed")
COMPANDINGS = ("mu_law", "linear")


class AudioConditioning:
    """Mixin for audio models (WaveNet and its Parallel WaveNet student).

    `init_audio_conditioning` sets and checks `num_speakers`,
    `speaker_embedding_size`, `local_channels`, `hop_length`, `upsampling`,
    `sample_rate`, `sample_length` and `companding`, and makes the speaker
    embedding and the (transposed-convolution) upsampler. The model's
    condition is then the speaker ids `[B]`, the features
    `[B, frames, local_channels]`, or, with both, a dict
    `{"speaker": ..., "features": ...}`.
    """

    def init_audio_conditioning(
        self, num_levels, num_speakers, speaker_embedding_size, local_channels, hop_length, upsampling,
        sample_rate, sample_length, companding,
    ):
        self.num_levels = int_at_least("num_levels", num_levels, 2)
        self.num_speakers = optional_int_at_least("num_speakers", num_speakers, 1)
        self.speaker_embedding_size = int_at_least("speaker_embedding_size", speaker_embedding_size, 1)
        self.local_channels = optional_int_at_least("local_channels", local_channels, 1)
        self.hop_length = int_at_least("hop_length", hop_length, 1)
        self.upsampling = one_of("upsampling", upsampling, UPSAMPLINGS)
        self.sample_rate = int_at_least("sample_rate", sample_rate, 1)
        self.sample_length = int_at_least("sample_length", sample_length, 1)
        if companding is None:
            companding = "mu_law" if self.num_levels <= 256 else "linear"
        self.companding = one_of("companding", companding, COMPANDINGS)
        self.speaker_embedding = (
            keras.layers.Embedding(self.num_speakers, self.speaker_embedding_size, name="speaker_embedding")
            if self.num_speakers
            else None
        )
        self.upsampler = (
            keras.layers.Conv1DTranspose(
                self.local_channels, self.hop_length, strides=self.hop_length, name="upsampler"
            )
            if self.local_channels and self.upsampling == "transposed"
            else None
        )

    def audio_conditioning_config(self):
        return dict(
            num_levels=self.num_levels,
            num_speakers=self.num_speakers,
            speaker_embedding_size=self.speaker_embedding_size,
            local_channels=self.local_channels,
            hop_length=self.hop_length,
            upsampling=self.upsampling,
            sample_rate=self.sample_rate,
            sample_length=self.sample_length,
            companding=self.companding,
        )

    @property
    def global_channels(self):
        """Width of the speaker vector every gate reads, or None."""
        return self.speaker_embedding_size if self.num_speakers else None

    @property
    def is_conditional(self):
        return self.num_speakers is not None or self.local_channels is not None

    def encode_audio(self, audio):
        """Float audio in [-1, 1] -> levels, by the model's companding."""
        encode = mu_law_encode if self.companding == "mu_law" else linear_encode
        return encode(audio, self.num_levels)

    def decode_audio(self, levels):
        """Levels -> float audio in [-1, 1] (bin centres)."""
        decode = mu_law_decode if self.companding == "mu_law" else linear_decode
        return decode(levels, self.num_levels)

    # ----- conditions --------------------------------------------------------

    def split_condition(self, condition, length=None):
        """`condition` -> (speaker ids `[B]` int32 or None, features `[B, F, D]` or None),
        validated (values checked when running eagerly). `length`, if given,
        is the number of samples the features must cover."""
        return split_audio_condition(condition, self.num_speakers, self.local_channels, self.hop_length, length)

    def check_condition(self, condition, batch=None, length=None):
        length = int(length) if isinstance(length, (int, np.integer)) else None  # else blank_events refuses it
        speaker, features = self.split_condition(condition, length)
        check_rows("speaker", speaker, batch)
        check_rows("features", features, batch)
        return self.join_condition(speaker, features)

    def default_length(self, condition):
        """`sample`'s length: what the (validated) local features cover, else `sample_length`."""
        if not self.local_channels:
            return self.sample_length
        features = condition["features"] if isinstance(condition, dict) else condition
        return int(features.shape[1]) * self.hop_length

    def speaker_vector(self, speaker):
        return None if speaker is None else self.speaker_embedding(speaker)

    def upsample(self, features, length):
        """`[B, F, D]` frames -> `[B, length, D]`, frame i over samples [i hop, (i+1) hop)."""
        if features is None:
            return None
        if self.upsampler is not None:
            upsampled = self.upsampler(features)
        else:
            upsampled = tf.repeat(features, self.hop_length, axis=1)
        return upsampled[:, :length]

    def upsample_at(self, features, t):
        """The upsampled features `[B, D]` at sample t (a scalar), without upsampling the rest."""
        if features is None:
            return None
        frame = tf.gather(features, t // self.hop_length, axis=1)
        if self.upsampler is None:
            return frame
        # Conv1DTranspose with kernel = stride = hop: y[f hop + k] = K[k] x[f] + b.
        kernel = tf.gather(self.upsampler.kernel, t % self.hop_length)  # [D_out, D_in]
        return tf.matmul(frame, kernel, transpose_b=True) + self.upsampler.bias


    def dummy_condition(self, batch_size, length=None):
        length = self.sample_length if length is None else length
        speaker = tf.zeros([batch_size], tf.int32) if self.num_speakers else None
        features = None
        if self.local_channels:
            frames = -(-length // self.hop_length)
            features = tf.zeros([batch_size, frames, self.local_channels], tf.float32)
        return self.join_condition(speaker, features)

    def join_condition(self, speaker, features):
        """The inverse of `split_condition`: the condition `call` takes."""
        if speaker is not None and features is not None:
            return {"speaker": speaker, "features": features}
        return speaker if speaker is not None else features


    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"audio", "speaker", "features"}`."""
        speaker = batch["speaker"] if self.num_speakers else None
        features = batch["features"] if self.local_channels else None
        return batch["audio"], self.join_condition(speaker, features)


"""WaveNet: dilated causal convolutions over raw audio (van den Oord et al. 2016c)."""

import keras
import numpy as np
import tensorflow as tf

from arzoo.layers import CausalConv1D, WaveNetBlock, caches
from arzoo.arguments import int_at_least, one_of
from arzoo.likelihoods import AUDIO_LIKELIHOODS, make_head
from arzoo.models.audio_conditioning import AudioConditioning
from arzoo.models.base import AutoregressiveModel
from arzoo.models.registry import register_model
from arzoo.models.sequence import SequenceEvents

INPUT_ENCODINGS = ("one_hot", "scalar")


@register_model("wavenet")
class WaveNet(AudioConditioning, SequenceEvents, AutoregressiveModel):
    """p(x) = prod_t p(x_t | x_<t, speaker, features) over audio levels x_t.

    x is one channel of integer levels in [0, num_levels): mu-law codes
    (`arzoo.likelihoods.mu_law_encode`, 256 levels with the categorical head)
    or linear PCM (e.g. 65536 levels with the logistic mixture head). The
    input, shifted one step right (so step t reads x_<t only), goes through a
    causal convolution and a stack of `WaveNetBlock`s with dilations
    `dilations` (by default 1, 2, ..., 2^(layers_per_stack - 1), repeated
    `num_stacks` times); the sum of their skip outputs goes through
    ReLU -> 1x1 -> ReLU -> 1x1 to the head's parameters.

    Conditioning: global, a speaker id through an embedding added in every
    gate (`num_speakers`); local, a feature sequence (e.g. log-mel frames)
    at one frame per `hop_length` samples, upsampled to the sample rate by
    repetition or a learned transposed convolution and added in every gate
    through a 1x1 convolution (`local_channels`). `condition` is then the
    speaker ids `[B]`, the features `[B, frames, local_channels]`, or, with
    both, a dict `{"speaker": ..., "features": ...}`.

    Incremental generation keeps, for every layer, a queue of its last
    (K - 1) d inputs (Paine et al. 2016): O(layers) work per sample instead of
    O(receptive field).

    Args:
      num_levels: levels of x (256 for 8-bit mu-law).
      likelihood: "categorical", "logistic_mixture", "gaussian" (one discretized
        Gaussian, ClariNet's teacher for 16-bit PCM; `DiscretizedLocationScale`)
        or "bernoulli" (2 levels).
      num_mixtures: components of the logistic mixture.
      dilations: dilation of every block; overrides num_stacks / layers_per_stack.
      num_stacks, layers_per_stack: dilations 1 ... 2^(layers_per_stack-1), repeated.
      kernel_size: taps of every causal convolution (2 in the paper).
      residual_channels, gate_channels, skip_channels, output_channels: widths.
      num_speakers: global conditioning on this many speakers, or None.
      speaker_embedding_size: width of the speaker embedding.
      local_channels: width of the local features, or None.
      hop_length: audio samples per feature frame.
      upsampling: "repeat" or "transposed" (features -> sample rate).
      sample_rate: Hz, metadata for WAV output and data checks.
      sample_length: samples `sample()` draws when not told otherwise.
      input_encoding: "one_hot" (default up to 256 levels) or "scalar" (levels
        scaled to [-1, 1]; default above 256 levels).
      companding: how float audio becomes levels: "mu_law" (default up to 256
        levels) or "linear" (PCM; default above 256 levels). See
        `encode_audio` / `decode_audio`.

    Example:
    >>> model = WaveNet(num_levels=8, dilations=[1, 2], residual_channels=4,
    ...                 gate_channels=4, skip_channels=4, output_channels=8)
    >>> model.log_prob(np.zeros((2, 16), "int32")).shape
    TensorShape([2])
    >>> model.receptive_field
    5

    References:
      [1] van den Oord, Dieleman, Zen, Simonyan, Vinyals, Graves,
          Kalchbrenner, Senior, Kavukcuoglu (2016). WaveNet: A Generative Model
          for Raw Audio. arXiv:1609.03499.
      [2] Paine et al. (2016). Fast Wavenet Generation Algorithm. arXiv:1611.09482.
    """

    modality = "audio"
    likelihoods = AUDIO_LIKELIHOODS
    event_description = "mono audio levels"
    # Sample the rows of a batch in up to this many parallel groups on a CPU
    # (None: one per core; see arzoo.sampling.row_groups). Same samples.
    sampling_threads = None

    def __init__(
        self,
        num_levels=256,
        likelihood="categorical",
        num_mixtures=10,
        dilations=None,
        num_stacks=2,
        layers_per_stack=10,
        kernel_size=2,
        residual_channels=64,
        gate_channels=64,
        skip_channels=128,
        output_channels=256,
        num_speakers=None,
        speaker_embedding_size=16,
        local_channels=None,
        hop_length=256,
        upsampling="repeat",
        sample_rate=16000,
        sample_length=16000,
        input_encoding=None,
        companding=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.init_audio_conditioning(
            num_levels, num_speakers, speaker_embedding_size, local_channels, hop_length, upsampling,
            sample_rate, sample_length, companding,
        )
        if likelihood not in AUDIO_LIKELIHOODS:
            raise ValueError(f"Unknown likelihood {likelihood!r}; allowed: {', '.join(AUDIO_LIKELIHOODS)}.")
        self.likelihood = likelihood
        self.num_mixtures = int_at_least("num_mixtures", num_mixtures, 1)
        if dilations is None:
            stacks = int_at_least("num_stacks", num_stacks, 1)
            per_stack = int_at_least("layers_per_stack", layers_per_stack, 1)
            dilations = [2**i for i in range(per_stack)] * stacks
        if not isinstance(dilations, (list, tuple)) or not dilations:
            raise ValueError(f"dilations must be a non-empty list of positive ints, got {dilations!r}.")
        self.dilations = [int_at_least("dilations entries", d, 1) for d in dilations]
        self.kernel_size = int_at_least("kernel_size", kernel_size, 2)
        self.residual_channels = int_at_least("residual_channels", residual_channels, 1)
        self.gate_channels = int_at_least("gate_channels", gate_channels, 1)
        self.skip_channels = int_at_least("skip_channels", skip_channels, 1)
        self.output_channels = int_at_least("output_channels", output_channels, 1)
        if input_encoding is None:
            input_encoding = "one_hot" if self.num_levels <= 256 else "scalar"
        self.input_encoding = one_of("input_encoding", input_encoding, INPUT_ENCODINGS)
        self.head = make_head(likelihood, 1, self.num_levels, self.num_mixtures)
        self.input_channels = self.num_levels if input_encoding == "one_hot" else 1

        self.input_conv = CausalConv1D(self.residual_channels, self.kernel_size, name="input_conv")
        last = len(self.dilations) - 1
        self.blocks = [
            WaveNetBlock(
                self.residual_channels,
                self.gate_channels,
                self.skip_channels,
                d,
                self.kernel_size,
                global_channels=self.global_channels,
                local_channels=self.local_channels,
                residual=i < last,
                name=f"block{i}",
            )
            for i, d in enumerate(self.dilations)
        ]
        self.output_hidden = keras.layers.Dense(self.output_channels, name="output_hidden")
        self.output_params = keras.layers.Dense(self.head.params_per_pixel, name="output_params")
        self.build()

    # ----- shapes and orders -------------------------------------------------

    @property
    def receptive_field(self):
        """How many past samples the distribution of x_t reads: 1 + (K-1)(1 + sum d)."""
        return 1 + (self.kernel_size - 1) * (1 + sum(self.dilations))

    def global_biases(self, speaker):
        """What the speaker adds to every block's gate, `[B, 2G]` per block
        (None per block without speakers): constant over time, so incremental
        generation computes it once, not at every step."""
        vector = self.speaker_vector(speaker)
        return [None if vector is None else block.global_bias(vector) for block in self.blocks]

    # ----- the network -------------------------------------------------------

    def encode_inputs(self, x):
        """Levels `[B, T]` -> `[B, T, input_channels]`. Float levels go through a
        hat function equal to the one-hot code on integers, so the causality
        audit can differentiate through it."""
        if self.input_encoding == "scalar":
            return (tf.cast(x, tf.float32) * (2.0 / (self.num_levels - 1)) - 1.0)[..., None]
        if x.dtype.is_integer:
            return tf.one_hot(tf.cast(x, tf.int32), self.num_levels)
        levels = tf.range(self.num_levels, dtype=tf.float32)
        return tf.nn.relu(1.0 - tf.abs(tf.cast(x, tf.float32)[..., None] - levels))

    def call(self, x, condition=None, training=False):
        """`[B, T]` levels (+ condition) -> `[B, T, params]`: the parameters of
        p(x_t | x_<t) at every t, teacher-forced."""
        x = tf.convert_to_tensor(x)
        if x.shape.rank == 3:
            x = x[..., 0]
        length = tf.shape(x)[1]
        speaker, features = self.split_condition(condition)
        inputs = self.encode_inputs(x)
        shifted = tf.pad(inputs, [[0, 0], [1, 0], [0, 0]])[:, :-1]
        h = self.input_conv(shifted)
        speaker_vector = self.speaker_vector(speaker)
        local = self.upsample(features, length)
        skip = 0.0
        for block in self.blocks:
            h, block_skip = block(h, speaker_vector, local)
            skip += block_skip
        return self._output(skip)

    def _output(self, skip):
        return self.output_params(tf.nn.relu(self.output_hidden(tf.nn.relu(skip))))

    def build(self, input_shape=None):
        if self.built:
            return
        condition = self.dummy_condition(1, self.kernel_size)
        self.call(tf.zeros([1, self.kernel_size], tf.int32), condition)
        self.built = True

    # ----- likelihoods -------------------------------------------------------

    bits_per_sample = SequenceEvents.bits_per_step

    # ----- incremental contract ----------------------------------------------

    def initial_state(self, batch_size, condition=None):
        """Empty queues and position 0: for the input convolution the last K-1
        encoded inputs, for every block the last (K-1) d inputs."""
        k = self.kernel_size - 1
        return {
            "position": tf.zeros([batch_size], tf.int32),
            "input_queue": tf.zeros([batch_size, k, self.input_channels], tf.float32),
            "queues": [tf.zeros([batch_size, k * d, self.residual_channels], tf.float32) for d in self.dilations],
        }

    def step(self, inputs_t, state, condition=None):
        """Feed x_{t-1} (`[B, 1]` int32, ignored at t = 0), get the params
        `[B, params]` of p(x_t | x_<t) for t = `state["position"]` and the new state."""
        return self.prepared_step(inputs_t, state, self.prepare_condition(condition))

    def prepare_condition(self, condition):
        """(the speaker's `global_biases`, the features `[B, F, D]` or None)."""
        speaker, features = self.split_condition(condition)
        return self.global_biases(speaker), features

    def prepared_step(self, inputs_t, state, context, in_place=False):
        """`step` with the speaker's `global_biases` computed once.

        `in_place=True` writes the queues with XLA's dynamic-update-slice, which
        only runs inside an XLA-compiled function (see `caches.write_at`).
        """
        global_biases, features = context
        position = state["position"]
        t = position[0]
        encoded = self.encode_inputs(tf.cast(inputs_t[:, 0], tf.int32))
        encoded = tf.where(t > 0, encoded, tf.zeros_like(encoded))

        def advance(queue, dilation, value):
            return caches.dilated_taps(queue, t, dilation, value, in_place=in_place)

        taps, input_queue = advance(state["input_queue"], 1, encoded)
        kernel = tf.reshape(self.input_conv.kernel, [self.kernel_size * self.input_channels, -1])
        h = tf.matmul(tf.reshape(taps, [tf.shape(taps)[0], -1]), kernel) + self.input_conv.bias
        local_t = self.upsample_at(features, t)
        skip = 0.0
        queues = []
        for block, queue, global_bias in zip(self.blocks, state["queues"], global_biases):
            taps, queue = advance(queue, block.dilation_rate, h)
            queues.append(queue)
            h, block_skip = block.step(taps, global_bias, local_t)
            skip += block_skip
        params = self._output(skip)
        return params, {"position": position + 1, "input_queue": input_queue, "queues": queues}

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            likelihood=self.likelihood,
            num_mixtures=self.num_mixtures,
            dilations=list(self.dilations),
            kernel_size=self.kernel_size,
            residual_channels=self.residual_channels,
            gate_channels=self.gate_channels,
            skip_channels=self.skip_channels,
            output_channels=self.output_channels,
            input_encoding=self.input_encoding,
            **self.audio_conditioning_config(),
        )
        return config

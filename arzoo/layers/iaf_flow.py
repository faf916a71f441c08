"""One inverse autoregressive flow of a Parallel WaveNet student."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least, optional_int_at_least
from arzoo.layers import caches
from arzoo.layers.causal_conv1d import CausalConv1D
from arzoo.layers.wavenet_block import WaveNetBlock


@keras.saving.register_keras_serializable(package="arzoo")
class IAFFlow(keras.layers.Layer):
    """z'_t = z_t exp(log s_t) + mu_t, with (mu_t, log s_t) = f(z_<t, c).

    f is a conditional WaveNet over the flow's input z shifted one step
    right (so step t reads z_<t only): a causal input convolution, gated
    residual blocks with the given dilations (their skip outputs summed),
    ReLU -> 1x1 -> ReLU -> 1x1 to the shift and the log-scale. The last 1x1's
    kernel starts at zero, so a fresh flow is z' = z exp(initial_log_scale).
    The log-scale is floored at `min_log_scale`.

    Sampling runs `call` over every time step at once (z is known); the
    density inverts the flow one step at a time, z_t = (z'_t - mu_t) / s_t,
    with `step` keeping each layer's last (K - 1) d inputs in queues.

    Args:
      dilations: dilation of every block.
      kernel_size: taps of every causal convolution.
      residual_channels, gate_channels, skip_channels: widths.
      global_channels: width of the speaker vector, or None.
      local_channels: width of the upsampled features, or None.
      min_log_scale: the floor of log s.
      initial_log_scale: log s of the fresh flow (its shift starts at 0).

    References:
      [1] van den Oord et al. (2018). Parallel WaveNet: Fast High-Fidelity
          Speech Synthesis. arXiv:1711.10433, section 3.
      [2] Kingma et al. (2016). Improved Variational Inference with Inverse
          Autoregressive Flow. arXiv:1606.04934.
    """

    def __init__(
        self,
        dilations,
        kernel_size=2,
        residual_channels=64,
        gate_channels=64,
        skip_channels=64,
        global_channels=None,
        local_channels=None,
        min_log_scale=-7.0,
        initial_log_scale=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dilations = [int_at_least("dilations entries", d, 1) for d in dilations]
        self.kernel_size = int_at_least("kernel_size", kernel_size, 2)
        self.residual_channels = int_at_least("residual_channels", residual_channels, 1)
        self.gate_channels = int_at_least("gate_channels", gate_channels, 1)
        self.skip_channels = int_at_least("skip_channels", skip_channels, 1)
        self.global_channels = optional_int_at_least("global_channels", global_channels, 1)
        self.local_channels = optional_int_at_least("local_channels", local_channels, 1)
        self.min_log_scale = float(min_log_scale)
        self.initial_log_scale = float(initial_log_scale)
        self.input_conv = CausalConv1D(self.residual_channels, self.kernel_size, name="input_conv")
        last = len(self.dilations) - 1
        self.blocks = [
            WaveNetBlock(
                self.residual_channels, self.gate_channels, self.skip_channels, d, self.kernel_size,
                global_channels=self.global_channels, local_channels=self.local_channels,
                residual=i < last, name=f"block{i}",
            )
            for i, d in enumerate(self.dilations)
        ]
        self.output_hidden = keras.layers.Dense(self.skip_channels, name="output_hidden")
        self.output_affine = keras.layers.Dense(2, kernel_initializer="zeros", name="output_affine")

    def build(self, input_shape=None):
        self.input_conv.build((None, None, 1))
        for block in self.blocks:
            block.build((None, None, self.residual_channels))
        self.output_hidden.build((None, None, self.skip_channels))
        self.output_affine.build((None, None, self.skip_channels))
        self.output_affine.bias.assign([0.0, self.initial_log_scale])
        self.built = True

    @property
    def receptive_field(self):
        """Inputs z_s (s < t) that (mu_t, log s_t) read: (K - 1)(1 + sum d) + 1."""
        return (self.kernel_size - 1) * (1 + sum(self.dilations)) + 1

    def _affine(self, skip):
        out = self.output_affine(tf.nn.relu(self.output_hidden(tf.nn.relu(skip))))
        return out[..., 0], tf.maximum(out[..., 1], self.min_log_scale)

    def global_biases(self, global_condition):
        """Per block, what the speaker vector adds to its gate (None without one)."""
        return [None if global_condition is None else block.global_bias(global_condition) for block in self.blocks]

    def call(self, z, global_condition=None, local_condition=None):
        """`[B, T]` inputs -> (mu `[B, T]`, log s `[B, T]`) of every step."""
        shifted = tf.pad(z[..., None], [[0, 0], [1, 0], [0, 0]])[:, :-1]
        h = self.input_conv(shifted)
        skip = 0.0
        for block in self.blocks:
            h, block_skip = block(h, global_condition, local_condition)
            skip += block_skip
        return self._affine(skip)

    def initial_queues(self, batch_size):
        """(the input convolution's queue `[B, K-1, 1]`, every block's `[B, (K-1) d, R]`)."""
        k = self.kernel_size - 1
        return (
            tf.zeros([batch_size, k, 1], tf.float32),
            [tf.zeros([batch_size, k * d, self.residual_channels], tf.float32) for d in self.dilations],
        )

    def step(self, z_previous, input_queue, queues, t, global_biases, local_t, in_place=False):
        """(mu_t, log s_t) `[B]` from z_{t-1} `[B]` (0 at t = 0) and the queues
        of the earlier inputs; returns them and the updated queues."""
        taps, input_queue = caches.dilated_taps(input_queue, t, 1, z_previous[:, None], in_place=in_place)
        kernel = tf.reshape(self.input_conv.kernel, [self.kernel_size, -1])
        h = tf.matmul(tf.reshape(taps, [tf.shape(taps)[0], -1]), kernel) + self.input_conv.bias
        skip = 0.0
        new_queues = []
        for block, queue, global_bias in zip(self.blocks, queues, global_biases):
            taps, queue = caches.dilated_taps(queue, t, block.dilation_rate, h, in_place=in_place)
            new_queues.append(queue)
            h, block_skip = block.step(taps, global_bias, local_t)
            skip += block_skip
        shift, log_scale = self._affine(skip)
        return shift, log_scale, input_queue, new_queues

    def get_config(self):
        config = super().get_config()
        config.update(
            dilations=list(self.dilations),
            kernel_size=self.kernel_size,
            residual_channels=self.residual_channels,
            gate_channels=self.gate_channels,
            skip_channels=self.skip_channels,
            global_channels=self.global_channels,
            local_channels=self.local_channels,
            min_log_scale=self.min_log_scale,
            initial_log_scale=self.initial_log_scale,
        )
        return config

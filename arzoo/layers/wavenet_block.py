"""One WaveNet residual block: dilated causal gate, conditioning, residual + skip 1x1."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least, optional_int_at_least
from arzoo.layers.causal_conv1d import CausalConv1D
from arzoo.layers.gated_activation import GatedActivation


@keras.saving.register_keras_serializable(package="arzoo")
class WaveNetBlock(keras.layers.Layer):
    """z = tanh(W_f * h + V_f c) * sigmoid(W_g * h + V_g c); h' = h + W_r z; skip = W_s z.

    `W * h` is a causal convolution of kernel 2 with dilation d; `c` is the
    global condition (a speaker embedding, the same at every time step) and /
    or the local condition (features upsampled to the sample rate), each
    projected by a 1x1 convolution without bias and added before the gate.
    The projections start at zero, so a conditional model starts out as the
    unconditional one and the conditions add no noise to early training
    (their gradients are not zero: the conditions are).
    The residual and skip 1x1 convolutions read the same z, so they are one
    1x1 convolution with R + S outputs (the last block of a stack has no
    residual output: nothing reads it).

    Args:
      residual_channels: R, the channels of h.
      gate_channels: G, the channels of z (the gate convolution has 2G).
      skip_channels: S.
      dilation_rate: d.
      kernel_size: taps of the dilated convolution (2 in the paper).
      global_channels: width of the global condition vector, or None.
      local_channels: width of the local condition sequence, or None.
      residual: whether the block has a residual output.

    Call arguments:
      h: `[B, T, R]`.
      global_condition: `[B, global_channels]` or None.
      local_condition: `[B, T, local_channels]` or None.

    Returns `(h', skip)`: `[B, T, R]` (h itself when `residual=False`) and `[B, T, S]`.

    References:
      van den Oord et al. (2016). WaveNet: A Generative Model for Raw Audio.
      arXiv:1609.03499, sections 2.3-2.5.
    """

    def __init__(
        self,
        residual_channels,
        gate_channels,
        skip_channels,
        dilation_rate,
        kernel_size=2,
        global_channels=None,
        local_channels=None,
        residual=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.residual_channels = int_at_least("residual_channels", residual_channels, 1)
        self.gate_channels = int_at_least("gate_channels", gate_channels, 1)
        self.skip_channels = int_at_least("skip_channels", skip_channels, 1)
        self.dilation_rate = int_at_least("dilation_rate", dilation_rate, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 2)
        self.global_channels = optional_int_at_least("global_channels", global_channels, 1)
        self.local_channels = optional_int_at_least("local_channels", local_channels, 1)
        self.residual = bool(residual)
        self.gate_conv = CausalConv1D(
            2 * self.gate_channels, self.kernel_size, dilation_rate=self.dilation_rate, name="gate_conv"
        )
        self.gate = GatedActivation(name="gate")
        self.global_projection = (
            keras.layers.Dense(
                2 * self.gate_channels, use_bias=False, kernel_initializer="zeros", name="global_projection"
            )
            if self.global_channels
            else None
        )
        self.local_projection = (
            keras.layers.Dense(
                2 * self.gate_channels, use_bias=False, kernel_initializer="zeros", name="local_projection"
            )
            if self.local_channels
            else None
        )
        self.output_width = self.skip_channels + (self.residual_channels if self.residual else 0)
        self.output_projection = keras.layers.Dense(self.output_width, name="output_projection")

    def build(self, input_shape):
        self.gate_conv.build((None, None, self.residual_channels))
        if self.global_projection is not None:
            self.global_projection.build((None, self.global_channels))
        if self.local_projection is not None:
            self.local_projection.build((None, None, self.local_channels))
        self.output_projection.build((None, None, self.gate_channels))
        self.built = True

    @property
    def receptive_field(self):
        return self.gate_conv.receptive_field

    def global_bias(self, global_condition):
        """`[B, 2G]`: what the global condition adds to the gate at every step."""
        if self.global_projection is None:
            return None
        return self.global_projection(global_condition)

    def _outputs(self, h, pre_activation):
        if pre_activation.shape.rank == 2:  # one step: slices beat the layer's reshapes
            g = self.gate_channels
            gated = tf.tanh(pre_activation[:, :g]) * tf.sigmoid(pre_activation[:, g:])
            out = tf.matmul(gated, self.output_projection.kernel) + self.output_projection.bias
        else:
            out = self.output_projection(self.gate(pre_activation))
        skip = out[..., : self.skip_channels]
        if self.residual:
            h = h + out[..., self.skip_channels :]
        return h, skip

    def call(self, h, global_condition=None, local_condition=None):
        pre = self.gate_conv(h)
        if self.global_projection is not None:
            pre += self.global_projection(global_condition)[:, None, :]
        if self.local_projection is not None:
            pre += self.local_projection(local_condition)
        return self._outputs(h, pre)

    def step(self, taps, global_bias=None, local_condition_t=None):
        """One time step from the K inputs the gate convolution reads.

        Args:
          taps: `[B, K, R]`, oldest first; the last one is h_t.
          global_bias: `[B, 2G]`, the global projection (constant over time,
            computed once by the caller), or None.
          local_condition_t: `[B, local_channels]` at this step, or None.

        Returns `(h'_t, skip_t)`: `[B, R]`, `[B, S]`.
        """
        batch = tf.shape(taps)[0]
        # One matmul over the concatenated taps: cheaper than a convolution
        # on a window of K when generating one sample at a time.
        kernel = tf.reshape(self.gate_conv.kernel, [self.kernel_size * self.residual_channels, -1])
        pre = tf.matmul(tf.reshape(taps, [batch, -1]), kernel) + self.gate_conv.bias
        if global_bias is not None:
            pre += global_bias
        if self.local_projection is not None:
            pre += self.local_projection(local_condition_t)
        return self._outputs(taps[:, -1], pre)

    def get_config(self):
        config = super().get_config()
        config.update(
            residual_channels=self.residual_channels,
            gate_channels=self.gate_channels,
            skip_channels=self.skip_channels,
            dilation_rate=self.dilation_rate,
            kernel_size=self.kernel_size,
            global_channels=self.global_channels,
            local_channels=self.local_channels,
            residual=self.residual,
        )
        return config

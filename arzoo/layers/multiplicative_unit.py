"""The Video Pixel Network's multiplicative units and residual
multiplicative blocks (Kalchbrenner et al. 2017, arXiv:1610.00527, section 4).

A multiplicative unit (MU) maps a map h of c channels to c channels:

    g1, g2, g3 = sigmoid(W1 * h), sigmoid(W2 * h), sigmoid(W3 * h)
    u = tanh(W4 * h)
    MU(h) = g1 . tanh(g2 . h + g3 . u)

(the four convolutions computed as one, its output split). A residual
multiplicative block (RMB) takes 2c channels: a 1x1 convolution to c, two
MUs, a 1x1 convolution back to 2c, and the input added. The encoder's MUs
are dilated (`dilation_rate`), which widens the field without shrinking the
map: every layer keeps the frame's resolution.
"""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least


@keras.saving.register_keras_serializable(package="arzoo")
class MultiplicativeUnit(keras.layers.Layer):
    """`[B, H, W, c]` -> `[B, H, W, c]`, the MU above.

    Args:
      kernel_size: the (odd) size of the four convolutions.
      dilation_rate: their dilation.
    """

    def __init__(self, kernel_size=3, dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        self.dilation_rate = int_at_least("dilation_rate", dilation_rate, 1)
        self.conv = None

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.conv = keras.layers.Conv2D(
            4 * channels, self.kernel_size, padding="same", dilation_rate=self.dilation_rate, name="gates"
        )
        self.conv.build(input_shape)
        self.built = True

    def call(self, h):
        g1, g2, g3, u = tf.split(self.conv(h), 4, axis=-1)
        return tf.sigmoid(g1) * tf.tanh(tf.sigmoid(g2) * h + tf.sigmoid(g3) * tf.tanh(u))

    def get_config(self):
        return dict(super().get_config(), kernel_size=self.kernel_size, dilation_rate=self.dilation_rate)


@keras.saving.register_keras_serializable(package="arzoo")
class ResidualMultiplicativeBlock(keras.layers.Layer):
    """`[B, H, W, 2c]` -> `[B, H, W, 2c]`: 1x1 to c, two MUs, 1x1 to 2c, plus the input.

    Args:
      filters: 2c, the block's input and output channels (even).
      kernel_size, dilation_rate: of the MUs.

    Example:
    >>> import numpy as np
    >>> block = ResidualMultiplicativeBlock(8, dilation_rate=2)
    >>> block(np.zeros((1, 6, 6, 8), "float32")).shape
    TensorShape([1, 6, 6, 8])
    """

    def __init__(self, filters, kernel_size=3, dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int_at_least("filters", filters, 2)
        if self.filters % 2:
            raise ValueError(f"A residual multiplicative block's filters (2c) must be even, got {filters}.")
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        self.dilation_rate = int_at_least("dilation_rate", dilation_rate, 1)
        self.reduce = keras.layers.Conv2D(self.filters // 2, 1, name="reduce")
        self.units = [MultiplicativeUnit(self.kernel_size, self.dilation_rate, name=f"mu{i}") for i in range(2)]
        self.expand = keras.layers.Conv2D(self.filters, 1, name="expand")

    def call(self, h):
        x = self.reduce(h)
        for unit in self.units:
            x = unit(x)
        return h + self.expand(x)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=self.kernel_size,
                    dilation_rate=self.dilation_rate)

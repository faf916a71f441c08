"""A convolutional LSTM cell, one time step at a time (Shi et al. 2015,
arXiv:1506.04214, without the peephole terms, as the Video Pixel Network
uses it: arXiv:1610.00527, section 4).

    [o, f, i, g] = W * [x_t, h_{t-1}] + b       (one convolution)
    c_t = sigmoid(f) . c_{t-1} + sigmoid(i) . tanh(g)
    h_t = sigmoid(o) . tanh(c_t)

Written here because `keras.layers.ConvLSTM2D` runs a whole sequence with
its state inside the layer, and Keras 3 exports no cell that takes and
returns the state: cached sampling carries `(h, c)` as explicit step state,
one step per frame.
"""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.pixel_lstm_cell import lstm_update


@keras.saving.register_keras_serializable(package="arzoo")
class ConvLSTMCell(keras.layers.Layer):
    """`(x_t [B, H, W, D], (h, c) [B, H, W, units] each)` -> `(h_t, c_t)`.

    Args:
      units: the state's channels.
      kernel_size: the (odd) size of the gate convolution.

    Example:
    >>> import numpy as np
    >>> cell = ConvLSTMCell(4)
    >>> h, c = cell(np.zeros((2, 5, 5, 3), "float32"), cell.zero_state(2, 5, 5))
    >>> h.shape
    TensorShape([2, 5, 5, 4])
    """

    def __init__(self, units, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.units = int_at_least("units", units, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        self.gates = keras.layers.Conv2D(4 * self.units, self.kernel_size, padding="same", name="gates")

    def zero_state(self, batch_size, height, width):
        zeros = tf.zeros([batch_size, height, width, self.units], tf.float32)
        return zeros, zeros

    def call(self, x, state):
        hidden, cell = state
        return lstm_update(self.gates(tf.concat([x, hidden], axis=-1)), cell)

    def get_config(self):
        return dict(super().get_config(), units=self.units, kernel_size=self.kernel_size)

"""PixelRNN's Row LSTM layer (van den Oord et al. 2016, arXiv:1601.06759, section 3.1)."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.masked_conv2d import MaskedConv2D
from arzoo.layers.pixel_lstm_cell import lstm_update


@keras.saving.register_keras_serializable(package="arzoo")
class RowLSTM(keras.layers.Layer):
    """An LSTM over the rows of a map, top to bottom, a whole row at a time.

    Row i's gates are `K_is * x` (a 1 x k mask-B convolution along row i of
    the input: pixels to the left, and the pixel itself by channel group) plus
    `K_ss * h_{i-1}` (a width-k 1-D convolution over the previous row's
    hidden state, unmasked: that row is all earlier), plus any extra gate
    inputs (a condition). The state of row -1 is zero. A pixel so reads a
    triangle of the rows above, widening by k // 2 columns a row, and k // 2
    pixels to its left in its own row.

    Cached sampling computes one pixel at a time: `recurrent_gates` once per
    row from the finished row above, then `input_gates_on_window` and `cell`
    at each pixel.

    Args:
      units: hidden units h; the gates are 4h wide.
      kernel_size: odd width k of both convolutions (3 in the paper).
      num_channel_groups: R -> G -> B channel groups (1: none).

    Call arguments:
      x: `[B, H, W, C]`; extra_gates: None or a tensor broadcastable to
      `[B, H, W, 4h]` added to the gates.

    Returns the hidden states `[B, H, W, h]`.
    """

    def __init__(self, units, kernel_size=3, num_channel_groups=1, **kwargs):
        super().__init__(**kwargs)
        self.units = int_at_least("units", units, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        self.num_channel_groups = int_at_least("num_channel_groups", num_channel_groups, 1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"RowLSTM needs an odd kernel_size, got kernel_size={kernel_size}.")
        self.input_to_state = MaskedConv2D(
            4 * self.units, (1, self.kernel_size), "B", self.num_channel_groups, name="input_to_state"
        )
        self.state_to_state = keras.layers.Conv1D(
            4 * self.units, self.kernel_size, padding="same", use_bias=False, name="state_to_state"
        )

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        self.state_to_state.build((None, input_shape[2], self.units))

    def recurrent_gates(self, hidden_above):
        """`K_ss * h_{i-1}`: `[B, W, h]` -> `[B, W, 4h]`."""
        return self.state_to_state(hidden_above)

    def input_gates_on_window(self, window):
        """`K_is * x` at one pixel from its row's `[B, 1, k, C]` window
        (centred on the pixel, zero-padded like 'same') -> `[B, 1, 1, 4h]`."""
        return self.input_to_state.call_on_window(window)

    def cell(self, gates, cell_above):
        """(hidden, cell) of pixels from their gates and the cells above."""
        return lstm_update(gates, cell_above, self.num_channel_groups)

    def call(self, x, extra_gates=None):
        gates = self.input_to_state(x)
        if extra_gates is not None:
            gates = gates + extra_gates
        zeros = tf.zeros_like(gates[:, 0, :, : self.units])

        def next_row(carry, row_gates):
            hidden, cell = carry
            return self.cell(row_gates + self.recurrent_gates(hidden), cell)

        # An RNN over rows: each row's state depends on the previous row's, so
        # the rows run in order (a while loop, as XLA and the C++ loader run it).
        hidden, _ = tf.scan(next_row, tf.transpose(gates, [1, 0, 2, 3]), initializer=(zeros, zeros))
        return tf.transpose(hidden, [1, 0, 2, 3])

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, kernel_size=self.kernel_size, num_channel_groups=self.num_channel_groups
        )
        return config

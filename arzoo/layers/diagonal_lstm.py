"""PixelRNN's diagonal LSTM, one direction (van den Oord et al. 2016,
arXiv:1601.06759, section 3.2); the Diagonal BiLSTM runs two of them."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.masked_conv2d import MaskedConv2D
from arzoo.layers.pixel_lstm_cell import lstm_update


def skew(x):
    """`[B, H, W, C]` -> `[B, H, W + H - 1, C]`, row i shifted right by i
    (zeros elsewhere), so the diagonals of `x` become columns."""
    _, height, width, channels = x.shape
    padded = tf.pad(x, [[0, 0], [0, 0], [0, height], [0, 0]])
    flat = tf.reshape(padded, [-1, height * (width + height), channels])[:, : height * (width + height - 1)]
    return tf.reshape(flat, [-1, height, width + height - 1, channels])


def unskew(x, width):
    """The inverse of `skew` for a map of width `width`."""
    _, height, skewed_width, channels = x.shape
    flat = tf.reshape(x, [-1, height * skewed_width, channels])
    padded = tf.pad(flat, [[0, 0], [0, height], [0, 0]])
    return tf.reshape(padded, [-1, height, width + height, channels])[:, :, :width]


@keras.saving.register_keras_serializable(package="arzoo")
class DiagonalLSTM(keras.layers.Layer):
    """An LSTM along the diagonals of a map, from the top-left corner.

    Pixel (i, j)'s gates are `K_is * x` (a 1x1 mask-B convolution: the pixel
    itself by channel group) plus the 2x1 state-to-state convolution of the
    skewed map, which reads the hidden states of the pixel above, (i - 1, j),
    and of the pixel to the left, (i, j - 1); its cell continues the left
    pixel's cell. States outside the image are zero. A pixel so reads every
    pixel above and to the left of it (rows <= i, columns <= j); the
    Diagonal BiLSTM adds a second one scanning from the right.

    The map is skewed (row i shifted right by i) so that a diagonal is a
    column and one step of the loop updates a whole diagonal.

    Args:
      units: hidden units h; the gates are 4h wide.
      num_channel_groups: R -> G -> B channel groups (1: none).

    Call arguments:
      x: `[B, H, W, C]`; extra_gates: None or a tensor broadcastable to
      `[B, H, W, 4h]` added to the gates.

    Returns the hidden states `[B, H, W, h]`.
    """

    def __init__(self, units, num_channel_groups=1, **kwargs):
        super().__init__(**kwargs)
        self.units = int_at_least("units", units, 1)
        self.num_channel_groups = int_at_least("num_channel_groups", num_channel_groups, 1)
        self.input_to_state = MaskedConv2D(4 * self.units, 1, "B", self.num_channel_groups, name="input_to_state")
        # The 2x1 kernel's two taps as one matrix over [h_above, h_left].
        self.state_to_state = keras.layers.Dense(4 * self.units, use_bias=False, name="state_to_state")

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        self.state_to_state.build((None, 2 * self.units))

    def input_gates(self, x):
        """`K_is * x`: `[B, ..., C]` -> `[B, ..., 4h]` (a 1x1 convolution)."""
        return self.input_to_state(x)

    def cell(self, gates, hidden_above, hidden_left, cell_left):
        """(hidden, cell) of pixels from their input gates and their
        neighbours' states (any matching leading shape)."""
        gates = gates + self.state_to_state(tf.concat([hidden_above, hidden_left], axis=-1))
        return lstm_update(gates, cell_left, self.num_channel_groups)

    def call(self, x, extra_gates=None):
        _, height, width, _ = x.shape
        gates = self.input_gates(x)
        if extra_gates is not None:
            gates = gates + tf.broadcast_to(extra_gates, tf.shape(gates))
        # [columns, B, H, 4h] of the skewed map, and which rows of each column are pixels.
        columns = tf.transpose(skew(gates), [2, 0, 1, 3])
        rows, diagonals = tf.range(height)[None, :], tf.range(width + height - 1)[:, None]
        inside = tf.cast((diagonals - rows >= 0) & (diagonals - rows < width), tf.float32)[:, None, :, None]
        zeros = tf.zeros_like(columns[0, :, :, : self.units])

        def next_diagonal(carry, column):
            hidden, cell = carry
            column_gates, column_inside = column
            above = tf.pad(hidden, [[0, 0], [1, 0], [0, 0]])[:, :-1]
            hidden, cell = self.cell(column_gates, above, hidden, cell)
            return hidden * column_inside, cell * column_inside

        hidden, _ = tf.scan(next_diagonal, (columns, inside), initializer=(zeros, zeros))
        return unskew(tf.transpose(hidden, [1, 2, 0, 3]), width)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, num_channel_groups=self.num_channel_groups)
        return config

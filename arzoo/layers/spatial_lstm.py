"""The spatial LSTM of Theis and Bethge (2015, arXiv:1506.03478, eq. 7-8): a
two-dimensional LSTM over an image in raster order, whose cell at (i, j)
continues both the cell to its left and the cell above, each through its own
forget gate:

    [g, o, i, f_left, f_up] = W u_ij + V_left h_{i,j-1} + V_up h_{i-1,j} + b
    c_ij = tanh(g) . sigmoid(i) + c_{i,j-1} . sigmoid(f_left) + c_{i-1,j} . sigmoid(f_up)
    h_ij = tanh(c_ij . sigmoid(o))

u_ij is the layer's input at (i, j) (for the first layer, the causal
neighbourhood of the pixel; for a stacked layer, the hidden state of the
layer below at the same pixel); states outside the image are zero. h_ij so
reads every pixel whose input reaches a state above or to the left of it.

Written here because no Keras or TensorFlow layer has two recurrent
directions with a forget gate each (PixelRNN's diagonal LSTM,
`arzoo.layers.DiagonalLSTM`, continues only the left cell).
"""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.diagonal_lstm import skew, unskew


@keras.saving.register_keras_serializable(package="arzoo")
class SpatialLSTM(keras.layers.Layer):
    """One spatial LSTM layer: `[B, H, W, D]` inputs -> `[B, H, W, units]`.

    The whole image runs as a wavefront: cells (i, j) with the same i + j
    depend only on the diagonal before theirs, so the map is skewed (row i
    shifted right by i) and one step of a `tf.scan` updates a whole
    diagonal, H + W - 1 steps in all. Cached sampling calls `cell` once per
    pixel with the states it keeps.

    Args:
      units: hidden units; the gates are 5 * units wide.

    Call arguments:
      inputs: `[B, H, W, D]`, u_ij at every pixel.

    Example:
    >>> import numpy as np
    >>> layer = SpatialLSTM(4)
    >>> layer(np.zeros((2, 3, 5, 1), "float32")).shape
    TensorShape([2, 3, 5, 4])

    References:
      [1] Theis and Bethge (2015). Generative Image Modeling Using Spatial
          LSTMs. NeurIPS. arXiv:1506.03478.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int_at_least("units", units, 1)
        self.input_to_gates = keras.layers.Dense(5 * self.units, name="input_to_gates")
        # V_left and V_up as one matrix over [h_left, h_up].
        self.state_to_gates = keras.layers.Dense(5 * self.units, use_bias=False, name="state_to_gates")

    def build(self, input_shape):
        self.input_to_gates.build(tuple(input_shape[:1]) + tuple(input_shape[-1:]))
        self.state_to_gates.build((None, 2 * self.units))

    def input_gates(self, inputs):
        """W u + b: `[..., D]` -> `[..., 5 units]`."""
        return self.input_to_gates(inputs)

    def cell(self, gates, left, up):
        """(h, c) of pixels from their input gates `[..., 5 units]` and the
        states `(h, c)` of the pixels to their left and above."""
        (hidden_left, cell_left), (hidden_up, cell_up) = left, up
        gates = gates + self.state_to_gates(tf.concat([hidden_left, hidden_up], axis=-1))
        g, o, i, f_left, f_up = tf.split(gates, 5, axis=-1)
        cell = tf.tanh(g) * tf.sigmoid(i) + cell_left * tf.sigmoid(f_left) + cell_up * tf.sigmoid(f_up)
        return tf.tanh(cell * tf.sigmoid(o)), cell

    def call(self, inputs):
        _, height, width, _ = inputs.shape
        # [diagonals, B, H, 5 units] of the skewed map, and which rows of each diagonal are pixels.
        diagonals = tf.transpose(skew(self.input_gates(inputs)), [2, 0, 1, 3])
        rows, index = tf.range(height)[None, :], tf.range(width + height - 1)[:, None]
        inside = tf.cast((index - rows >= 0) & (index - rows < width), inputs.dtype)[:, None, :, None]
        zeros = tf.zeros_like(diagonals[0, :, :, : self.units])

        def next_diagonal(carry, diagonal):
            # Row i of the carry holds (i, d - 1 - i): the left neighbour of
            # (i, d - i); row i - 1 holds (i - 1, d - i), the one above.
            hidden, cell = carry
            gates, diagonal_inside = diagonal
            above = [tf.pad(s, [[0, 0], [1, 0], [0, 0]])[:, :-1] for s in (hidden, cell)]
            hidden, cell = self.cell(gates, (hidden, cell), above)
            return hidden * diagonal_inside, cell * diagonal_inside

        hidden, _ = tf.scan(next_diagonal, (diagonals, inside), initializer=(zeros, zeros))
        return unskew(tf.transpose(hidden, [1, 2, 0, 3]), width)

    def get_config(self):
        return dict(super().get_config(), units=self.units)

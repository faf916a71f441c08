"""The LSTM update of PixelRNN's recurrent layers, with channel groups.

van den Oord, Kalchbrenner, Kavukcuoglu (2016), arXiv:1601.06759, eq. 3:

    [o, f, i, g] = [sigmoid, sigmoid, sigmoid, tanh](K_ss * h_prev + K_is * x)
    c = f . c_prev + i . g
    h = o . tanh(c)

Written out here (not `keras.layers.LSTMCell`) because the gate
pre-activations come from convolutions over a map, not a matrix product
with one input vector, and because they carry R -> G -> B channel groups:
the pre-activations `[..., 4 * units]` are laid out as the masked
convolutions make them, in contiguous blocks by channel group
(`arzoo.layers.channel_groups`), each block holding that group's o, f, i, g.
Hidden unit `u` then belongs to the same group as its four gates, so a
group's state reads only what its gates may read.
"""

import tensorflow as tf


def lstm_update(gates, cell, num_channel_groups=1):
    """(hidden, cell) after one update.

    Args:
      gates: `[..., 4 * units]` pre-activations, grouped as the module says.
      cell: `[..., units]` the previous cell state.
      num_channel_groups: the channel groups of the layout (1: none).

    Returns `(hidden, cell)`, both `[..., units]`.
    """
    units = cell.shape[-1]
    groups = num_channel_groups
    leading = tf.shape(gates)[:-1]
    by_group = tf.reshape(gates, tf.concat([leading, [groups, 4, units // groups]], axis=0))
    o, f, i, g = (
        tf.ensure_shape(tf.reshape(gate, tf.shape(cell)), cell.shape)
        for gate in tf.unstack(by_group, axis=-2)
    )
    cell = tf.sigmoid(f) * cell + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(cell), cell

"""PixelRNN with Diagonal BiLSTM layers (van den Oord et al. 2016, section 3.2)."""

import keras
import tensorflow as tf

from arzoo.layers import DiagonalLSTM, caches, down_shift
from arzoo.models.pixel_rnn import PixelRNN
from arzoo.models.registry import register_model


def _reverse_columns(x):
    return tf.reverse(x, axis=[2])


@register_model("diagonal_bilstm")
class DiagonalBiLSTMPixelRNN(PixelRNN):
    """PixelRNN whose recurrent layers are Diagonal BiLSTMs: one diagonal
    LSTM scans from the left (a pixel reads the states of the pixels above
    and to its left), one from the right (above and to the right), and the
    second's output is shifted down one row before the two are added, so a
    pixel reads only rows above through it. Each layer so sees the whole
    context: every pixel above, and every pixel to the left in its row.

    One addition to the paper's text: the first layer's right-to-left LSTM
    also reads the image at each pixel (a 1x1 projection onto its gates).
    Built as the paper describes it, the last pixel of row i - 1 is read by
    no pixel (i, j) with j < W - 1 - first_kernel_size // 2, at any depth:
    every layer's input at (i - 1, W - 1) is mask-A, so it excludes that
    pixel, and the only other readers of it are later pixels of row i,
    which the left-to-right LSTM passes on rightwards only. Since the
    right-to-left output is shifted down a row, it may read the pixel
    itself, which closes that blind spot (tests/models/test_pixel_rnn.py
    audits every position).

    Args: see `arzoo.models.pixel_rnn.PixelRNN`.

    Example:
    >>> model = DiagonalBiLSTMPixelRNN(image_shape=(4, 4, 1), num_levels=2,
    ...                                likelihood="bernoulli", num_layers=2,
    ...                                num_filters=4, num_output_filters=8)
    >>> model.log_prob(np.zeros((2, 4, 4, 1), "int32")).shape
    TensorShape([2])
    >>> model.sample(2, seed=0).shape
    TensorShape([2, 4, 4, 1])

    References:
      van den Oord, Kalchbrenner, Kavukcuoglu (2016). Pixel Recurrent Neural
      Networks. ICML. arXiv:1601.06759.
    """

    directions = 2

    def _build_recurrent_layers(self):
        h, groups = self.num_filters, self.num_channel_groups
        self.from_left = [DiagonalLSTM(h, groups, name=f"layer{i}_from_left") for i in range(self.num_layers)]
        self.from_right = [DiagonalLSTM(h, groups, name=f"layer{i}_from_right") for i in range(self.num_layers)]
        self.image_from_right = keras.layers.Dense(4 * h, use_bias=False, name="layer0_image_from_right")

    @property
    def recurrent_layers(self):
        """(left-to-right, right-to-left) LSTM of each layer."""
        return list(zip(self.from_left, self.from_right))

    def recurrent(self, layer, x, condition_gates, inputs):
        from_left, from_right = self.recurrent_layers[layer]
        left_gates, right_gates = (None, None) if condition_gates is None else condition_gates
        if layer == 0:
            image_gates = self.image_from_right(inputs)
            right_gates = image_gates if right_gates is None else right_gates + image_gates
        forward = from_left(x, left_gates)
        backward = from_right(
            _reverse_columns(x), None if right_gates is None else _reverse_columns(right_gates)
        )
        return forward + down_shift(_reverse_columns(backward))

    # ----- cached (incremental) sampling -------------------------------------
    #
    # Per layer: the current row of the layer's input, and the left-to-right
    # LSTM's hidden and cell states of the current row as they are computed
    # (one zero column on the left: the state beside the image). Fixed for a
    # row (ROW_KEYS): the left-to-right hidden states of the row above and
    # the right-to-left LSTM's states of the row above, which a pixel reads
    # through the one-row shift. Those the row's first step computes, from
    # right to left over the stored inputs of the finished row, once per row.

    ROW_KEYS = ("hidden_above", "from_right")

    def state_shapes(self):
        _, width, _ = self.image_shape
        h = self.num_filters
        return {
            "row_inputs": [1, width, 2 * h],
            "hidden": [width + 1, h],
            "cells": [width + 1, h],
            "hidden_above": [width, h],
            "from_right": [width, h],
        }

    def row_state(self, state, row, context, in_place=False):
        """Above row 0 everything is zero; above row i > 0 the row-above
        states, and the right-to-left LSTM run over row i - 1."""
        del in_place
        from_right = []
        for layer, (_, lstm) in enumerate(self.recurrent_layers):
            above = state["from_right"][layer]
            from_right.append(tf.cond(
                row > 0,
                lambda layer=layer, lstm=lstm, above=above: self._from_right_row(
                    layer, lstm, state["row_inputs"][layer], above, context, state["canvas"], row - 1
                ),
                lambda above=above: tf.zeros_like(above),
            ))
        return {"hidden_above": [hidden[:, 1:] for hidden in state["hidden"]], "from_right": from_right}

    def _from_right_row(self, layer, lstm, inputs, above, context, canvas, row):
        """The right-to-left LSTM's hidden states `[B, W, h]` of image row
        `row` from its inputs `[B, 1, W, 2h]`, the states of the row above
        and (the first layer) the canvas."""
        gates = lstm.input_gates(inputs)
        condition_gates = self._condition_gates_at(layer, context, row)
        if condition_gates is not None:
            gates = gates + condition_gates[1]
        if layer == 0:
            gates = gates + self.image_from_right(self.scale_levels(caches.window(canvas, row, 1, axis=1)))
        columns = tf.transpose(tf.broadcast_to(gates, tf.shape(gates))[:, 0], [1, 0, 2])  # [W, B, 4h]
        zeros = tf.zeros_like(above[:, 0])

        def next_column(carry, column):
            hidden_right, cell_right = carry
            column_gates, hidden_above = column
            return lstm.cell(column_gates, hidden_above, hidden_right, cell_right)

        hidden, _ = tf.scan(
            next_column, (columns, tf.transpose(above, [1, 0, 2])), initializer=(zeros, zeros), reverse=True
        )
        return tf.transpose(hidden, [1, 0, 2])

    def layer_step(self, layer, x, state, row, col, context, in_place):
        lstm, _ = self.recurrent_layers[layer]
        gates = lstm.input_gates(x)[:, 0, 0] + self._first_condition_gates_at(layer, context, row, col)
        # buffers with the zero column: pixel (row, col) at col + 1, its left neighbour at col
        left = caches.window(state["hidden"][layer], col, 1, axis=1)[:, 0]
        cell_left = caches.window(state["cells"][layer], col, 1, axis=1)[:, 0]
        above = caches.window(state["hidden_above"][layer], col, 1, axis=1)[:, 0]
        hidden, cell = lstm.cell(gates, above, left, cell_left)
        from_right = caches.window(state["from_right"][layer], col, 1, axis=1)[:, 0]
        return hidden + from_right, {
            "row_inputs": caches.write_block(state["row_inputs"][layer], x, 0, col, in_place),
            "hidden": caches.write_at(state["hidden"][layer], col + 1, hidden, in_place),
            "cells": caches.write_at(state["cells"][layer], col + 1, cell, in_place),
        }

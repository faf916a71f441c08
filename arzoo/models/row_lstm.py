"""PixelRNN with Row LSTM layers (van den Oord et al. 2016, section 3.1)."""

from arzoo.arguments import int_at_least
from arzoo.layers import RowLSTM, caches
from arzoo.models.pixel_rnn import PixelRNN
from arzoo.models.registry import register_model


@register_model("row_lstm")
class RowLSTMPixelRNN(PixelRNN):
    """PixelRNN whose recurrent layers are Row LSTMs: each row's state is
    computed from the row above (a width-k convolution of its hidden state)
    and from the row's input (a 1 x k mask-B convolution), so a pixel reads a
    triangle of the rows above (k // 2 more columns on each side per row up)
    and, per layer, k // 2 pixels to its left: the triangular receptive field
    of the paper's figure 2, not the whole context (see `arzoo audit`).

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      num_layers, num_filters, first_kernel_size, num_output_filters: see
        `arzoo.models.pixel_rnn.PixelRNN`.
      kernel_size: odd width k of the input-to-state and state-to-state
        convolutions (3 in the paper).

    Example:
    >>> model = RowLSTMPixelRNN(image_shape=(4, 4, 1), num_levels=2,
    ...                         likelihood="bernoulli", num_layers=2,
    ...                         num_filters=4, num_output_filters=8)
    >>> model.log_prob(np.zeros((2, 4, 4, 1), "int32")).shape
    TensorShape([2])
    >>> model.sample(2, seed=0).shape
    TensorShape([2, 4, 4, 1])

    References:
      van den Oord, Kalchbrenner, Kavukcuoglu (2016). Pixel Recurrent Neural
      Networks. ICML. arXiv:1601.06759.
    """

    def __init__(self, image_shape, kernel_size=3, **kwargs):
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got kernel_size={kernel_size}.")
        super().__init__(image_shape, **kwargs)

    def _build_recurrent_layers(self):
        self.recurrent_layers = [
            RowLSTM(self.num_filters, self.kernel_size, self.num_channel_groups, name=f"layer{i}_row_lstm")
            for i in range(self.num_layers)
        ]

    def recurrent(self, layer, x, condition_gates, inputs):
        del inputs  # the layer input x has all it reads
        return self.recurrent_layers[layer](x, None if condition_gates is None else condition_gates[0])

    # ----- cached (incremental) sampling -------------------------------------
    #
    # Per layer: the current row of the layer's input (zero-padded by k // 2
    # on each side, what the 1 x k input-to-state convolution reads), the
    # current row's hidden and cell states as they are computed, and, fixed
    # for a row (ROW_KEYS, from the finished row above), the state-to-state
    # gates and the cells. A pixel's features never read its last channel,
    # so values written at its last sampling step are final.

    ROW_KEYS = ("recurrent_gates", "cells_above")

    def state_shapes(self):
        _, width, _ = self.image_shape
        h, k = self.num_filters, self.kernel_size
        return {
            "row_inputs": [1, width + 2 * (k // 2), 2 * h],
            "hidden": [width, h],
            "cells": [width, h],
            "recurrent_gates": [width, 4 * h],
            "cells_above": [width, h],
        }

    def row_state(self, state, row, context, in_place=False):
        """The finished row above's gates and cells (zeros above row 0,
        where the hidden and cell buffers are still zero)."""
        del row, context, in_place
        return {
            "recurrent_gates": [lstm.recurrent_gates(hidden) for lstm, hidden in zip(self.recurrent_layers, state["hidden"])],
            "cells_above": list(state["cells"]),
        }

    def layer_step(self, layer, x, state, row, col, context, in_place):
        lstm, k = self.recurrent_layers[layer], self.kernel_size
        inputs = caches.write_block(state["row_inputs"][layer], x, 0, col + k // 2, in_place)
        gates = lstm.input_gates_on_window(caches.read_block(inputs, 0, col, 1, k))[:, 0, 0]
        gates += caches.window(state["recurrent_gates"][layer], col, 1, axis=1)[:, 0]
        gates += self._first_condition_gates_at(layer, context, row, col)
        cell_above = caches.window(state["cells_above"][layer], col, 1, axis=1)[:, 0]
        hidden, cell = lstm.cell(gates, cell_above)
        return hidden, {
            "row_inputs": inputs,
            "hidden": caches.write_at(state["hidden"][layer], col, hidden, in_place),
            "cells": caches.write_at(state["cells"][layer], col, cell, in_place),
        }

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config

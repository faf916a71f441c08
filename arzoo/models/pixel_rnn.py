"""What the two PixelRNN families share (van den Oord, Kalchbrenner,
Kavukcuoglu 2016, arXiv:1601.06759): the mask-A input convolution, the
residual recurrent layers, the output layers and the cached step's frame.

    x_0 = 7x7 mask-A convolution of the image to 2h features
    x_{l+1} = x_l + 1x1 mask-B convolution(recurrent layer l(x_l))   (figure 4)
    params = 1x1 mask-B(ReLU(1x1 mask-B(ReLU(x_L))))

Every convolution carries the R -> G -> B channel groups, and so do the
recurrent layers' input-to-state convolutions and their gates
(`arzoo.layers.pixel_lstm_cell`), so channel c of a pixel reads only
channels < c of that pixel. A condition (class, embedding or spatial map)
is projected onto every recurrent layer's gates.

Cached sampling computes each layer at one pixel per step from per-layer
row buffers: a family keeps what its recurrent layer reads of the rows
above as `ROW_KEYS` (computed once per row by `row_state`) and what it
reads of the current row as buffers its pixel steps write.
"""

import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers import ConditionProjection, MaskedConv2D, caches
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.row_protocol import RowProtocol


class PixelRNN(RowProtocol, AutoregressiveImageModel):
    """Base of the Row LSTM and Diagonal BiLSTM families; a subclass builds
    `self.recurrent_layers` (one entry per layer, `directions` recurrent
    layers each) in `_build_recurrent_layers` and implements `recurrent`,
    `initial_state`, `row_state` and `pixel_step`.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape: see
        `AutoregressiveImageModel` (likelihood "categorical", the paper's
        256-way softmax, or "bernoulli" for binary images).
      num_layers: recurrent layers.
      num_filters: h, each LSTM's hidden units; the residual stream has 2h.
      first_kernel_size: odd size of the mask-A input convolution (7).
      num_output_filters: width of the hidden 1x1 output layer.
    """

    likelihoods = ("categorical", "bernoulli")
    likelihoods_why = " (the paper's heads: the 256-way softmax and, for binary data, the Bernoulli)"
    # The mixture head is not offered, so its size is no argument.
    replaced_arguments = ("num_mixtures",)
    # recurrent layers per residual layer (the Diagonal BiLSTM has two)
    directions = 1

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="categorical",
        num_classes=None,
        condition_shape=None,
        num_layers=7,
        num_filters=16,
        first_kernel_size=7,
        num_output_filters=32,
        **kwargs,
    ):
        super().__init__(
            image_shape,
            num_levels=num_levels,
            likelihood=likelihood,
            num_classes=num_classes,
            condition_shape=condition_shape,
            **kwargs,
        )
        self.check_spatial_condition_size()
        self.num_layers = int_at_least("num_layers", num_layers, 1)
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.first_kernel_size = int_at_least("first_kernel_size", first_kernel_size, 1)
        if self.first_kernel_size % 2 == 0:
            raise ValueError(f"first_kernel_size must be odd, got first_kernel_size={first_kernel_size}.")
        self.num_output_filters = int_at_least("num_output_filters", num_output_filters, 1)
        self.check_channel_groups(num_filters=self.num_filters, num_output_filters=self.num_output_filters)
        groups, h = self.num_channel_groups, self.num_filters
        self.input_conv = MaskedConv2D(2 * h, self.first_kernel_size, "A", groups, name="input_conv")
        self._build_recurrent_layers()
        self.residual_convs = [
            MaskedConv2D(2 * h, 1, "B", groups, name=f"layer{i}_residual") for i in range(self.num_layers)
        ]
        # layer i, direction d at i * directions + d
        self.condition_projections = [
            ConditionProjection(4 * h, name=f"layer{i}_condition{d}")
            for i in range(self.num_layers) for d in range(self.directions)
        ] if self.is_conditional else []
        self.output_hidden = MaskedConv2D(self.num_output_filters, 1, "B", groups, name="output_hidden")
        self.output_params = MaskedConv2D(self.head.params_per_pixel, 1, "B", groups, name="output_params")
        self.build()

    def _build_recurrent_layers(self):
        raise NotImplementedError

    def recurrent(self, layer, x, condition_gates, inputs):
        """Recurrent layer `layer` over a whole map `x` `[B, H, W, 2h]`, with
        the projected condition of each direction (a list, or None) and the
        network's input image `inputs` -> `[B, H, W, h]`."""
        raise NotImplementedError

    def condition_gates(self, layer, condition):
        """The projections of an encoded condition onto layer `layer`'s gates,
        one per direction (`[B, 1, 1, 4h]` or `[B, H', W', 4h]`), or None."""
        if condition is None:
            return None
        first = layer * self.directions
        return [projection(condition) for projection in self.condition_projections[first:first + self.directions]]

    def network(self, inputs, condition, training=False):
        x = self.input_conv(inputs)
        for layer, residual in enumerate(self.residual_convs):
            x = x + residual(self.recurrent(layer, x, self.condition_gates(layer, condition), inputs))
        return self._output(x)

    def _output(self, x):
        return self.output_params(tf.nn.relu(self.output_hidden(tf.nn.relu(x))))

    # ----- cached (incremental) sampling -------------------------------------

    def prepare_condition(self, condition):
        return self.encode_condition(condition)

    def _input_conv_at(self, canvas, row, col):
        """The input convolution at pixel (row, col) `[B, 1, 1, 2h]` from the
        canvas (rows above and this row, zero-padded like 'same')."""
        k = self.first_kernel_size
        padded = tf.pad(self.scale_levels(canvas), [[0, 0], [k // 2, 0], [k // 2, k // 2], [0, 0]])
        return self.input_conv.call_on_window(caches.read_block(padded, row, col, k // 2 + 1, k))

    def _condition_gates_at(self, layer, context, row, col=None):
        """`condition_gates` at pixel (row, col), or along row `row`."""
        if context is None:
            return None
        return self.condition_gates(layer, caches.condition_at(context, row, col))

    def _first_condition_gates_at(self, layer, context, row, col):
        """The first direction's condition gates `[B, 4h]` at pixel (row,
        col), or 0. without a condition."""
        gates = self._condition_gates_at(layer, context, row, col)
        return 0.0 if gates is None else gates[0][:, 0, 0]

    def state_shapes(self):
        """{name: shape without the batch} of each layer's buffers in the
        cached-sampling state (every layer has one of each)."""
        raise NotImplementedError

    def initial_state(self, batch_size, condition=None):
        state = {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
        }
        for name, shape in self.state_shapes().items():
            state[name] = [tf.zeros([batch_size, *shape], tf.float32) for _ in range(self.num_layers)]
        return state

    def layer_step(self, layer, x, state, row, col, context, in_place):
        """Recurrent layer `layer` at pixel (row, col) from its input `x`
        `[B, 1, 1, 2h]` -> (its output `[B, h]`, {name: the layer's new
        buffer} for each per-pixel buffer it writes)."""
        raise NotImplementedError

    def pixel_step(self, state, context, in_place=False):
        position = state["position"]
        _, row, col, _, _, _ = caches.step_position(self, position)
        written = {}
        x = self._input_conv_at(state["canvas"], row, col)
        for layer, residual in enumerate(self.residual_convs):
            output, buffers = self.layer_step(layer, x, state, row, col, context, in_place)
            for name, buffer in buffers.items():
                written.setdefault(name, []).append(buffer)
            x = x + residual(output[:, None, None])
        return self._step_output(x, position), dict(state, position=position + 1, **written)

    def _step_output(self, x, position):
        """The step's parameters from the final features at its pixel."""
        pixel_params = self._output(x)[:, 0, 0]
        return self.head.step_params(pixel_params, position % self.head.steps_per_pixel)

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.pop("num_mixtures")
        config.update(
            num_layers=self.num_layers,
            num_filters=self.num_filters,
            first_kernel_size=self.first_kernel_size,
            num_output_filters=self.num_output_filters,
        )
        return config

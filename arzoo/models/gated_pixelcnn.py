"""Gated PixelCNN: vertical and horizontal stacks (van den Oord et al. 2016b)."""

import keras
import tensorflow as tf

from arzoo.layers import (
    DownRightShiftedConv2D,
    DownShiftedConv2D,
    GatedPixelCNNBlock,
    MaskedConv2D,
    caches,
    down_shift,
)
from arzoo.arguments import int_at_least
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.registry import register_model
from arzoo.models.row_protocol import RowProtocol


@register_model("gated_pixelcnn")
class GatedPixelCNN(RowProtocol, AutoregressiveImageModel):
    """Gated PixelCNN without blind spot, optionally conditional.

    p(x | h) = prod_i p(x_i | x_<i, h) in raster order, R -> G -> B inside a
    pixel (or whole pixels with the logistic mixture head).

    Two stacks run side by side. The vertical stack sees whole rows strictly
    above the current pixel: its input is shifted down one row and then only
    down-shifted convolutions follow (the paper shifts the vertical stack's
    output before the vertical -> horizontal link instead; the dependence is
    the same). The horizontal stack sees the current row left of the pixel
    through down-right-shifted 1 x (k // 2 + 1) convolutions (mask A on the
    current pixel in the first layer, mask B after it, by channel group),
    receives the vertical stack through a 1x1 link at every layer, and has
    residual and skip connections. Each layer's activation is
    tanh(W_f * x + V_f^T h) * sigmoid(W_g * x + V_g^T h), h being a one-hot
    class (`num_classes`), an embedding or a spatial map (`condition_shape`).

    Args:
      image_shape, num_levels, likelihood, num_mixtures, num_classes,
      condition_shape: see `AutoregressiveImageModel`.
      num_filters: channels of each stack (F); gates use 2F.
      num_layers: gated layers after the first one.
      first_kernel_size: odd kernel size of the first layer (7 in the paper).
      kernel_size: odd kernel size of the gated layers (3 or 5).
      num_skip_filters: channels of the skip connections.
      num_output_filters: width of the hidden 1x1 output layer.

    Example:
    >>> model = GatedPixelCNN(image_shape=(4, 4, 1), num_levels=4,
    ...                       num_filters=8, num_layers=2, num_classes=3)
    >>> x = np.zeros((2, 4, 4, 1), "int32")
    >>> model.log_prob(x, condition=np.array([0, 2])).shape
    TensorShape([2])

    References:
      [1] van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu
          (2016). Conditional Image Generation with PixelCNN Decoders.
          NeurIPS. arXiv:1606.05328.
    """

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="categorical",
        num_mixtures=5,
        num_classes=None,
        condition_shape=None,
        num_filters=64,
        num_layers=8,
        first_kernel_size=7,
        kernel_size=5,
        num_skip_filters=None,
        num_output_filters=256,
        **kwargs,
    ):
        super().__init__(
            image_shape,
            num_levels=num_levels,
            likelihood=likelihood,
            num_mixtures=num_mixtures,
            num_classes=num_classes,
            condition_shape=condition_shape,
            **kwargs,
        )
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.num_layers = int_at_least("num_layers", num_layers, 0)
        self.first_kernel_size = int_at_least("first_kernel_size", first_kernel_size, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        for name, size in (("first_kernel_size", self.first_kernel_size), ("kernel_size", self.kernel_size)):
            if size % 2 == 0:
                raise ValueError(f"{name} must be odd, got {name}={size}.")
        self.num_skip_filters = int_at_least(
            "num_skip_filters", num_skip_filters or self.num_filters, 1
        )
        self.num_output_filters = int_at_least("num_output_filters", num_output_filters, 1)
        self.check_channel_groups(
            num_filters=self.num_filters,
            num_skip_filters=self.num_skip_filters,
            num_output_filters=self.num_output_filters,
        )
        groups = self.num_channel_groups
        f = self.num_filters
        k0, k = self.first_kernel_size, self.kernel_size

        def grouped_1x1(filters, name):
            return MaskedConv2D(filters, 1, "B", groups, name=name)

        self.vertical_input = DownShiftedConv2D(f, (k0 // 2 + 1, k0), name="vertical_input")
        self.horizontal_input = DownRightShiftedConv2D(
            f, (1, k0 // 2 + 1), "A", groups, name="horizontal_input"
        )
        self.input_link = keras.layers.Conv2D(f, 1, name="input_link")
        self.blocks = [
            GatedPixelCNNBlock(
                f,
                k,
                self.num_skip_filters,
                groups,
                conditional=self.is_conditional,
                residual=i < self.num_layers - 1,
                name=f"block{i}",
            )
            for i in range(self.num_layers)
        ]
        self.input_skip = grouped_1x1(self.num_skip_filters, "input_skip")
        self.output_hidden = grouped_1x1(self.num_output_filters, "output_hidden")
        self.output_params = grouped_1x1(self.head.params_per_pixel, "output_params")
        self.build()

    def network(self, inputs, condition, training=False):
        # Vertical: row r holds information from image rows < r only.
        vertical = down_shift(self.vertical_input(inputs))
        horizontal = self.horizontal_input(inputs) + self.input_link(vertical)
        skip = self.input_skip(horizontal)
        for block in self.blocks:
            vertical, horizontal, block_skip = block(vertical, horizontal, condition)
            skip = skip + block_skip
        hidden = tf.nn.relu(self.output_hidden(tf.nn.relu(skip)))
        return self.output_params(hidden)

    # ----- cached (incremental) sampling --------------------------------------
    #
    # The vertical stack at row r reads only image rows < r, so it is computed
    # one whole row at a time, when row r starts, from rolling buffers of the
    # last rows each vertical convolution reads. The horizontal stack at pixel
    # (r, c) reads pixels left of c in row r, so it is computed one pixel per
    # step from buffers of the last k // 2 pixels each horizontal convolution
    # reads. A pixel's horizontal features never read the pixel's last channel
    # (mask A then mask B), so they are final at its last sampling step and
    # pushed into the buffers then.

    def initial_state(self, batch_size, condition=None):
        f = self.num_filters
        _, width, _ = self.image_shape
        k = self.kernel_size
        zeros = lambda *shape: tf.zeros([batch_size, *shape], tf.float32)  # noqa: E731
        return {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
            "vertical_rows": [zeros(k // 2, width, f) for _ in self.blocks],
            "input_link_row": zeros(1, width, f),
            "link_rows": [zeros(1, width, 2 * f) for _ in self.blocks],
            "horizontal_pixels": [zeros(1, k // 2, f) for _ in self.blocks],
        }

    # State that `row_state` recomputes when a row starts and no step changes.
    ROW_KEYS = ("vertical_rows", "input_link_row", "link_rows")
    # ... and the horizontal buffers, emptied when a row starts.
    ROW_RESET_KEYS = ("horizontal_pixels",)

    def row_state(self, state, row, condition, in_place=False):
        """Everything the horizontal stack reads from the vertical one at `row`
        (`state["canvas"]` holds every row above; `condition` is encoded), and
        the horizontal buffers emptied for the new row."""
        k0, k = self.first_kernel_size, self.kernel_size
        inputs = self.scale_levels(state["canvas"])
        # v0 row r is the vertical input convolution at image row r - 1 (zero at r = 0).
        padded = tf.pad(inputs, [[0, 0], [k0 // 2 + 1, 0], [k0 // 2, k0 // 2], [0, 0]])
        vertical = self.vertical_input.call_on_window(caches.window(padded, row, k0 // 2 + 1, axis=1))
        vertical = tf.where(row > 0, vertical, tf.zeros_like(vertical))
        input_link_row = self.input_link(vertical)
        vertical_rows, link_rows = [], []
        for block, rows in zip(self.blocks, state["vertical_rows"]):
            stacked = caches.pad_columns(tf.concat([rows, vertical], axis=1), k // 2, k // 2)
            vertical_pre = block.vertical_conv.call_on_window(stacked)
            if block.conditional:
                vertical_pre += block.vertical_condition(caches.condition_at(condition, row))
            vertical_rows.append(caches.push(rows, vertical, axis=1))
            link_rows.append(block.link(vertical_pre))
            vertical = block.vertical_gate(vertical_pre)
        return {
            "vertical_rows": vertical_rows,
            "input_link_row": input_link_row,
            "link_rows": link_rows,
            "horizontal_pixels": [tf.zeros_like(p) for p in state["horizontal_pixels"]],
        }

    def pixel_step(self, state, condition, in_place=False):
        """The parameters of the step at `state["position"]` from a state whose
        canvas holds every earlier value and whose row keys are current."""
        position, canvas = state["position"], state["canvas"]
        _, row, col, _, _, pixel_end = caches.step_position(self, position)
        k0 = self.first_kernel_size
        row_inputs = caches.pad_columns(
            self.scale_levels(caches.window(canvas, row, 1, axis=1)), k0 // 2, 0
        )
        horizontal = self.horizontal_input.call_on_window(
            caches.window(row_inputs, col, k0 // 2 + 1, axis=2)
        ) + caches.window(state["input_link_row"], col, 1, axis=2)
        skip = self.input_skip(horizontal)
        pixels = []
        for block, previous, link_row in zip(self.blocks, state["horizontal_pixels"], state["link_rows"]):
            stacked = tf.concat([previous, horizontal], axis=2)
            pre = block.horizontal_conv.call_on_window(stacked) + caches.window(link_row, col, 1, axis=2)
            if block.conditional:
                pre += block.horizontal_condition(caches.condition_at(condition, row, col))
            gated = block.horizontal_gate(pre)
            skip = skip + block.skip(gated)
            pixels.append(tf.where(pixel_end, caches.push(previous, horizontal, axis=2), previous))
            if block.use_residual:
                horizontal = horizontal + block.residual(gated)
        hidden = tf.nn.relu(self.output_hidden(tf.nn.relu(skip)))
        pixel_params = self.output_params(hidden)[:, 0, 0]
        new_state = dict(state, position=position + 1, horizontal_pixels=pixels)
        return self.head.step_params(pixel_params, position % self.head.steps_per_pixel), new_state

    def prepare_condition(self, condition):
        return self.encode_condition(condition)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_filters=self.num_filters,
            num_layers=self.num_layers,
            first_kernel_size=self.first_kernel_size,
            kernel_size=self.kernel_size,
            num_skip_filters=self.num_skip_filters,
            num_output_filters=self.num_output_filters,
        )
        return config


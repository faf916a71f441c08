"""PixelCNN: a stack of masked convolutions (van den Oord et al. 2016a)."""

import tensorflow as tf

from arzoo.layers import ConditionProjection, MaskedConv2D, caches
from arzoo.arguments import int_at_least
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.registry import register_model


@register_model("pixelcnn")
class PixelCNN(AutoregressiveImageModel):
    """PixelCNN with mask A / mask B convolutions and R->G->B channel masks.

    p(x) = prod_{i} p(x_i | x_<i) over pixels in raster order and channels
    R -> G -> B inside a pixel. The network is a `first_kernel_size` mask-A
    convolution to 2h features, `num_residual_blocks` residual blocks
    (ReLU, 1x1 to h, ReLU, k x k mask B, ReLU, 1x1 to 2h, add), then ReLU,
    1x1 to `num_output_filters`, ReLU, 1x1 to the head's parameters; every
    convolution is masked by channel group so channel c at a pixel sees only
    channels < c there. Its receptive field has the blind spot described in
    van den Oord et al. 2016b, section 2.2: pixels up and to the right beyond
    the growing triangle are never seen (see `arzoo audit`).

    Args:
      image_shape, num_levels, likelihood, num_mixtures, num_classes,
      condition_shape: see `AutoregressiveImageModel`.
      num_filters: h; the residual stream has 2h channels.
      num_residual_blocks: residual blocks after the first layer.
      first_kernel_size: odd size of the mask-A convolution (7 in the paper).
      kernel_size: odd size of the mask-B convolutions (3 in the paper).
      num_output_filters: width of the hidden 1x1 output layer.

    Example:
    >>> model = PixelCNN(image_shape=(4, 4, 1), num_levels=4, num_filters=8,
    ...                  num_residual_blocks=1, num_output_filters=8)
    >>> model.log_prob(np.zeros((2, 4, 4, 1), "int32")).shape
    TensorShape([2])
    >>> model.sample(2, seed=0).shape
    TensorShape([2, 4, 4, 1])

    References:
      [1] van den Oord, Kalchbrenner, Kavukcuoglu (2016). Pixel Recurrent
          Neural Networks. ICML. arXiv:1601.06759.
      [2] van den Oord et al. (2016). Conditional Image Generation with
          PixelCNN Decoders. NeurIPS. arXiv:1606.05328.
    """

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="categorical",
        num_mixtures=5,
        num_classes=None,
        condition_shape=None,
        num_filters=128,
        num_residual_blocks=15,
        first_kernel_size=7,
        kernel_size=3,
        num_output_filters=1024,
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
        self.num_residual_blocks = int_at_least("num_residual_blocks", num_residual_blocks, 0)
        self.first_kernel_size = int_at_least("first_kernel_size", first_kernel_size, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        self.num_output_filters = int_at_least("num_output_filters", num_output_filters, 1)
        self.check_channel_groups(
            num_filters=self.num_filters, num_output_filters=self.num_output_filters
        )
        groups = self.num_channel_groups
        h = self.num_filters

        def masked(filters, size, mask_type="B", name=None):
            return MaskedConv2D(filters, size, mask_type, groups, name=name)

        self.input_conv = masked(2 * h, self.first_kernel_size, "A", "input_conv")
        self.blocks = [
            (
                masked(h, 1, name=f"block{i}_reduce"),
                masked(h, self.kernel_size, name=f"block{i}_conv"),
                masked(2 * h, 1, name=f"block{i}_expand"),
            )
            for i in range(self.num_residual_blocks)
        ]
        self.condition_projections = (
            [ConditionProjection(h, name=f"block{i}_condition") for i in range(self.num_residual_blocks)]
            if self.is_conditional
            else []
        )
        self.output_hidden = masked(self.num_output_filters, 1, name="output_hidden")
        self.output_params = masked(self.head.params_per_pixel, 1, name="output_params")
        self.build()

    def network(self, inputs, condition, training=False):
        features = self.input_conv(inputs)
        for i, (reduce, conv, expand) in enumerate(self.blocks):
            hidden = conv(tf.nn.relu(reduce(tf.nn.relu(features))))
            if condition is not None:
                hidden = hidden + self.condition_projections[i](condition)
            features = features + expand(tf.nn.relu(hidden))
        hidden = tf.nn.relu(self.output_hidden(tf.nn.relu(features)))
        return self.output_params(hidden)

    # ----- cached (incremental) sampling --------------------------------------
    #
    # Each k x k convolution at pixel (r, c) reads its input in rows r - k//2
    # .. r only (mask B), so the state keeps, per residual block, a rolling
    # buffer of those rows of the block's convolution input (zero-padded at
    # the sides like 'same'), and each step computes every layer at the one
    # pixel. The first (mask A) layer reads the canvas itself. A pixel's
    # features never read its last channel, so values written at its last
    # sampling step are final.

    def initial_state(self, batch_size, condition=None):
        _, width, _ = self.image_shape
        k = self.kernel_size
        return {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
            "block_rows": [
                tf.zeros([batch_size, k // 2 + 1, width + 2 * (k // 2), self.num_filters])
                for _ in self.blocks
            ],
        }

    def step(self, inputs_t, state, condition=None):
        position = state["position"]
        canvas = self.write_step(state["canvas"], position - 1, inputs_t)
        condition = self.encode_condition(condition)
        _, row, col, _, row_start, _ = caches.step_position(self, position)
        k0, k = self.first_kernel_size, self.kernel_size
        width = self.image_shape[1]

        padded = tf.pad(
            self.scale_levels(canvas), [[0, 0], [k0 // 2, 0], [k0 // 2, k0 // 2], [0, 0]]
        )
        rows = caches.window(padded, row, k0 // 2 + 1, axis=1)
        features = self.input_conv.call_on_window(caches.window(rows, col, k0, axis=2))
        at_column = tf.reshape(tf.one_hot(col + k // 2, width + 2 * (k // 2)), [1, 1, -1, 1]) > 0
        block_rows = []
        for i, ((reduce, conv, expand), buffer) in enumerate(zip(self.blocks, state["block_rows"])):
            buffer = tf.cond(
                row_start,
                lambda b=buffer: caches.push(b, tf.zeros_like(b[:, :1]), axis=1),
                lambda b=buffer: b,
            )
            conv_input = tf.nn.relu(reduce(tf.nn.relu(features)))
            current = tf.where(at_column, conv_input, buffer[:, -1:])
            buffer = tf.concat([buffer[:, :-1], current], axis=1)
            block_rows.append(buffer)
            hidden = conv.call_on_window(caches.window(buffer, col, k, axis=2))
            if condition is not None:
                hidden = hidden + self.condition_projections[i](caches.condition_at(condition, row, col))
            features = features + expand(tf.nn.relu(hidden))
        hidden = tf.nn.relu(self.output_hidden(tf.nn.relu(features)))
        pixel_params = self.output_params(hidden)[:, 0, 0]
        new_state = {"canvas": canvas, "position": position + 1, "block_rows": block_rows}
        return self.head.step_params(pixel_params, position % self.head.steps_per_pixel), new_state

    def get_config(self):
        config = super().get_config()
        config.update(
            num_filters=self.num_filters,
            num_residual_blocks=self.num_residual_blocks,
            first_kernel_size=self.first_kernel_size,
            kernel_size=self.kernel_size,
            num_output_filters=self.num_output_filters,
        )
        return config

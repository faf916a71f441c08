"""Gated PixelCNN: vertical and horizontal stacks (van den Oord et al. 2016b)."""

import keras
import tensorflow as tf

from arzoo.layers import (
    DownRightShiftedConv2D,
    DownShiftedConv2D,
    GatedPixelCNNBlock,
    MaskedConv2D,
    down_shift,
)
from arzoo.models.base import AutoregressiveImageModel, int_at_least
from arzoo.models.registry import register_model


@register_model("gated_pixelcnn")
class GatedPixelCNN(AutoregressiveImageModel):
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


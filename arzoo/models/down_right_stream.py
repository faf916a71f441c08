"""What PixelCNN++ and PixelSNAIL share: the down-right stream's input layer
and the output layers over it, each both teacher-forced and at one pixel.

The input layer reads the rows above (a down-shifted 1 x cols convolution of
the down-shifted image) and the pixels to the left (a down-right-shifted
2 x cols // 2 convolution of the right-shifted image), so position (r, c)
sees nothing at or after pixel (r, c) (as in openai/pixel-cnn). The network
input has a channel of ones, so the zero padding of the border is told apart
from grey.

The output layers give the head's parameters from the stream's final
features: one 1x1 layer for a channel-coupled head or a grey image; for a
channel-independent head on colour images a small network that also reads
the pixel's earlier channels through mask-A 1x1 weights (R -> G -> B).
"""

import keras
import tensorflow as tf

from arzoo.layers import DownRightShiftedConv2D, DownShiftedConv2D, MaskedConv2D, caches, down_shift, right_shift


class DownRightStream:
    """Mixin for an `AutoregressiveImageModel`, before it in the bases.

    Both families name the mixture head's size as tfp and openai/pixel-cnn do,
    `num_logistic_mix`, in place of the base class's `num_mixtures`.
    """

    replaced_arguments = ("num_mixtures",)

    def get_config(self):
        config = super().get_config()
        config["num_logistic_mix"] = config.pop("num_mixtures")
        return config

    def _build_down_right_input(self, num_filters, cols):
        """The input layers, for `receptive_field_dims` columns `cols` (odd)."""
        self.down_right_input_above = DownShiftedConv2D(num_filters, (1, cols), name="down_right_input_above")
        self.down_right_input_left = DownRightShiftedConv2D(
            num_filters, (2, cols // 2), use_bias=False, name="down_right_input_left"
        )

    def _build_output_layers(self, num_filters):
        groups = self.num_channel_groups
        if groups == 1:
            self.output_params = keras.layers.Dense(self.head.params_per_pixel, name="output_params")
        else:
            self.output_hidden = keras.layers.Dense(num_filters, name="output_hidden")
            self.output_channels = MaskedConv2D(num_filters, 1, "A", groups, name="output_channels")
            self.output_params = MaskedConv2D(self.head.params_per_pixel, 1, "B", groups, name="output_params")

    def _network_input(self, inputs):
        """Scaled levels plus a channel of ones."""
        return tf.concat([inputs, tf.ones_like(inputs[..., :1])], axis=-1)

    def _down_right_input(self, x):
        """The input layer over a whole network input `x` (from `_network_input`)."""
        return self.down_right_input_above(down_shift(x)) + self.down_right_input_left(right_shift(x))

    def _canvas_rows(self, canvas, first, count):
        """Image rows `first` .. `first + count - 1` of the canvas as network
        input `[B, count, W + cols - 1, C + 1]`: rows above the image and
        columns beside it zero, as the teacher-forced shifts pad."""
        cols = self.down_right_input_above.kernel_size[1]
        rows = first + tf.range(count)
        x = self._network_input(self.scale_levels(tf.gather(canvas, tf.maximum(rows, 0), axis=1)))
        x = x * tf.cast(rows >= 0, x.dtype)[None, :, None, None]
        return caches.pad_columns(x, cols // 2, cols // 2)

    def _down_right_input_at(self, canvas_rows, col):
        """The input layer at column `col` of the second of two `_canvas_rows`
        (the row above, this row) -> `[B, 1, 1, F]`."""
        cols = self.down_right_input_above.kernel_size[1]
        above = self.down_right_input_above.call_on_window(caches.read_block(canvas_rows, 0, col, 1, cols))
        beside = self.down_right_input_left.call_on_window(caches.read_block(canvas_rows, 0, col, 2, cols // 2))
        return above + beside

    def _head_params(self, features, pixels):
        """Parameters from elu(final features) and, for the channel-independent
        heads on colour images, the pixels themselves (scaled levels)."""
        if self.num_channel_groups == 1:
            return self.output_params(features)
        hidden = tf.nn.elu(self.output_hidden(features) + self.output_channels(pixels))
        return self.output_params(hidden)

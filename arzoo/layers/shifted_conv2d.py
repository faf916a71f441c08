"""Causality by padding: down-shifted and down-right-shifted convolutions.

Instead of zeroing half a kernel, pad the input so that a 'valid' convolution
of a (kh, kw) kernel at pixel (r, c) covers only rows r-kh+1..r (down-shifted,
centred on c) or rows r-kh+1..r and columns c-kw+1..c (down-right-shifted).
This is how openai/pixel-cnn builds its vertical and horizontal stacks
(Salimans et al. 2017, arXiv:1701.05517); it costs no masked-out weights.
"""

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.channel_groups import channel_group_mask, check_mask_type


def _shifted_output_shape(input_shape, strides, filters):
    """Padded to keep every position, so a stride s gives ceil(size / s)."""
    batch, height, width = tuple(input_shape)[:3]
    size = lambda n, s: None if n is None else -(-int(n) // s)  # noqa: E731
    return (batch, size(height, strides[0]), size(width, strides[1]), filters)


def _window_convolution(layer, window, kernel):
    """`layer`'s convolution over `window`; a window exactly the kernel's size
    (one output position, as in cached sampling) is one matmul, which costs a
    fraction of a convolution op on a CPU."""
    kh, kw = layer.kernel_size
    if tuple(window.shape[1:3]) != (kh, kw):
        return None
    flat = tf.reshape(window, [-1, kh * kw * window.shape[-1]])
    out = tf.matmul(flat, tf.reshape(kernel, [kh * kw * window.shape[-1], layer.filters]))
    if layer.use_bias:
        out = out + layer.bias
    return out[:, None, None, :]


def _pop_valid_padding(kwargs, name):
    padding = kwargs.pop("padding", "valid")
    if padding != "valid":
        raise ValueError(f"{name} pads by itself; got padding={padding!r}, allowed: 'valid'.")


@keras.saving.register_keras_serializable(package="arzoo")
class DownShiftedConv2D(keras.layers.Conv2D):
    """Output row r reads input rows r-kh+1..r and columns c-(kw-1)/2..c+(kw-1)/2.

    Used by the vertical stack of Gated PixelCNN, which sees whole rows above,
    and by PixelCNN++'s down stream; with `strides=2` (PixelCNN++'s way down
    a resolution) output row i reads input rows 2i-kh+1..2i.

    Args:
      filters: output channels.
      kernel_size: (kh, kw) with kw odd.
      **kwargs: other `keras.layers.Conv2D` arguments.

    Example:
    >>> DownShiftedConv2D(4, (2, 3))(np.zeros((1, 5, 5, 1), "float32")).shape
    TensorShape([1, 5, 5, 4])
    """

    def __init__(self, filters, kernel_size, **kwargs):
        _pop_valid_padding(kwargs, "DownShiftedConv2D")
        super().__init__(filters, kernel_size, padding="valid", **kwargs)
        if self.kernel_size[1] % 2 == 0:
            raise ValueError(
                f"DownShiftedConv2D needs an odd kernel width, got kernel_size={self.kernel_size}."
            )

    def call(self, inputs):
        kh, kw = self.kernel_size
        padded = tf.pad(
            inputs, [[0, 0], [kh - 1, 0], [(kw - 1) // 2, (kw - 1) // 2], [0, 0]]
        )
        return super().call(padded)

    def call_on_window(self, window):
        """The convolution over an already padded window `[B, kh, W + kw - 1, C]`
        -> `[B, 1, W, filters]` (cached sampling computes one row at a time)."""
        single = _window_convolution(self, window, self.kernel)
        return super().call(window) if single is None else single

    def compute_output_shape(self, input_shape):
        return _shifted_output_shape(input_shape, self.strides, self.filters)


@keras.saving.register_keras_serializable(package="arzoo")
class DownRightShiftedConv2D(keras.layers.Conv2D):
    """Output (r, c) reads input rows r-kh+1..r and columns c-kw+1..c.

    The kernel's last tap, input pixel (r, c) itself, is masked by channel
    group: mask "A" lets output group g read groups < g there (the first layer,
    which must not see the value being predicted), mask "B" groups <= g. With
    `mask_type=None` that tap is open, for inputs already causal at (r, c).

    Used by the horizontal stack of Gated PixelCNN (a 1 x kw kernel) and by
    PixelCNN++'s down-right stream (2 x 2; `strides=2` on the way down a
    resolution: output (i, j) reads rows 2i-kh+1..2i, columns 2j-kw+1..2j).

    Args:
      filters: output channels.
      kernel_size: (kh, kw).
      mask_type: "A", "B" or None.
      num_channel_groups: image channels for R->G->B dependence, else 1.
      **kwargs: other `keras.layers.Conv2D` arguments.

    Example:
    >>> layer = DownRightShiftedConv2D(4, (1, 3), mask_type="A")
    >>> layer(np.zeros((1, 5, 5, 1), "float32")).shape
    TensorShape([1, 5, 5, 4])
    """

    def __init__(self, filters, kernel_size, mask_type=None, num_channel_groups=1, **kwargs):
        _pop_valid_padding(kwargs, "DownRightShiftedConv2D")
        if mask_type is not None:
            check_mask_type(mask_type)
        super().__init__(filters, kernel_size, padding="valid", **kwargs)
        self.mask_type = mask_type
        self.num_channel_groups = int_at_least("num_channel_groups", num_channel_groups, 1)

    def build(self, input_shape):
        super().build(input_shape)
        kh, kw = self.kernel_size
        in_units = int(input_shape[-1])
        mask = np.ones((kh, kw, in_units, self.filters), np.float32)
        if self.mask_type is not None:
            mask[-1, -1] = channel_group_mask(
                in_units, self.filters, self.num_channel_groups, self.mask_type
            )
        self.kernel_mask = mask

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * self.kernel_mask)

    def call(self, inputs):
        kh, kw = self.kernel_size
        padded = tf.pad(inputs, [[0, 0], [kh - 1, 0], [kw - 1, 0], [0, 0]])
        return super().call(padded)

    def call_on_window(self, window):
        """The convolution at one pixel from its window `[B, kh, kw, C]` ->
        `[B, 1, 1, filters]` (cached sampling computes one pixel at a time)."""
        single = _window_convolution(self, window, self.kernel * self.kernel_mask)
        return super().call(window) if single is None else single

    def compute_output_shape(self, input_shape):
        return _shifted_output_shape(input_shape, self.strides, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            mask_type=self.mask_type, num_channel_groups=self.num_channel_groups
        )
        return config

"""Masked 2-D convolution of PixelCNN (mask A / mask B, channel groups)."""

import keras
import numpy as np

from arzoo.arguments import int_at_least
from arzoo.layers.channel_groups import channel_group_mask, check_mask_type


def pixelcnn_kernel_mask(kernel_size, in_units, out_units, mask_type, num_groups):
    """`[kh, kw, in, out]` 0/1 mask: rows above and pixels to the left of the
    centre are open, the centre follows the channel-group rule, the rest is
    closed."""
    kh, kw = kernel_size
    mask = np.zeros((kh, kw, in_units, out_units), np.float32)
    mask[: kh // 2] = 1.0
    mask[kh // 2, : kw // 2] = 1.0
    mask[kh // 2, kw // 2] = channel_group_mask(
        in_units, out_units, num_groups, mask_type
    )
    return mask


@keras.saving.register_keras_serializable(package="arzoo")
class MaskedConv2D(keras.layers.Conv2D):
    """A 'same'-padded convolution whose kernel sees only earlier sub-pixels.

    Output unit o at pixel (r, c) reads input pixels in rows above r, pixels
    left of c in row r, and at (r, c) itself only input units of an earlier
    channel group (mask "A", the first layer) or of an earlier or the same group
    (mask "B", every later layer). The mask is a constant rebuilt from the
    config and multiplied into the kernel in `call`, so it holds from
    initialisation on and survives serialization.

    Args:
      filters: output channels; divisible by `num_channel_groups`.
      kernel_size: int or (kh, kw), odd.
      mask_type: "A" or "B".
      num_channel_groups: the image's channel count for R->G->B dependence, or
        1 when the likelihood head couples the channels itself.
      **kwargs: the other `keras.layers.Conv2D` arguments (padding is 'same').

    Example:
    >>> layer = MaskedConv2D(6, 3, mask_type="A", num_channel_groups=3)
    >>> layer(np.zeros((1, 4, 4, 3), "float32")).shape
    TensorShape([1, 4, 4, 6])

    References:
      van den Oord, Kalchbrenner, Kavukcuoglu (2016). Pixel Recurrent Neural
      Networks. arXiv:1601.06759.
    """

    def __init__(self, filters, kernel_size, mask_type="B", num_channel_groups=1, **kwargs):
        padding = kwargs.pop("padding", "same")
        if padding != "same":
            raise ValueError(f"MaskedConv2D needs padding='same', got padding={padding!r}.")
        check_mask_type(mask_type)
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if any(k % 2 == 0 for k in self.kernel_size):
            raise ValueError(
                f"MaskedConv2D needs odd kernel sizes, got kernel_size={self.kernel_size}."
            )
        self.mask_type = mask_type
        self.num_channel_groups = int_at_least("num_channel_groups", num_channel_groups, 1)

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel_mask = pixelcnn_kernel_mask(
            self.kernel_size,
            int(input_shape[-1]),
            self.filters,
            self.mask_type,
            self.num_channel_groups,
        )

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * self.kernel_mask)

    def call_on_window(self, window):
        """The output at one pixel from the rows it reads.

        Args:
          window: `[B, kh // 2 + 1, kw, C]`, the rows above the pixel and its
            own row (the kernel's masked lower rows are left out), centred on
            the pixel and zero-padded like 'same'.

        Returns `[B, 1, 1, filters]` (cached sampling computes one pixel at a time).
        """
        kh = self.kernel_size[0]
        kernel = (self.kernel * self.kernel_mask)[: kh // 2 + 1]
        outputs = keras.ops.conv(window, kernel, strides=1, padding="valid")
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs if self.activation is None else self.activation(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            mask_type=self.mask_type, num_channel_groups=self.num_channel_groups
        )
        return config

"""PixelCNN++'s way up a resolution: transposed convolutions that stay causal.

A stride-2 transposed convolution with a kernel of height 2, cropped to twice
its input's size, gives output row r from input row r // 2 only (tap r % 2):
with the input's row i reading image rows < 2i at twice the resolution, the
output's row r still reads rows < r. The down-shifted one is centred on each
column (kernel width kw odd, cropped by (kw - 1) // 2 on the left); the
down-right-shifted one keeps the first 2w columns, so output column c reads
input columns <= c // 2 (Salimans et al. 2017, arXiv:1701.05517; the crops of
openai/pixel-cnn's down_shifted_deconv2d / down_right_shifted_deconv2d).
"""

import keras

from arzoo.arguments import int_at_least


class _CroppedConv2DTranspose(keras.layers.Conv2DTranspose):
    """A stride-2 VALID transposed convolution with a kernel of height 2,
    cropped to twice its input's size from column `_left_crop()`."""

    def __init__(self, filters, kernel_size, **kwargs):
        name = type(self).__name__
        strides = kwargs.pop("strides", 2)
        strides = tuple(strides) if isinstance(strides, (list, tuple)) else (strides, strides)
        padding = kwargs.pop("padding", "valid")
        if strides != (2, 2) or padding != "valid":
            raise ValueError(f"{name} fixes strides=2 and its own crop; got strides={strides}, padding={padding!r}.")
        kernel_size = tuple(int_at_least("kernel_size entries", k, 1) for k in kernel_size)
        if len(kernel_size) != 2 or kernel_size[0] != 2:
            raise ValueError(
                f"{name} needs a kernel of height 2 (one input row per output row); got kernel_size={kernel_size}."
            )
        super().__init__(filters, kernel_size, strides=2, padding="valid", **kwargs)

    def _left_crop(self):
        raise NotImplementedError

    def call(self, inputs):
        left = self._left_crop()
        return super().call(inputs)[:, :, left : left + 2 * inputs.shape[2]]

    def compute_output_shape(self, input_shape):
        batch, height, width = tuple(input_shape)[:3]
        return (batch, 2 * height, 2 * width, self.filters)


@keras.saving.register_keras_serializable(package="arzoo")
class DownShiftedConv2DTranspose(_CroppedConv2DTranspose):
    """`[B, h, w, C]` -> `[B, 2h, 2w, filters]`; output row r reads input row
    r // 2, output column c input columns near c / 2 (kernel (2, kw), kw odd).

    Example:
    >>> DownShiftedConv2DTranspose(4, (2, 3))(np.zeros((1, 3, 3, 2), "float32")).shape
    TensorShape([1, 6, 6, 4])
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        if self.kernel_size[1] % 2 == 0:
            raise ValueError(
                f"DownShiftedConv2DTranspose needs an odd kernel width, got kernel_size={self.kernel_size}."
            )

    def _left_crop(self):
        return (self.kernel_size[1] - 1) // 2


@keras.saving.register_keras_serializable(package="arzoo")
class DownRightShiftedConv2DTranspose(_CroppedConv2DTranspose):
    """`[B, h, w, C]` -> `[B, 2h, 2w, filters]`; output (r, c) reads input
    rows r // 2 and columns <= c // 2 (kernel (2, kw); (2, 2) in PixelCNN++:
    exactly input (r // 2, c // 2), tap (r % 2, c % 2)).

    Example:
    >>> DownRightShiftedConv2DTranspose(4, (2, 2))(np.zeros((1, 3, 3, 2), "float32")).shape
    TensorShape([1, 6, 6, 4])
    """

    def _left_crop(self):
        return 0

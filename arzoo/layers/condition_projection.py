"""Conditioning projections: add a condition h to a layer's pre-activation."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least


@keras.saving.register_keras_serializable(package="arzoo")
class ConditionProjection(keras.layers.Layer):
    """V^T h for a vector condition, a 1x1 convolution for a spatial one.

    A vector h `[B, D]` (a one-hot class or an embedding) becomes `[B, 1, 1,
    filters]`, the same bias at every pixel; a spatial h `[B, H, W, D]` becomes
    `[B, H, W, filters]` (Gated PixelCNN's conditional variant, van den Oord et
    al. 2016, arXiv:1606.05328, eqs. 4 and 5). No bias: the layer it adds to
    has one.

    Args:
      filters: output channels.

    Example:
    >>> ConditionProjection(8)(np.ones((2, 10), "float32")).shape
    TensorShape([2, 1, 1, 8])
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = int_at_least("filters", filters, 1)

    def build(self, input_shape):
        if len(input_shape) not in (2, 4):
            raise ValueError(
                "A condition must be [batch, dim] or [batch, height, width, dim]; "
                f"got shape {tuple(input_shape)}."
            )
        self.spatial = len(input_shape) == 4
        kernel_shape = (
            (1, 1, input_shape[-1], self.filters)
            if self.spatial
            else (input_shape[-1], self.filters)
        )
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape, initializer="glorot_uniform"
        )

    def call(self, condition):
        if self.spatial:
            return tf.nn.conv2d(condition, self.kernel, 1, "VALID")
        return tf.matmul(condition, self.kernel)[:, None, None, :]

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters)
        return config

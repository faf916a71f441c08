"""The convolutional encoder of the latent-code image models (PixelVAE's
q(z | x), the PixelCNN auto-encoder's code)."""

import keras

from arzoo.arguments import int_at_least


@keras.saving.register_keras_serializable(package="arzoo")
class ConvEncoder(keras.layers.Layer):
    """Images scaled to [-1, 1] `[B, H, W, C]` -> `[B, units]`: 3x3
    convolutions of stride 2 with ReLU (one per entry of `filters`), then a
    dense layer over the flattened map.

    Args:
      filters: a non-empty list, the channels of each stride-2 convolution.
      units: the output size.

    Example:
    >>> import numpy as np
    >>> ConvEncoder([8, 16], 6)(np.zeros((2, 8, 8, 1), "float32")).shape
    TensorShape([2, 6])
    """

    def __init__(self, filters, units, **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, (int, str)) or not list(filters):
            raise ValueError(f"encoder_filters must be a non-empty list of ints, got {filters!r}.")
        self.filters = [int_at_least("encoder_filters entries", f, 1) for f in filters]
        self.units = int_at_least("units", units, 1)
        self.convs = [
            keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")
            for i, f in enumerate(self.filters)
        ]
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(self.units, name="dense")

    def call(self, x):
        for conv in self.convs:
            x = conv(x)
        return self.dense(self.flatten(x))

    def get_config(self):
        return dict(super().get_config(), filters=list(self.filters), units=self.units)

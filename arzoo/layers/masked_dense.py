"""Dense layers whose connectivity follows degrees (MADE, FVSBN).

Germain et al. (2015) give every unit a degree: an input unit the position
of its dimension in the ordering (1..D), a hidden unit an integer in
[1, D - 1]. A hidden unit may read units of degree <= its own, an output
unit of degree d only units of degree < d, so output d never depends on
inputs at or after d in the ordering, however many layers are stacked.
"""

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least


def degree_mask(input_degrees, output_degrees, strict):
    """`[in, out]` 0/1 float32 mask: 1 where output degree >= input degree
    (`strict=False`, hidden layers) or > (`strict=True`, the output layer).

    Degrees may carry a leading axis of K masks: `[K, in]`, `[K, out]` ->
    `[K, in, out]`.
    """
    input_degrees = np.asarray(input_degrees)
    output_degrees = np.asarray(output_degrees)
    inputs = input_degrees[..., :, None]
    outputs = output_degrees[..., None, :]
    allowed = outputs > inputs if strict else outputs >= inputs
    return allowed.astype(np.float32)


@keras.saving.register_keras_serializable(package="arzoo")
class MaskedDense(keras.layers.Layer):
    """`x @ (kernel * mask) + bias`, the mask given at call time.

    The masks are constants of the model (they follow from its ordering and
    mask seed, so they are rebuilt from its config, never trained or saved);
    passing one per call lets one set of weights serve a whole ensemble of
    masks (connectivity-agnostic training).

    Args:
      units: output width.
      use_bias: add a bias.

    Call arguments:
      x: `[..., in]` floats.
      mask: `[in, units]` 0/1 floats.
    """

    def __init__(self, units, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = int_at_least("units", units, 1)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer="glorot_uniform"
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            if self.use_bias
            else None
        )

    def call(self, x, mask):
        y = tf.matmul(x, self.kernel * tf.cast(mask, self.kernel.dtype))
        return y + self.bias if self.use_bias else y

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, use_bias=self.use_bias)
        return config

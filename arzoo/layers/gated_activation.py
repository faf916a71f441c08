"""The gated activation tanh(a) * sigmoid(b) of Gated PixelCNN and WaveNet."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.channel_groups import check_divisible


@keras.saving.register_keras_serializable(package="arzoo")
class GatedActivation(keras.layers.Layer):
    """y = tanh(a) * sigmoid(b), halving the channels.

    With one group, `a` is the first half of the channels and `b` the second.
    With G channel groups (R->G->B masks), the 2F inputs are G contiguous
    blocks, each [a | b] for its group, so output block g (F/G units) is made
    from input block g only and the group structure passes through.

    Args:
      num_channel_groups: channel groups of the input, 1 by default.

    Example:
    >>> GatedActivation()(np.zeros((1, 2, 2, 8), "float32")).shape
    TensorShape([1, 2, 2, 4])

    References:
      van den Oord et al. (2016). Conditional Image Generation with PixelCNN
      Decoders. arXiv:1606.05328.
    """

    def __init__(self, num_channel_groups=1, **kwargs):
        super().__init__(**kwargs)
        self.num_channel_groups = int_at_least("num_channel_groups", num_channel_groups, 1)

    def call(self, inputs):
        units = inputs.shape[-1]
        check_divisible("GatedActivation input channels", units, 2 * self.num_channel_groups)
        group_width = units // (2 * self.num_channel_groups)
        blocks = tf.reshape(
            inputs,
            tf.concat(
                [tf.shape(inputs)[:-1], [self.num_channel_groups, 2, group_width]], 0
            ),
        )
        gated = tf.tanh(blocks[..., 0, :]) * tf.sigmoid(blocks[..., 1, :])
        return tf.reshape(gated, tf.concat([tf.shape(inputs)[:-1], [units // 2]], 0))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] // 2,)

    def get_config(self):
        config = super().get_config()
        config.update(num_channel_groups=self.num_channel_groups)
        return config

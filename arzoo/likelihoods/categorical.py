"""256-way (or `num_levels`-way) softmax per sub-pixel, as in PixelCNN."""

import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.likelihoods.head import LikelihoodHead
from arzoo.likelihoods.inverse_cdf import categorical_from_uniform

tfd = tfp.distributions


class Categorical(LikelihoodHead):
    """Independent softmax per channel; channel order comes from the network.

    Parameter layout per pixel: `num_channels` contiguous blocks of
    `num_levels` logits, block c for channel c. (Blocks are contiguous so that
    the network's channel-group masks, which assign output unit o to group
    `o * num_channels // params_per_pixel`, give block c to group c.)

    Args:
      num_channels: channels per pixel (1 for grey, 3 for RGB).
      num_levels: intensity levels per channel (256 for 8-bit images).
    """

    channel_coupled = False
    num_uniforms = 1

    def __init__(self, num_channels, num_levels):
        self.num_channels = int(num_channels)
        self.num_levels = int(num_levels)
        self.params_per_pixel = self.num_channels * self.num_levels

    def _logits(self, params):
        shape = tf.concat(
            [tf.shape(params)[:-1], [self.num_channels, self.num_levels]], 0
        )
        return tf.reshape(params, shape)

    def conditional_log_probs(self, params, x):
        logits = self._logits(params)
        return tfd.Categorical(logits=logits).log_prob(tf.cast(x, tf.int32))

    def step_log_prob(self, params_t, values_t):
        return tfd.Categorical(logits=params_t).log_prob(
            tf.cast(values_t[:, 0], tf.int32)
        )

    def step_sample(self, params_t, uniforms, temperature):
        logits = params_t / temperature[:, None]
        return categorical_from_uniform(logits, uniforms[:, 0])[:, None]

    def distribution(self, params):
        return tfd.Independent(
            tfd.Categorical(logits=self._logits(params)),
            reinterpreted_batch_ndims=1,
        )

"""Bernoulli per sub-pixel, for binary images (the published binarized-MNIST setting)."""

import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.likelihoods.head import LikelihoodHead

tfd = tfp.distributions


class Bernoulli(LikelihoodHead):
    """One logit per channel; `num_levels` is 2.

    Args:
      num_channels: channels per pixel.
    """

    channel_coupled = False
    num_uniforms = 1
    num_levels = 2

    def __init__(self, num_channels):
        self.num_channels = int(num_channels)
        self.params_per_pixel = self.num_channels

    def conditional_log_probs(self, params, x):
        return tfd.Bernoulli(logits=params).log_prob(tf.cast(x, tf.int32))

    def step_log_prob(self, params_t, values_t):
        return tfd.Bernoulli(logits=params_t[:, 0]).log_prob(
            tf.cast(values_t[:, 0], tf.int32)
        )

    def step_sample(self, params_t, uniforms, temperature):
        # Inverse CDF: x = 1 exactly when u < p(x = 1), with p at temperature T.
        p_one = tf.sigmoid(params_t[:, 0] / temperature)
        return tf.cast(uniforms[:, :1] < p_one[:, None], tf.int32)

    def distribution(self, params):
        return tfd.Independent(
            tfd.Bernoulli(logits=params), reinterpreted_batch_ndims=1
        )

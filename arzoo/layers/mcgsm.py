"""The mixture of conditional Gaussian scale mixtures (MCGSM; Theis,
Hosseini and Bethge 2012, arXiv:1109.4389), the output distribution of the
spatial LSTM (Theis and Bethge 2015, arXiv:1506.03478), for one real value x
given inputs y:

    p(x | y) = sum_{c, s} p(c, s | y) N(x; a_c^T y, (lambda_c e^{alpha_cs})^-1),
    p(c, s | y) propto exp(eta_cs - 1/2 e^{alpha_cs} sum_n beta_cn^2 (b_n^T y)^2),

C components of S scales each: a component's scales share its mean and
stretch its precision lambda_c by e^{alpha_cs}; the same e^{alpha_cs} makes a
large-scale (broad) expert likelier where the features b_n^T y are large,
i.e. where the image is busy. This layer takes the linear maps of y the
model computes (the features b_n^T y and the means a_c^T y, which the image
models get from masked convolutions and dense layers) and returns the
mixture's parameters in `arzoo.likelihoods.MixtureOfGaussians`' layout, so
that head (a tfp `MixtureSameFamily` of Normals) scores and draws it.
"""

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least

# log lambda is stored divided by this. Adam moves a weight by about one
# learning rate per step whatever its gradient's scale, and log lambda has
# far to go: from 0 (unit width) to 6 to 14 (residuals of a few hundredths
# down to one 8-bit level), thousands of steps at 1e-3, through which the
# likelihood fell linearly. Stored ten times smaller it moves ten times as
# fast (45-second runs on 2 cores, one each: MCGSM 6.37 -> 5.70 bits/dim on
# 32x32 dead leaves; the spatial LSTM 8.51 -> 6.99, and on mean-removed 8x8
# patches 71 -> 171 nats per patch of log-likelihood).
PRECISION_WEIGHT_SCALE = 10.0
# The broadest Gaussian is at most e wide (log std <= 1): ample for values in
# [0, 1) or mean-removed ones, and a model with random weights (log lambda
# of -6 and below) cannot draw values that grow without bound through the
# linear means of later pixels and channels.
MAX_LOG_STD = 1.0


@keras.saving.register_keras_serializable(package="arzoo")
class MCGSM(keras.layers.Layer):
    """`(features [..., N], means [..., C])` -> `[..., 3 C S]` mixture parameters.

    Args:
      num_components: C.
      num_scales: S, Gaussian scales per component.
      num_features: N, the features b_n^T y the gates read.

    Returns C S logits, C S means (each component's mean repeated over its
    scales) and C S log standard deviations, -(log lambda_c + alpha_cs) / 2
    (at most `MAX_LOG_STD`), in that order (`MixtureOfGaussians(C * S)`'s
    layout). `log_precisions` is log lambda (its weight is stored divided by
    `PRECISION_WEIGHT_SCALE`, so that it learns as fast as it must).

    Example:
    >>> import numpy as np
    >>> layer = MCGSM(num_components=2, num_scales=3, num_features=4)
    >>> layer(np.zeros((5, 4), "float32"), np.zeros((5, 2), "float32")).shape
    TensorShape([5, 18])
    """

    def __init__(self, num_components, num_scales, num_features, **kwargs):
        super().__init__(**kwargs)
        self.num_components = int_at_least("num_components", num_components, 1)
        self.num_scales = int_at_least("num_scales", num_scales, 1)
        self.num_features = int_at_least("num_features", num_features, 1)

    def build(self, input_shape=None):
        c, s = self.num_components, self.num_scales
        self.priors = self.add_weight(name="priors", shape=(c, s), initializer="zeros")  # eta
        # alpha: the scales of a component spread over a factor of e^2 in
        # precision, from broad to narrow, so the experts start different.
        spread = np.tile(np.linspace(-1.0, 1.0, s, dtype=np.float32) if s > 1 else np.zeros(1, np.float32), (c, 1))
        self.log_scales = self.add_weight(
            name="log_scales", shape=(c, s), initializer=keras.initializers.Constant(spread)
        )
        self.feature_weights = self.add_weight(  # beta
            name="feature_weights", shape=(c, self.num_features),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / np.sqrt(self.num_features)),
        )
        self.scaled_log_precisions = self.add_weight(  # log lambda / PRECISION_WEIGHT_SCALE
            name="scaled_log_precisions", shape=(c,), initializer="zeros"
        )

    @property
    def log_precisions(self):
        """log lambda_c, `[C]`."""
        return PRECISION_WEIGHT_SCALE * self.scaled_log_precisions

    def call(self, features, means):
        # [..., C]; tensordot (a 2-D matmul): oneDNN's broadcasting batched
        # matmul of [B, H, W, N] by [N, C] corrupted memory in TF 2.21 on CPU.
        energies = tf.tensordot(tf.square(features), tf.square(self.feature_weights), axes=[[-1], [1]])
        logits = self.priors - 0.5 * tf.exp(self.log_scales) * energies[..., :, None]  # [..., C, S]
        shape = tf.shape(logits)
        means = tf.broadcast_to(means[..., :, None], shape)
        log_std = tf.minimum(-0.5 * (self.log_precisions[:, None] + self.log_scales), MAX_LOG_STD)
        log_std = tf.broadcast_to(log_std, shape)
        size = self.num_components * self.num_scales
        flat = tf.concat([shape[:-2], [size]], axis=0)
        params = tf.concat([tf.reshape(part, flat) for part in (logits, means, log_std)], axis=-1)
        params.set_shape(logits.shape[:-2].concatenate([3 * size]))
        return params

    def get_config(self):
        return dict(
            super().get_config(),
            num_components=self.num_components,
            num_scales=self.num_scales,
            num_features=self.num_features,
        )

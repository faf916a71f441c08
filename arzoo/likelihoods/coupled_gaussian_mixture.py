"""A real-valued pixel of C channels: a mixture of Gaussians per channel,
channel c's means shifted linearly by the channels before it.

    p(x | params) = prod_c p(x_c | x_<c),
    p(x_c | x_<c) = sum_k pi_ck N(x_c; mu_ck + sum_{c' < c} gamma_cc' x_c', sigma_ck^2).

With C = 1 this is `MixtureOfGaussians`; with C > 1 the coupling makes one
step draw a whole pixel R -> G -> B (PixelCNN++'s linear channel coupling,
Salimans et al. 2017, arXiv:1701.05517, for real values), so the network
computes one set of parameters per pixel. The real-valued image models
(`arzoo.models.real_image`) use it with `arzoo.layers.MCGSM` making each
channel's mixture.
"""

import tensorflow as tf

from arzoo.likelihoods.mixture_of_gaussians import MixtureOfGaussians


class CoupledMixtureOfGaussians:
    """Parameter layout of one pixel: C blocks of `MixtureOfGaussians(K)`'s
    3K parameters (channel 0 first), then the C (C - 1) / 2 coupling
    coefficients gamma_cc' (c' < c, row by row: gamma_10, gamma_20, gamma_21, ...).

    Args:
      num_channels: C.
      num_components: K, the mixture components of each channel.

    Example:
    >>> head = CoupledMixtureOfGaussians(num_channels=1, num_components=2)
    >>> params = tf.zeros([4, head.params_per_step])
    >>> head.log_prob(params, tf.zeros([4, 1])).shape
    TensorShape([4, 1])
    """

    def __init__(self, num_channels, num_components):
        self.num_channels = int(num_channels)
        self.mixture = MixtureOfGaussians(num_components)
        self.num_components = self.mixture.num_components
        self.params_per_channel = self.mixture.params_per_dim
        self.num_couplings = self.num_channels * (self.num_channels - 1) // 2
        self.params_per_step = self.num_channels * self.params_per_channel + self.num_couplings
        self.values_per_step = self.num_channels
        self.num_uniforms = self.num_channels * self.mixture.num_uniforms

    def channel_params(self, params, earlier):
        """Channel c's mixture parameters `[..., 3K]` for every c, its means
        shifted by the coupling with `earlier`, the values `[..., C]` of the
        pixel's channels (only those before c are read)."""
        k = self.num_components
        blocks = tf.split(params[..., : self.num_channels * self.params_per_channel], self.num_channels, axis=-1)
        couplings = params[..., self.num_channels * self.params_per_channel :]
        out, used = [], 0
        for c, block in enumerate(blocks):
            if c:
                shift = tf.reduce_sum(couplings[..., used : used + c] * earlier[..., :c], axis=-1, keepdims=True)
                used += c
                block = tf.concat([block[..., :k], block[..., k : 2 * k] + shift, block[..., 2 * k :]], axis=-1)
            out.append(block)
        return out

    def distribution(self, params, x):
        """The per-channel mixtures given the pixel `x` `[..., C]` (channel c
        reads x_<c): a `tfd.MixtureSameFamily` of batch shape `[..., C]`."""
        stacked = tf.stack(self.channel_params(params, tf.cast(x, params.dtype)), axis=-2)
        return self.mixture.distribution(stacked)

    def log_prob(self, params, x):
        """log p(x_c | x_<c, params) `[..., C]` (nats; their sum is the pixel's)."""
        x = tf.cast(x, params.dtype)
        return self.distribution(params, x).log_prob(x)

    def step_log_prob(self, params_t, values_t):
        """One step's pixel: `[B, P]`, `[B, C]` -> `[B]`."""
        return tf.reduce_sum(self.log_prob(params_t, values_t), axis=-1)

    def step_sample(self, params, uniforms, temperature):
        """`[B, C]`: channel by channel, each from its two uniforms
        (`MixtureOfGaussians.step_sample`) given the channels drawn before it."""
        values = tf.zeros([tf.shape(params)[0], self.num_channels], params.dtype)
        columns = []
        for c in range(self.num_channels):
            channel = self.channel_params(params, values)[c]
            columns.append(self.mixture.step_sample(channel, uniforms[:, 2 * c : 2 * c + 2], temperature))
            values = tf.concat(columns + [tf.zeros_like(values[:, c + 1 :])], axis=-1)
        return values

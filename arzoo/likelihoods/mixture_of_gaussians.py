"""A mixture of Gaussians per real-valued dimension, as in RNADE.

Unlike the image heads (`LikelihoodHead`), this one models a real number,
not integer levels: its `log_prob` is a log-density, and its steps draw
float32 values. It offers the step interface the sampling driver reads
(`num_uniforms`, `values_per_step`, `params_per_step`, `step_sample`,
`step_log_prob`), so `arzoo.models.RNADE` samples through the one driver;
it is not one of the image `LIKELIHOODS`.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.likelihoods.inverse_cdf import categorical_from_uniform

tfd = tfp.distributions

# Uniforms are kept this far from 0 and 1 so the Normal quantile stays finite.
_UNIFORM_EPS = 1e-7


class MixtureOfGaussians:
    """K weighted Gaussians per dimension:

        p(x | params) = sum_k pi_k N(x; mu_k, sigma_k^2),
        pi = softmax(logits),  sigma_k = sigma_min + exp(min(s_k, s_max)).

    Parameter layout of one dimension (3K floats): K logits, K means mu,
    K log-scales s. sigma_min (1e-3) keeps a component from collapsing onto a
    training point, where the density and the gradients would overflow;
    s_max (20) keeps exp from overflowing float32.

    Args:
      num_components: K.

    Example:
    >>> head = MixtureOfGaussians(2)
    >>> params = tf.constant([[0.0, 0.0, -1.0, 1.0, 0.0, 0.0]])  # [1, 6]
    >>> head.log_prob(params, tf.constant([0.0])).shape
    TensorShape([1])

    References:
      [1] Uria, Murray and Larochelle (2013). RNADE: The real-valued neural
          autoregressive density-estimator. NeurIPS. arXiv:1306.0186.
    """

    num_uniforms = 2  # one picks the component, one the value inside it
    values_per_step = 1
    min_scale = 1e-3
    max_log_scale = 20.0

    def __init__(self, num_components):
        if (
            isinstance(num_components, bool)
            or not isinstance(num_components, (int, np.integer))
            or num_components < 1
        ):
            raise ValueError(
                f"num_components must be an integer >= 1, got num_components={num_components!r}."
            )
        self.num_components = int(num_components)
        self.params_per_dim = 3 * self.num_components
        self.params_per_step = self.params_per_dim

    def split(self, params):
        """`[..., 3K]` -> (logits, means, scales), each `[..., K]`."""
        logits, means, log_scales = tf.split(params, 3, axis=-1)
        scales = self.min_scale + tf.exp(tf.minimum(log_scales, self.max_log_scale))
        return logits, means, scales

    def distribution(self, params):
        """The mixture as a `tfd.MixtureSameFamily`, batch shape `params.shape[:-1]`."""
        logits, means, scales = self.split(params)
        return tfd.MixtureSameFamily(
            mixture_distribution=tfd.Categorical(logits=logits),
            components_distribution=tfd.Normal(loc=means, scale=scales),
        )

    def log_prob(self, params, x):
        """Log-density of `x` `[...]` under `params` `[..., 3K]`, `[...]` nats."""
        return self.distribution(params).log_prob(tf.cast(x, params.dtype))

    def step_log_prob(self, params_t, values_t):
        """Log-density of one step's values: `[B, 3K]`, `[B, 1]` -> `[B]`."""
        return self.log_prob(params_t, tf.reshape(values_t, [-1]))

    def step_sample(self, params, uniforms, temperature):
        """One value per row, a deterministic function of the uniforms.

        The component is the inverse CDF of the weights at `uniforms[:, 0]`;
        the value is mu + sigma sqrt(T) Phi^{-1}(`uniforms[:, 1]`), T the
        temperature (a variance multiplier: T < 1 draws closer to the means).

        Args:
          params: `[B, 3K]` float32.
          uniforms: `[B, 2]` float32 in [0, 1).
          temperature: `[B]` float32 > 0.

        Returns:
          `[B, 1]` float32.
        """
        logits, means, scales = self.split(params)
        component = categorical_from_uniform(logits, uniforms[:, 0])
        mean = tf.gather(means, component, axis=1, batch_dims=1)
        scale = tf.gather(scales, component, axis=1, batch_dims=1)
        u = tf.clip_by_value(uniforms[:, 1], _UNIFORM_EPS, 1.0 - _UNIFORM_EPS)
        return (mean + scale * tf.sqrt(temperature) * tf.math.ndtri(u))[:, None]

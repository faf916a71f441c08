"""One discretized Gaussian or logistic per channel: ClariNet's teacher head,
and the output distribution of a Parallel WaveNet student."""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.likelihoods.discretized_logistic_mixture import (
    MIN_LOG_SCALE,
    UNIFORM_EPS,
    DiscretizedLogisticMixture,
)
from arzoo.likelihoods.head import LikelihoodHead

tfd = tfp.distributions

DISTRIBUTIONS = ("gaussian", "logistic")
# Below this half bin width over the scale, a Gaussian bin's mass is its
# midpoint rule (relative error under h^2 / 2 = 5e-7), where the difference of
# two normal CDFs would cancel in float32 (at 16-bit PCM and a scale of 1, h = 1.5e-5).
_MIDPOINT_HALF_WIDTH = 1e-3
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def noise_quantile(distribution, uniforms):
    """The standard Gaussian or logistic quantile of `uniforms`, clamped to
    [1e-5, 1 - 1e-5] as every arzoo draw is (tails at 4.3 and 11.5 scales)."""
    u = tf.clip_by_value(uniforms, UNIFORM_EPS, 1.0 - UNIFORM_EPS)
    if distribution == "gaussian":
        return tf.math.ndtri(u)
    return tf.math.log(u) - tf.math.log1p(-u)


def standard_log_density(distribution, z):
    """log of the standard Gaussian or logistic density at `z`."""
    if distribution == "gaussian":
        return -0.5 * tf.square(z) - _LOG_SQRT_2PI
    return -tf.abs(z) - 2.0 * tf.nn.softplus(-tf.abs(z))


def standard_entropy(distribution):
    """Differential entropy of the standard distribution, nats."""
    return 0.5 * math.log(2.0 * math.pi * math.e) if distribution == "gaussian" else 2.0


def _log_ndtr(x):
    """log of the standard normal CDF, accurate in the lower tail."""
    return tfd.Normal(tf.zeros([], x.dtype), tf.ones([], x.dtype)).log_cdf(x)


def _log_sinhc(y):
    """log(sinh(y) / y), even in y, stable for every y."""
    y = tf.abs(y)
    small = y < 1e-3
    safe = tf.maximum(y, 1e-3)
    large = safe + tf.math.log1p(-tf.exp(-2.0 * safe)) - math.log(2.0) - tf.math.log(safe)
    return tf.where(small, tf.square(y) / 6.0, large)


class DiscretizedLocationScale(LikelihoodHead):
    r"""A Gaussian or logistic location-scale density per channel, discretized
    over `num_levels` bins of [-1, 1].

    For level v of L, with the bins of `DiscretizedLogisticMixture` (centre
    `2 v / (L - 1) - 1`, edges `e(v) = (2 v - L) / (L - 1)`, the outer bins
    extended to +-inf, so the L masses sum to one exactly):

    ```none
    p(v) = F((e(v + 1) - mu) / s) - F((e(v) - mu) / s),   log s >= min_log_scale,
    ```

    F the standard normal or logistic CDF. ClariNet (Ping et al. 2019) models
    16-bit PCM with this Gaussian; a Gaussian (or logistic) inverse
    autoregressive flow then has the same family of conditionals, which is
    what makes its KL to the teacher closed-form.

    Channels are independent given the network's output (the channel order
    comes from the network, as with the categorical head). Parameters per
    channel: `[mu, log s]`, channel blocks contiguous.

    The log-scale floor: ClariNet's code clips the Gaussian's log-scale; arzoo
    floors it at -7 as the PixelCNN++ head does (s = 9.1e-4, about 30 bins of
    16-bit PCM: the best a sample can score is about 6 bits, and a silence
    cannot pull the density to a spike that makes the KL of a student
    unbounded).

    Bin masses: Gaussian bins narrower than 2e-3 scales use the midpoint rule
    with its sinh correction, `log phi(m) + log(2 h) + log(sinh(m h) / (m h)) - h^2 / 6`
    (m the standardized centre, h the standardized half width), wider ones the
    difference of log-CDFs on the side of the smaller tail; logistic bins the
    exact form of `DiscretizedLogisticMixture`.

    Sampling: `v = round((mu + s T F^-1(u) + 1) (L - 1) / 2)`, clipped to
    [0, L - 1]: the inverse CDF of the discretized distribution, and the
    quantization of the continuous draw with the same uniform.

    Args:
      num_channels: channels per event position (1 for audio).
      num_levels: L (65,536 for 16-bit PCM).
      distribution: "gaussian" or "logistic".
      min_log_scale: the floor of log s.

    References:
      1. Wei Ping, Kainan Peng, Jitong Chen. ClariNet: Parallel Wave
         Generation in End-to-End Text-to-Speech. ICLR 2019. arXiv:1807.07281.
    """

    channel_coupled = False
    num_uniforms = 1

    def __init__(self, num_channels, num_levels, distribution="gaussian", min_log_scale=MIN_LOG_SCALE):
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}; got {distribution!r}.")
        if int(num_channels) < 1 or int(num_levels) < 2:
            raise ValueError(
                f"Need num_channels >= 1 and num_levels >= 2; got num_channels={num_channels}, "
                f"num_levels={num_levels}."
            )
        self.num_channels = int(num_channels)
        self.num_levels = int(num_levels)
        self.distribution = distribution
        self.min_log_scale = float(min_log_scale)
        self.params_per_pixel = 2 * self.num_channels
        # The bins (and the logistic's exact bin masses) are the mixture head's.
        self._bins = DiscretizedLogisticMixture(1, self.num_levels, 1)

    def split(self, params):
        """`[..., 2]` parameters of one channel -> (mu, floored log s), each `[...]`."""
        params = tf.convert_to_tensor(params, dtype_hint=tf.float32)
        return params[..., 0], tf.maximum(params[..., 1], self.min_log_scale)

    def _per_channel(self, params):
        shape = tf.concat([tf.shape(params)[:-1], [self.num_channels, 2]], 0)
        return tf.reshape(params, shape)

    def level_log_probs(self, mu, log_scale, levels):
        """log p(levels) under the discretized distribution (mu, log_scale), broadcasting."""
        levels = tf.cast(levels, tf.int32)
        if self.distribution == "logistic":
            return self._bins._bin_log_mass(levels, mu, log_scale)
        return self._gaussian_bin_log_mass(levels, mu, log_scale)

    def _gaussian_bin_log_mass(self, levels, mu, log_scale):
        inv_scale = tf.exp(-log_scale)
        upper = inv_scale * (self._bins.bin_edge(levels + 1, mu.dtype) - mu)
        lower = inv_scale * (self._bins.bin_edge(levels, mu.dtype) - mu)
        centre = 0.5 * (upper + lower)
        half = 0.5 * (upper - lower)
        # Each branch reads inputs clamped to its own range, so the branch
        # tf.where discards stays finite, and so does its gradient.
        h_small = tf.minimum(half, _MIDPOINT_HALF_WIDTH)
        midpoint = (
            -0.5 * tf.square(centre) - _LOG_SQRT_2PI + tf.math.log(2.0 * h_small)
            + _log_sinhc(centre * h_small) - tf.square(h_small) / 6.0
        )
        h_large = tf.maximum(half, _MIDPOINT_HALF_WIDTH)
        a, b = centre - h_large, centre + h_large
        # Difference of CDFs in the tail nearer zero mass: no cancellation near 1.
        flip = centre > 0
        hi = tf.where(flip, _log_ndtr(-a), _log_ndtr(b))
        lo = tf.where(flip, _log_ndtr(-b), _log_ndtr(a))
        exact = hi + tfp.math.log1mexp(tf.maximum(hi - lo, 1e-30))
        middle = tf.where(half < _MIDPOINT_HALF_WIDTH, midpoint, exact)
        first = _log_ndtr(upper)
        last = _log_ndtr(-lower)
        return tf.where(levels == 0, first, tf.where(levels == self.num_levels - 1, last, middle))

    def conditional_log_probs(self, params, x):
        mu, log_scale = self.split(self._per_channel(params))
        return self.level_log_probs(mu, log_scale, x)

    def step_log_prob(self, params_t, values_t):
        mu, log_scale = self.split(params_t)
        return self.level_log_probs(mu, log_scale, values_t[:, 0])

    def level_centre(self, levels, dtype=tf.float32):
        """The centre `2 v / (L - 1) - 1` of level v's bin."""
        return self._bins.level_centre(levels, dtype)

    def quantize(self, x):
        """Float values -> the int32 level whose bin holds each (clipped to [0, L))."""
        top = float(self.num_levels - 1)
        return tf.cast(tf.clip_by_value(tf.round((x + 1.0) * top / 2.0), 0.0, top), tf.int32)

    def step_sample(self, params_t, uniforms, temperature):
        mu, log_scale = self.split(params_t)
        temperature = tf.cast(temperature, mu.dtype)
        x = mu + tf.exp(log_scale) * temperature * noise_quantile(self.distribution, uniforms[:, 0])
        return self.quantize(x)[:, None]

    def distribution(self, params):
        return _DiscretizedLocationScaleDistribution(self, params)


class _DiscretizedLocationScaleDistribution(tfd.Distribution):
    """A `tfd.Distribution` over the `[num_channels]` levels of a position,
    backed by the head (independent channels); sampling by the head's draw."""

    def __init__(self, head, params, validate_args=False, allow_nan_stats=True, name="DiscretizedLocationScale"):
        parameters = dict(locals())
        self._head = head
        self._params = tf.convert_to_tensor(params, dtype_hint=tf.float32)
        super().__init__(
            dtype=tf.int32, reparameterization_type=tfd.NOT_REPARAMETERIZED, validate_args=validate_args,
            allow_nan_stats=allow_nan_stats, parameters=parameters, name=name,
        )

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(params=tfp.util.ParameterProperties(event_ndims=1))

    def _event_shape(self):
        return tf.TensorShape([self._head.num_channels])

    def _event_shape_tensor(self):
        return tf.constant([self._head.num_channels], tf.int32)

    def _log_prob(self, x):
        return tf.reduce_sum(self._head.conditional_log_probs(self._params, x), axis=-1)

    def _sample_n(self, n, seed=None):
        head = self._head
        seed = tfp.random.sanitize_seed(seed)
        per_channel = tf.reshape(self._params, [-1, 2])
        rows = tf.tile(per_channel, [n, 1])
        uniforms = tf.random.stateless_uniform([tf.shape(rows)[0], 1], seed=seed)
        values = head.step_sample(rows, uniforms, tf.ones([tf.shape(rows)[0]]))
        shape = tf.concat([[n], tf.shape(self._params)[:-1], [head.num_channels]], 0)
        return tf.reshape(values, shape)

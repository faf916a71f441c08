"""Discretized mixture of logistics with in-pixel channel coupling (PixelCNN++)."""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.likelihoods.head import LikelihoodHead
from arzoo.likelihoods.inverse_cdf import categorical_from_uniform

tfd = tfp.distributions

# PixelCNN++ floors the log-scales here: below it the bin mass of the mode is
# already ~1, and smaller scales only make the loss surface steeper.
MIN_LOG_SCALE = -7.0
# Sampling clamps the logistic's uniform to [eps, 1 - eps] (tails at ~11.5 s).
UNIFORM_EPS = 1e-5
# Below this `d`, log(1 - exp(-d)) = log(d) - d/2 to float32 precision, and
# the direct form would lose `d` to underflow.
_TINY_BIN_WIDTH_OVER_SCALE = 1e-6


def coefficient_index(source, target):
    """Position of the coupling coefficient of channel `source` in channel `target`.

    Pairs `(source, target)` with `source < target` are ordered by target,
    then source: for three channels (0, 1), (0, 2), (1, 2), i.e. red in green,
    red in blue, green in blue, as in PixelCNN++.
    """
    if not 0 <= source < target:
        raise ValueError(
            f"Need 0 <= source < target, got source={source}, target={target}."
        )
    return target * (target - 1) // 2 + source


def log1mexp(d, log_d):
    """log(1 - exp(-d)) for d > 0, stable for every d (Maechler 2012).

    Args:
      d: positive float tensor.
      log_d: `log(d)`, used where `d` is too small to represent `1 - exp(-d)`.
    """
    # Each branch gets an input clamped to its own range so that the branches
    # tf.where discards stay finite, and so do their gradients.
    ln2 = math.log(2.0)
    tiny = d < _TINY_BIN_WIDTH_OVER_SCALE
    small = d <= ln2
    from_tiny = log_d - 0.5 * d
    from_small = tf.math.log(
        -tf.math.expm1(-tf.clip_by_value(d, _TINY_BIN_WIDTH_OVER_SCALE, ln2))
    )
    from_large = tf.math.log1p(-tf.exp(-tf.maximum(d, ln2)))
    return tf.where(tiny, from_tiny, tf.where(small, from_small, from_large))


class DiscretizedLogisticMixture(LikelihoodHead):
    r"""Discretized mixture of logistics over one pixel's channels (PixelCNN++).

    Each channel value `v` in `[0, L)` is mapped to the centre
    `x(v) = 2 v / (L - 1) - 1` of a bin of half-width `1 / (L - 1)` in
    `[-1, 1]`; the edge between levels `v - 1` and `v` is
    `e(v) = (2 v - L) / (L - 1)`, computed once for both. With `K` components and `C` channels, a pixel has

    ```none
    p(v_0, ..., v_{C-1}) = sum_k pi_k prod_c P_k,c(v_c | v_<c),
    P_k,c(v | v_<c) = F((e(v + 1) - m_k,c) / s_k,c) - F((e(v) - m_k,c) / s_k,c),
    m_k,c = mu_k,c + sum_{c' < c} alpha_k,(c',c) x(v_c'),
    ```

    with `F` the logistic CDF, `F(-inf) = 0` replacing the lower edge of
    level 0 and `F(+inf) = 1` the upper edge of level `L - 1`, so the
    `L` bin masses sum to one exactly. The channels are coupled through the
    means only (linear autoregression within the pixel), so the network sees
    earlier pixels only and the head samples a whole pixel in one step.

    Parameter layout per pixel (last axis), `P = K + 2 K C + K C (C-1) / 2`:
    `[mixture logits (K) | mu (K, C) | log s (K, C) | alpha (K, C(C-1)/2)]`,
    each block row-major with the component first. `log s` is floored at
    `MIN_LOG_SCALE = -7` and `alpha = tanh(raw)`. Coefficient pairs are
    ordered as in `coefficient_index`: (0, 1), (0, 2), (1, 2) for RGB.

    Bin masses are evaluated in log space without cancellation:
    `log(F(a) - F(b)) = log F(a) + log(1 - F(b)) + log(1 - exp(-(a - b)))`
    with `a - b = 2 / ((L - 1) s)` taken from `log s` directly. This is exact
    for every scale and mean, so PixelCNN++'s fallback to `pdf * bin width`
    (an approximation that is off by many nats for scales below the bin
    width) is never needed.

    Sampling: one uniform picks the component by inverse CDF of the mixture
    weights, then one uniform per channel gives `x = m + s (log u - log(1-u))`
    (`u` clamped to `[1e-5, 1 - 1e-5]`), rounded to the nearest level. Channel
    `c`'s mean uses the sampled levels of channels `< c`, exactly as the
    likelihood does. At temperature `T` the mixture logits are divided by `T`
    and the scales multiplied by `T`; `T = 1` samples the model exactly.

    Args:
      num_channels: channels per pixel (1 for grey, 3 for RGB).
      num_levels: intensity levels per channel (256 for 8-bit images).
      num_mixtures: mixture components `K`.

    Example:

    ```python
    import tensorflow as tf
    from arzoo.likelihoods import DiscretizedLogisticMixture

    head = DiscretizedLogisticMixture(num_channels=3, num_levels=256)
    params = tf.random.normal([2, head.params_per_pixel])
    x = tf.constant([[0, 128, 255], [10, 20, 30]])
    head.conditional_log_probs(params, x)  # [2, 3] log p(x_c | x_<c)
    head.step_log_prob(params, x)          # [2] joint log p(x)
    uniforms = tf.random.stateless_uniform([2, head.num_uniforms], seed=[1, 2])
    head.step_sample(params, uniforms, tf.ones([2]))  # [2, 3] int32
    ```

    References:
      1. Tim Salimans, Andrej Karpathy, Xi Chen, Diederik P. Kingma.
         PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture
         Likelihood and Other Modifications. ICLR 2017. arXiv:1701.05517.
      2. Martin Maechler. Accurately Computing log(1 - exp(-|a|)). 2012.
    """

    channel_coupled = True

    def __init__(self, num_channels, num_levels=256, num_mixtures=5):
        if int(num_channels) < 1:
            raise ValueError(
                f"num_channels must be >= 1, got num_channels={num_channels}."
            )
        if int(num_levels) < 2:
            raise ValueError(
                f"num_levels must be >= 2, got num_levels={num_levels}."
            )
        if int(num_mixtures) < 1:
            raise ValueError(
                f"num_mixtures must be >= 1, got num_mixtures={num_mixtures}."
            )
        self.num_channels = int(num_channels)
        self.num_levels = int(num_levels)
        self.num_mixtures = int(num_mixtures)
        self.num_coefficients = self.num_channels * (self.num_channels - 1) // 2
        k, c = self.num_mixtures, self.num_channels
        self.params_per_pixel = k + 2 * k * c + k * self.num_coefficients
        self.num_uniforms = 1 + self.num_channels
        self._coupling_index = self._coupling_gather_index()

    def _coupling_gather_index(self):
        """`[C, C]` indices into `[0, alpha...]`: 1 + pair index below the diagonal."""
        index = np.zeros([self.num_channels, self.num_channels], np.int32)
        for target in range(self.num_channels):
            for source in range(target):
                index[target, source] = 1 + coefficient_index(source, target)
        return index

    def _split(self, params):
        """Mixture logits `[..., K]`, means, log-scales `[..., K, C]`, coupling `[..., K, C, C]`.

        `coupling[..., k, c, c']` is alpha of channel c' in channel c (zero
        unless c' < c).
        """
        params = tf.convert_to_tensor(params, dtype_hint=tf.float32)
        k, c = self.num_mixtures, self.num_channels
        logits, means, log_scales, coefficients = tf.split(
            params, [k, k * c, k * c, k * self.num_coefficients], axis=-1
        )
        outer = tf.shape(params)[:-1]
        means = tf.reshape(means, tf.concat([outer, [k, c]], 0))
        log_scales = tf.reshape(log_scales, tf.concat([outer, [k, c]], 0))
        log_scales = tf.maximum(log_scales, MIN_LOG_SCALE)
        coefficients = tf.reshape(
            tf.tanh(coefficients), tf.concat([outer, [k, self.num_coefficients]], 0)
        )
        zero = tf.zeros(tf.concat([outer, [k, 1]], 0), params.dtype)
        padded = tf.concat([zero, coefficients], -1)
        coupling = tf.gather(padded, self._coupling_index, axis=-1)
        return logits, means, log_scales, coupling

    def level_centre(self, levels, dtype=tf.float32):
        """Bin centre `2 v / (L - 1) - 1` in the network's scaled space [-1, 1]."""
        return 2.0 * tf.cast(levels, dtype) / (self.num_levels - 1) - 1.0

    def bin_edge(self, index, dtype=tf.float32):
        """The edge `(2 j - L) / (L - 1)` between levels j - 1 and j.

        Both neighbours of an edge read it from this one expression: taken
        as centre + half-width on one side and centre - half-width on the
        other, the two roundings differ, and at a log-scale of -7 the
        difference is multiplied by 1 / s ~ 1100, so the masses of the two
        bins no longer sum to their union's (off by 1e-5 in float32).
        """
        index = tf.cast(index, dtype)
        return (2.0 * index - self.num_levels) / (self.num_levels - 1)

    def _bin_log_mass(self, levels, means, log_scales):
        """log of the logistic mass in each level's bin, edge bins extended to +-inf."""
        inv_scale = tf.exp(-log_scales)
        upper = inv_scale * (self.bin_edge(levels + 1, means.dtype) - means)
        lower = inv_scale * (self.bin_edge(levels, means.dtype) - means)
        log_cdf_upper = -tf.nn.softplus(-upper)
        log_survival_lower = -tf.nn.softplus(lower)
        log_width_over_scale = math.log(2.0 / (self.num_levels - 1)) - log_scales
        log_middle = (
            log_cdf_upper
            + log_survival_lower
            + log1mexp(tf.exp(log_width_over_scale), log_width_over_scale)
        )
        return tf.where(
            levels == 0,
            log_cdf_upper,
            tf.where(levels == self.num_levels - 1, log_survival_lower, log_middle),
        )

    def _component_log_probs(self, params, x):
        """Log mixture weights `[..., K]` and log P_k,c(x_c | x_<c) `[..., K, C]`."""
        logits, means, log_scales, coupling = self._split(params)
        x = tf.cast(x, tf.int32)
        x_scaled = self.level_centre(x, means.dtype)
        means = means + tf.reduce_sum(
            coupling * x_scaled[..., None, None, :], axis=-1
        )
        log_probs = self._bin_log_mass(x[..., None, :], means, log_scales)
        return tf.nn.log_softmax(logits, axis=-1), log_probs

    def conditional_log_probs(self, params, x):
        """log p(x_c | x_<c): the mixture of the components' channel-c bin
        masses weighted by each component's posterior given x_<c,

        p(x_c | x_<c) = sum_k w_k(x_<c) P_k,c(x_c | x_<c),
        w_k(x_<c) = softmax_k(log pi_k + sum_{c' < c} log P_k,c'),

        so each conditional is a normalised mixture of normalised bins (a
        difference log p(x_<=c) - log p(x_<c) would cancel in float32).
        """
        log_weights, log_probs = self._component_log_probs(params, x)
        before = tf.math.cumsum(log_probs, axis=-1, exclusive=True)  # [..., K, C]
        log_posterior = tf.nn.log_softmax(log_weights[..., None] + before, axis=-2)
        return tf.reduce_logsumexp(log_posterior + log_probs, axis=-2)

    def joint_log_prob(self, params, x):
        """log p(x) of whole pixels: `[..., P]`, `[..., C]` -> `[...]` (broadcasting)."""
        log_weights, log_probs = self._component_log_probs(params, x)
        return tf.reduce_logsumexp(
            log_weights + tf.reduce_sum(log_probs, axis=-1), axis=-1
        )

    def step_log_prob(self, params_t, values_t):
        return self.joint_log_prob(params_t, values_t)

    def step_sample(self, params_t, uniforms, temperature):
        logits, means, log_scales, coupling = self._split(params_t)
        temperature = tf.cast(temperature, logits.dtype)
        uniforms = tf.cast(uniforms, logits.dtype)
        component = categorical_from_uniform(
            logits / temperature[:, None], uniforms[:, 0]
        )
        means = tf.gather(means, component, batch_dims=1)  # [B, C]
        log_scales = tf.gather(log_scales, component, batch_dims=1)
        coupling = tf.gather(coupling, component, batch_dims=1)  # [B, C, C]
        scales = tf.exp(log_scales) * temperature[:, None]
        u = tf.clip_by_value(uniforms[:, 1:], UNIFORM_EPS, 1.0 - UNIFORM_EPS)
        offsets = scales * (tf.math.log(u) - tf.math.log1p(-u))

        top = float(self.num_levels - 1)
        levels, centres = [], []
        for c in range(self.num_channels):
            mean = means[:, c]
            if c > 0:
                mean += tf.reduce_sum(
                    coupling[:, c, :c] * tf.stack(centres, axis=-1), axis=-1
                )
            level = tf.clip_by_value(
                tf.round((mean + offsets[:, c] + 1.0) * top / 2.0), 0.0, top
            )
            levels.append(tf.cast(level, tf.int32))
            # Couple later channels to the quantized value, as the likelihood does.
            centres.append(self.level_centre(level, logits.dtype))
        return tf.stack(levels, axis=-1)

    def distribution(self, params):
        return DiscretizedLogisticMixtureDistribution(self, params)


class DiscretizedLogisticMixtureDistribution(tfd.Distribution):
    """A `tfd.Distribution` over pixels of int32 levels, backed by a head.

    Batch shape `params.shape[:-1]`, event shape `[num_channels]`.
    `log_prob` is `head.joint_log_prob`; `sample(seed=...)` takes a stateless
    seed and draws every sample and batch member by `head.step_sample` at
    temperature 1.

    Args:
      head: a `DiscretizedLogisticMixture`.
      params: `[..., head.params_per_pixel]` float tensor.
    """

    def __init__(
        self,
        head,
        params,
        validate_args=False,
        allow_nan_stats=True,
        name="DiscretizedLogisticMixture",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            self._head = head
            self._params = tf.convert_to_tensor(params, dtype_hint=tf.float32)
            super().__init__(
                dtype=tf.int32,
                reparameterization_type=tfd.NOT_REPARAMETERIZED,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                parameters=parameters,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(params=tfp.util.ParameterProperties(event_ndims=1))

    @property
    def head(self):
        return self._head

    @property
    def params(self):
        return self._params

    def _event_shape(self):
        return tf.TensorShape([self._head.num_channels])

    def _event_shape_tensor(self):
        return tf.constant([self._head.num_channels], tf.int32)

    def _log_prob(self, x):
        return self._head.joint_log_prob(self._params, x)

    def _sample_n(self, n, seed=None):
        head = self._head
        seed = tfp.random.sanitize_seed(seed)
        batch_shape = tf.shape(self._params)[:-1]
        flat = tf.reshape(self._params, [-1, head.params_per_pixel])
        rows = tf.tile(flat, [n, 1])  # sample-major, then batch
        num_rows = tf.shape(rows)[0]
        uniforms = tf.random.stateless_uniform(
            [num_rows, head.num_uniforms], seed=seed, dtype=rows.dtype
        )
        values = head.step_sample(rows, uniforms, tf.ones([num_rows], rows.dtype))
        return tf.reshape(
            values, tf.concat([[n], batch_shape, [head.num_channels]], 0)
        )

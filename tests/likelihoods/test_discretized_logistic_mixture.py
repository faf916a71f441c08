"""DiscretizedLogisticMixture against an independent float64 reference."""

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import expit, softmax

from arzoo.likelihoods.discretized_logistic_mixture import (
    DiscretizedLogisticMixture,
    coefficient_index,
)

# ---------------------------------------------------------------- reference


def reference_pairs(num_channels):
    """Coefficient order of the spec: by target channel, then source."""
    return [(s, t) for t in range(num_channels) for s in range(t)]


def reference_bin_prob(level, mean, scale, num_levels):
    """Logistic mass of one level's bin in float64, edge bins to +-inf.

    The difference is taken between CDFs below the mean and between survival
    functions above it, so float64 does not cancel in the far tails.
    """
    half = 1.0 / (num_levels - 1)
    centre = 2.0 * level / (num_levels - 1) - 1.0
    lo = (centre - half - mean) / scale
    hi = (centre + half - mean) / scale
    cdf_hi = 1.0 if level == num_levels - 1 else expit(hi)
    cdf_lo = 0.0 if level == 0 else expit(lo)
    sf_hi = 0.0 if level == num_levels - 1 else expit(-hi)
    sf_lo = 1.0 if level == 0 else expit(-lo)
    return sf_lo - sf_hi if lo > 0 else cdf_hi - cdf_lo


def reference_unpack(params, num_channels, num_mixtures):
    k, c = num_mixtures, num_channels
    p = np.asarray(params, np.float64)
    weights = softmax(p[:k])
    means = p[k : k + k * c].reshape(k, c)
    scales = np.exp(np.maximum(p[k + k * c : k + 2 * k * c].reshape(k, c), -7.0))
    alphas = np.tanh(p[k + 2 * k * c :].reshape(k, c * (c - 1) // 2))
    return weights, means, scales, alphas


def reference_coupled_mean(means, alphas, k, c, x_scaled):
    pairs = reference_pairs(means.shape[1])
    return means[k, c] + sum(
        alphas[k, pairs.index((s, c))] * x_scaled[s] for s in range(c)
    )


def reference_prefix_probs(params, x, num_channels, num_levels, num_mixtures):
    """p(x_0..x_c) for every c of one pixel, float64, by the direct formula."""
    weights, means, scales, alphas = reference_unpack(
        params, num_channels, num_mixtures
    )
    x_scaled = 2.0 * np.asarray(x, np.float64) / (num_levels - 1) - 1.0
    probs = np.empty([num_mixtures, num_channels])
    for k in range(num_mixtures):
        for c in range(num_channels):
            mean = reference_coupled_mean(means, alphas, k, c, x_scaled)
            probs[k, c] = reference_bin_prob(x[c], mean, scales[k, c], num_levels)
    return np.array(
        [np.sum(weights * np.prod(probs[:, : c + 1], axis=1)) for c in range(num_channels)]
    )


# ------------------------------------------------------------------ helpers


def random_params(rng, head, rows, extreme):
    k, c, n = head.num_mixtures, head.num_channels, head.num_coefficients
    logits = rng.normal(0.0, 6.0 if extreme else 2.0, [rows, k])
    if extreme:
        means = rng.uniform(-6.0, 6.0, [rows, k * c])
        log_scales = rng.uniform(-10.0, 12.0, [rows, k * c])
        coefficients = rng.normal(0.0, 4.0, [rows, k * n])
    else:
        means = rng.uniform(-1.2, 1.2, [rows, k * c])
        log_scales = rng.uniform(-4.0, 0.5, [rows, k * c])
        coefficients = rng.normal(0.0, 1.0, [rows, k * n])
    params = np.concatenate([logits, means, log_scales, coefficients], axis=1)
    return params.astype(np.float32)


def points_near_a_mode(rng, head, params):
    """Levels near a random component's coupled mean, so probabilities are not all ~0."""
    L = head.num_levels
    x = np.zeros([len(params), head.num_channels], np.int64)
    for i, row in enumerate(params):
        _, means, _, alphas = reference_unpack(row, head.num_channels, head.num_mixtures)
        k = rng.integers(head.num_mixtures)
        x_scaled = np.zeros(head.num_channels)
        for c in range(head.num_channels):
            mean = reference_coupled_mean(means, alphas, k, c, x_scaled)
            level = np.round((mean + 1.0) * (L - 1) / 2.0) + rng.integers(-2, 3)
            x[i, c] = np.clip(level, 0, L - 1)
            x_scaled[c] = 2.0 * x[i, c] / (L - 1) - 1.0
    return x


def all_pixels(num_channels, num_levels):
    return np.array(list(itertools.product(range(num_levels), repeat=num_channels)))


# -------------------------------------------------------------------- tests


def test_layout_and_coefficient_order():
    head = DiscretizedLogisticMixture(num_channels=3, num_levels=256, num_mixtures=5)
    assert head.params_per_pixel == 50  # 10 * nr_mix, as in PixelCNN++
    assert head.num_uniforms == 4
    assert head.channel_coupled and head.steps_per_pixel == 1
    assert head.values_per_step == 3 and head.params_per_step == 50
    assert reference_pairs(3) == [(0, 1), (0, 2), (1, 2)]
    assert [coefficient_index(s, t) for s, t in reference_pairs(4)] == list(range(6))
    grey = DiscretizedLogisticMixture(num_channels=1, num_levels=2, num_mixtures=3)
    assert grey.params_per_pixel == 9 and grey.num_uniforms == 2


@pytest.mark.parametrize("num_channels", [1, 3])
@pytest.mark.parametrize("num_levels", [4, 256])
@pytest.mark.parametrize("extreme", [False, True])
def test_matches_float64_reference(num_channels, num_levels, extreme):
    rng = np.random.default_rng(100 * num_channels + num_levels + extreme)
    head = DiscretizedLogisticMixture(num_channels, num_levels, num_mixtures=3)
    rows = 60
    params = random_params(rng, head, rows, extreme)
    x = np.concatenate(
        [
            rng.integers(0, num_levels, [rows // 2, num_channels]),
            points_near_a_mode(rng, head, params[rows // 2 :]),
        ]
    )
    conditional = head.conditional_log_probs(params, x).numpy()
    joint = head.step_log_prob(params, x).numpy()
    assert np.all(np.isfinite(conditional)) and np.all(np.isfinite(joint))

    prefix = np.array(
        [
            reference_prefix_probs(p, v, num_channels, num_levels, 3)
            for p, v in zip(params, x)
        ]
    )
    representable = np.all(prefix > 1e-250, axis=1)
    assert representable.sum() >= rows // 3, "too few comparable points"
    log_prefix = np.log(prefix[representable])
    expected = np.diff(log_prefix, axis=1, prepend=0.0)
    np.testing.assert_allclose(
        conditional[representable], expected, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        joint[representable], log_prefix[:, -1], rtol=1e-4, atol=1e-4
    )


def test_huge_scale_matches_pdf_times_width():
    # log s = 100 makes 1 / s a float32 denormal; the bin mass is pdf(0) * width.
    head = DiscretizedLogisticMixture(1, num_levels=256, num_mixtures=1)
    params = tf.constant([[0.0, 0.0, 100.0]])
    log_prob = head.step_log_prob(params, tf.constant([[127]])).numpy()[0]
    np.testing.assert_allclose(
        log_prob, math.log(2.0 / 255.0) - 100.0 - math.log(4.0), atol=1e-4
    )


def test_gradients_finite_for_extreme_params():
    rng = np.random.default_rng(7)
    head = DiscretizedLogisticMixture(3, num_levels=256, num_mixtures=4)
    params = tf.constant(random_params(rng, head, 64, extreme=True))
    x = tf.constant(rng.integers(0, 256, [64, 3]))
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = -tf.reduce_sum(head.conditional_log_probs(params, x))
    assert np.all(np.isfinite(tape.gradient(loss, params).numpy()))


@pytest.mark.parametrize("num_levels", [2, 5, 256])
def test_single_channel_normalizes(num_levels):
    rng = np.random.default_rng(num_levels)
    head = DiscretizedLogisticMixture(1, num_levels, num_mixtures=3)
    params = np.concatenate(
        [random_params(rng, head, 8, False), random_params(rng, head, 8, True)]
    )
    levels = np.arange(num_levels)[:, None, None]  # [L, 1, 1] against [16, P]
    log_probs = head.conditional_log_probs(params, np.broadcast_to(levels, [num_levels, 16, 1]))
    total = tf.reduce_sum(tf.exp(log_probs[..., 0]), axis=0).numpy()
    np.testing.assert_allclose(total, np.ones(16), atol=1e-5)


@pytest.mark.parametrize("num_channels,num_levels", [(2, 4), (3, 3)])
def test_joint_and_conditionals_normalize(num_channels, num_levels):
    rng = np.random.default_rng(num_channels)
    head = DiscretizedLogisticMixture(num_channels, num_levels, num_mixtures=3)
    rows = 6
    params = np.concatenate(
        [random_params(rng, head, rows, False), random_params(rng, head, rows, True)]
    )
    pixels = all_pixels(num_channels, num_levels)  # [N, C], earlier channels vary slowest
    x = np.broadcast_to(pixels[:, None, :], [len(pixels), 2 * rows, num_channels])
    joint = tf.exp(head.step_log_prob(params[None], x)).numpy()
    np.testing.assert_allclose(joint.sum(axis=0), np.ones(2 * rows), atol=1e-5)

    conditional = np.exp(head.conditional_log_probs(params[None], x).numpy())
    for c in range(num_channels):
        # For each prefix x_<c (and any x_>c), summing over x_c gives 1.
        grid = conditional[..., c].reshape([num_levels] * num_channels + [2 * rows])
        sums = grid.sum(axis=c)
        np.testing.assert_allclose(sums, np.ones_like(sums), atol=1e-5)


def test_conditionals_sum_to_joint_with_extra_batch_dims():
    rng = np.random.default_rng(3)
    head = DiscretizedLogisticMixture(3, num_levels=256, num_mixtures=5)
    params = random_params(rng, head, 24, extreme=True).reshape(2, 3, 4, -1)
    x = rng.integers(0, 256, [2, 3, 4, 3])
    conditional = head.conditional_log_probs(params, x)
    assert conditional.shape == (2, 3, 4, 3)
    joint = head.step_log_prob(params.reshape(24, -1), x.reshape(24, 3)).numpy()
    np.testing.assert_allclose(
        tf.reduce_sum(conditional, -1).numpy().reshape(24), joint, rtol=1e-5, atol=1e-4
    )


def empirical_total_variation(head, params, samples):
    L, C = head.num_levels, head.num_channels
    pixels = all_pixels(C, L)
    probs = np.exp(
        head.step_log_prob(np.repeat(params[None], len(pixels), 0), pixels).numpy()
    )
    index = np.ravel_multi_index(tuple(np.asarray(samples).T), [L] * C)
    counts = np.bincount(index, minlength=L**C) / len(index)
    return 0.5 * np.abs(counts - probs).sum()


@pytest.mark.parametrize("num_channels", [1, 2])
def test_samples_follow_log_prob(num_channels):
    rng = np.random.default_rng(11 + num_channels)
    head = DiscretizedLogisticMixture(num_channels, num_levels=4, num_mixtures=3)
    params = random_params(rng, head, 1, extreme=False)[0]
    rows = 40000
    uniforms = tf.random.stateless_uniform([rows, head.num_uniforms], seed=[4, 2])
    batch = np.repeat(params[None], rows, 0)
    samples = head.step_sample(batch, uniforms, tf.ones([rows])).numpy()
    assert samples.dtype == np.int32 and samples.shape == (rows, num_channels)
    assert empirical_total_variation(head, params, samples) < 0.02
    again = head.step_sample(batch, uniforms, tf.ones([rows])).numpy()
    np.testing.assert_array_equal(samples, again)
    # A row's sample depends on its own uniforms only, not on the batch.
    alone = head.step_sample(batch[5:6], uniforms[5:6], tf.ones([1])).numpy()
    np.testing.assert_array_equal(alone[0], samples[5])


def test_low_temperature_picks_dominant_component_mode():
    L, C = 256, 3
    head = DiscretizedLogisticMixture(C, num_levels=L, num_mixtures=2)
    modes = np.array([[10, 200, 77], [50, 60, 70]])
    means = 2.0 * modes / (L - 1) - 1.0
    params = np.concatenate(
        [[2.0, 0.0], means.ravel(), np.zeros(2 * C), np.zeros(2 * head.num_coefficients)]
    ).astype(np.float32)
    rows = 500
    uniforms = tf.random.stateless_uniform([rows, head.num_uniforms], seed=[1, 9])
    batch = np.repeat(params[None], rows, 0)
    cold = head.step_sample(batch, uniforms, tf.fill([rows], 1e-4)).numpy()
    np.testing.assert_array_equal(cold, np.repeat(modes[:1], rows, 0))
    warm = head.step_sample(batch, uniforms, tf.fill([rows], 2.0)).numpy()
    assert warm.min() >= 0 and warm.max() <= L - 1 and len(np.unique(warm[:, 0])) > 10


def test_distribution_log_prob_and_sample():
    rng = np.random.default_rng(5)
    head = DiscretizedLogisticMixture(2, num_levels=4, num_mixtures=3)
    params = random_params(rng, head, 3, extreme=False)
    dist = head.distribution(params)
    assert dist.batch_shape == [3] and dist.event_shape == [2]
    x = rng.integers(0, 4, [3, 2])
    np.testing.assert_allclose(
        dist.log_prob(x).numpy(), head.step_log_prob(params, x).numpy(), atol=1e-6
    )
    samples = dist.sample(20000, seed=(3, 4)).numpy()
    assert samples.shape == (20000, 3, 2) and samples.dtype == np.int32
    np.testing.assert_array_equal(samples, dist.sample(20000, seed=(3, 4)).numpy())
    for b in range(3):
        assert empirical_total_variation(head, params[b], samples[:, b]) < 0.02


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(num_channels=0), "num_channels=0"),
        (dict(num_channels=3, num_levels=1), "num_levels=1"),
        (dict(num_channels=3, num_mixtures=0), "num_mixtures=0"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DiscretizedLogisticMixture(**kwargs)


# ------------------------------------------- exact normalization in float32


def floor_scale_params(rng, head, rows, offset):
    """Log-scales at the floor (-7) and means on a bin edge (`offset` 0) or
    `offset` bin widths from one: the extremes a trained network reaches."""
    k, c, n = head.num_mixtures, head.num_channels, head.num_coefficients
    L = head.num_levels
    edges = (2.0 * rng.integers(1, L, [rows, k * c]) - L) / (L - 1)
    means = edges + offset * 2.0 / (L - 1)
    logits = rng.normal(0.0, 1.0, [rows, k])
    log_scales = np.full([rows, k * c], -7.0)
    coefficients = rng.normal(0.0, 1.0, [rows, k * n])
    return np.concatenate([logits, means, log_scales, coefficients], axis=1).astype(np.float32)


EXTREMES = {
    "random": lambda rng, head: random_params(rng, head, 8, extreme=False),
    "random_extreme": lambda rng, head: random_params(rng, head, 8, extreme=True),
    "floor_on_edge": lambda rng, head: floor_scale_params(rng, head, 8, 0.0),
    "floor_near_edge": lambda rng, head: floor_scale_params(rng, head, 8, 1e-4),
}


def test_issue_example_sums_to_one_at_the_floor():
    # [logit 0, mu 0, log s -7] at L = 16: mu is the edge between levels 7 and 8.
    head = DiscretizedLogisticMixture(1, num_levels=16, num_mixtures=1)
    params = tf.constant([[0.0, 0.0, -7.0]])
    levels = np.arange(16)[:, None, None]
    probs = np.exp(head.conditional_log_probs(np.broadcast_to(params, [16, 1, 3]), levels).numpy())
    np.testing.assert_allclose(probs[7:9, 0, 0], [0.5, 0.5], atol=1e-7)
    assert abs(probs.astype(np.float64).sum() - 1.0) < 1e-6


@pytest.mark.parametrize("num_levels", [16, 256])
@pytest.mark.parametrize("case", sorted(EXTREMES))
def test_sub_pixel_sums_to_one_in_float32(num_levels, case):
    rng = np.random.default_rng(num_levels)
    head = DiscretizedLogisticMixture(1, num_levels, num_mixtures=3)
    params = EXTREMES[case](rng, head)
    levels = np.broadcast_to(np.arange(num_levels)[:, None, None], [num_levels, len(params), 1])
    probs = np.exp(head.conditional_log_probs(params[None], levels).numpy().astype(np.float64))
    np.testing.assert_allclose(probs.sum(axis=0)[:, 0], 1.0, atol=1e-6)


@pytest.mark.parametrize("case", sorted(EXTREMES))
def test_rgb_pixel_and_its_conditionals_sum_to_one_in_float32(case):
    L, C = 16, 3
    rng = np.random.default_rng(3)
    head = DiscretizedLogisticMixture(C, L, num_mixtures=3)
    params = EXTREMES[case](rng, head)  # [8, P]
    pixels = all_pixels(C, L)  # [L^3, C], channel 0 varies slowest
    x = np.broadcast_to(pixels[:, None, :], [len(pixels), len(params), C])
    joint = np.exp(head.step_log_prob(params[None], x).numpy().astype(np.float64))
    np.testing.assert_allclose(joint.sum(axis=0), 1.0, atol=1e-6)
    conditional = np.exp(head.conditional_log_probs(params[None], x).numpy().astype(np.float64))
    for c in range(C):
        sums = conditional[..., c].reshape([L] * C + [len(params)]).sum(axis=c)
        np.testing.assert_allclose(sums, 1.0, atol=1e-6, err_msg=f"channel {c}")


@pytest.mark.parametrize("case", ["floor_on_edge", "floor_near_edge"])
def test_floor_scales_match_float64_reference(case):
    L, C = 16, 3
    rng = np.random.default_rng(8)
    head = DiscretizedLogisticMixture(C, L, num_mixtures=3)
    params = EXTREMES[case](rng, head)
    x = points_near_a_mode(rng, head, params)
    conditional = head.conditional_log_probs(params, x).numpy()
    prefix = np.array([reference_prefix_probs(p, v, C, L, 3) for p, v in zip(params, x)])
    representable = np.all(prefix > 1e-250, axis=1)
    assert representable.sum() >= 4
    expected = np.diff(np.log(prefix[representable]), axis=1, prepend=0.0)
    np.testing.assert_allclose(conditional[representable], expected, rtol=1e-5, atol=1e-5)

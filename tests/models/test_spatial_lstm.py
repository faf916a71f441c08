"""The spatial LSTM (RIDE) and the MCGSM: what is specific to them (the
contract suite, tests/models/test_contract.py, runs causality, the
integral of the density, naive == cached, completion and the round trips
on both families).

The layers against their equations written out cell by cell; the
receptive fields (the LSTM reads the whole region above and to the left,
the MCGSM its neighbourhood only); the same weights at another size; and
the bad inputs."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.layers.causal_neighbourhood import causal_neighbourhoods, neighbourhood_offsets, neighbourhood_size
from arzoo.layers.mcgsm import MAX_LOG_STD, MCGSM
from arzoo.layers.spatial_lstm import SpatialLSTM
from arzoo.likelihoods.coupled_gaussian_mixture import CoupledMixtureOfGaussians
from tests import test_case


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def test_spatial_lstm_wavefront_equals_the_equations_cell_by_cell():
    layer = SpatialLSTM(3)
    inputs = np.random.default_rng(0).normal(size=(2, 4, 5, 2)).astype(np.float32)
    got = layer(inputs).numpy()
    w, b = (v.numpy() for v in layer.input_to_gates.weights)
    v = layer.state_to_gates.weights[0].numpy()
    units = 3
    hidden = np.zeros((2, 4, 5, units))
    cell = np.zeros((2, 4, 5, units))
    for i, j in itertools.product(range(4), range(5)):
        h_left = hidden[:, i, j - 1] if j else np.zeros((2, units))
        c_left = cell[:, i, j - 1] if j else np.zeros((2, units))
        h_up = hidden[:, i - 1, j] if i else np.zeros((2, units))
        c_up = cell[:, i - 1, j] if i else np.zeros((2, units))
        gates = inputs[:, i, j] @ w + b + np.concatenate([h_left, h_up], axis=1) @ v
        g, o, gi, f_left, f_up = np.split(gates, 5, axis=1)
        cell[:, i, j] = np.tanh(g) * sigmoid(gi) + c_left * sigmoid(f_left) + c_up * sigmoid(f_up)
        hidden[:, i, j] = np.tanh(cell[:, i, j] * sigmoid(o))
    np.testing.assert_allclose(got, hidden, rtol=1e-5, atol=1e-5)


def test_mcgsm_is_the_mixture_of_conditional_gaussian_scale_mixtures():
    """log p(x | y) from the layer's parameters through the head equals the
    MCGSM's density written out (Theis et al. 2012, eq. 5-6)."""
    c, s, n = 3, 2, 4
    layer = MCGSM(c, s, n)
    rng = np.random.default_rng(1)
    layer.build()
    for weight in layer.weights:
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype(np.float32))
    features = rng.normal(size=(6, n)).astype(np.float32)
    means = rng.normal(size=(6, c)).astype(np.float32)
    x = rng.normal(size=(6, 1)).astype(np.float32)
    head = CoupledMixtureOfGaussians(1, c * s)
    got = head.log_prob(layer(features, means), x).numpy()[:, 0]

    eta, alpha, beta, log_lambda = (w.numpy().astype(np.float64) for w in
                                    (layer.priors, layer.log_scales, layer.feature_weights, layer.log_precisions))
    energy = (features.astype(np.float64) ** 2) @ (beta ** 2).T  # [6, c]
    gate = eta[None] - 0.5 * np.exp(alpha)[None] * energy[:, :, None]  # [6, c, s]
    gate -= np.log(np.exp(gate).sum(axis=(1, 2), keepdims=True))
    # log lambda + alpha >= -2: the broadest expert is at most e wide (MAX_LOG_STD).
    precision = np.exp(np.maximum(log_lambda[:, None] + alpha, -2.0 * MAX_LOG_STD))[None]  # [1, c, s]
    std = head.mixture.min_scale + precision ** -0.5
    gauss = -0.5 * np.log(2 * np.pi * std ** 2) - 0.5 * ((x[:, :, None] - means[:, :, None]) / std) ** 2
    expected = np.log(np.exp(gate + gauss).sum(axis=(1, 2)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_coupled_head_shifts_later_channels_by_the_earlier_ones():
    head = CoupledMixtureOfGaussians(3, 2)
    params = np.random.default_rng(2).normal(size=(4, head.params_per_step)).astype(np.float32)
    x = np.random.default_rng(3).normal(size=(4, 3)).astype(np.float32)
    got = head.log_prob(params, x).numpy()
    gamma = params[:, 18:]  # gamma_10, gamma_20, gamma_21
    shifts = [np.zeros(4), gamma[:, 0] * x[:, 0], gamma[:, 1] * x[:, 0] + gamma[:, 2] * x[:, 1]]
    for channel, shift in enumerate(shifts):
        block = params[:, 6 * channel : 6 * channel + 6].copy()
        block[:, 2:4] += shift[:, None]
        expected = head.mixture.log_prob(block, x[:, channel]).numpy()
        np.testing.assert_allclose(got[:, channel], expected, rtol=1e-5, atol=1e-5)
    # A draw's channels follow the same shifts: with a tiny temperature each
    # value sits at its component's mean plus the shift from the channels drawn.
    drawn = head.step_sample(params, np.full((4, 6), 0.5, np.float32), np.full(4, 1e-8, np.float32)).numpy()
    assert np.isfinite(drawn).all() and drawn.shape == (4, 3)


def test_causal_neighbourhood_lists_the_pixels_above_and_to_the_left():
    assert neighbourhood_offsets(1) == [(-1, -1), (-1, 0), (-1, 1), (0, -1)]
    assert neighbourhood_size(2) == 12
    image = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4, 1)
    got = causal_neighbourhoods(tf.constant(image), 1).numpy()[0]
    # Pixel (1, 1): above-left 1, above 2, above-right 3, left 5.
    np.testing.assert_array_equal(got[1, 1], [1, 2, 3, 5])
    np.testing.assert_array_equal(got[0, 0], [0, 0, 0, 0])  # outside the image reads as zero


def reads(model, row, col):
    """Which pixels the parameters of pixel (row, col) read (bool [H, W])."""
    x = tf.constant(np.random.default_rng(4).normal(size=(4,) + model.image_shape).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        params = model(x)[:, row, col]
        scalar = tf.reduce_sum(params * tf.random.stateless_normal(params.shape[-1:], seed=[1, 2]))
    return np.abs(tape.gradient(scalar, x).numpy()).max(axis=(0, 3)) > 0


def test_the_spatial_lstm_reads_the_whole_region_above_and_to_the_left():
    model = test_case.build_tiny("spatial_lstm", image_shape=[5, 6, 1])
    field = reads(model, 4, 3)
    assert field[:4, :4].all() and field[4, :3].all()  # every pixel above-left, however far
    assert not field[4, 3:].any()  # the pixel itself and what follows it


def test_the_mcgsm_reads_its_neighbourhood_only():
    model = test_case.build_tiny("mcgsm", image_shape=[5, 6, 1], radius=1)
    field = reads(model, 3, 3)
    expected = np.zeros((5, 6), bool)
    for dy, dx in neighbourhood_offsets(1):
        expected[3 + dy, 3 + dx] = True
    np.testing.assert_array_equal(field, expected)


def test_a_resized_model_has_the_same_weights_and_draws_larger_images():
    model = test_case.build_tiny("spatial_lstm")
    larger = model.resized([6, 8, 1])
    assert larger.image_shape == (6, 8, 1) and larger.count_params() == model.count_params()
    images = larger.sample(2, seed=3).numpy()
    assert images.shape == (2, 6, 8, 1) and np.isfinite(images).all()
    # Row 0 reads only row 0 to its left: both sizes score it alike.
    small = np.random.default_rng(5).uniform(size=(2, 3, 4, 1)).astype(np.float32)
    big = np.zeros((2, 6, 8, 1), np.float32)
    big[:, :3, :4] = small
    np.testing.assert_allclose(larger.conditional_log_probs(big).numpy()[:, 0, :4],
                               model.conditional_log_probs(small).numpy()[:, 0], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="keeps its channels"):
        model.resized([6, 8, 3])


def test_temperature_narrows_the_draws():
    model = test_case.build_tiny("mcgsm", image_shape=[4, 4, 1])
    hot = model.sample(64, seed=1, temperature=1.0).numpy()
    cold = model.sample(64, seed=1, temperature=0.01).numpy()
    assert cold.std() < hot.std()


@pytest.mark.parametrize("x, match", [
    (np.zeros((2, 3, 4, 1), np.int32), "dtype int32, but SpatialLSTMModel models real-valued images"),
    (np.zeros((2, 3, 5, 1), np.float32), r"shape \[batch, height, width, channels\] = \[batch, \*\[3, 4, 1\]\]"),
    (np.full((2, 3, 4, 1), np.nan, np.float32), "contains 24 non-finite value"),
    (np.array([[[[np.inf]] * 4] * 3], np.float32), "non-finite"),
])
def test_bad_images_are_named(x, match):
    model = test_case.build_tiny("spatial_lstm")
    with pytest.raises(ValueError, match=match):
        model.log_prob(x)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Unknown key model.units for family 'mcgsm'"):
        arzoo.build_model({"family": "mcgsm", "image_shape": [3, 4, 1], "units": 4})
    with pytest.raises(ValueError, match="mcgsm has no LSTM, so no num_layers"):
        arzoo.models.MCGSMModel(image_shape=[3, 4, 1], num_layers=2)
    with pytest.raises(ValueError, match="image_shape must be"):
        arzoo.build_model({"family": "spatial_lstm", "image_shape": [3, 4]})
    with pytest.raises(ValueError, match="num_scales"):
        arzoo.build_model({"family": "spatial_lstm", "image_shape": [3, 4, 1], "num_scales": 0})
    model = test_case.build_tiny("spatial_lstm")
    with pytest.raises(ValueError, match="unconditional but a condition was given"):
        model.log_prob(np.zeros((1, 3, 4, 1), np.float32), condition=np.zeros(1, np.int32))


def test_a_discrete_image_model_names_float_images():
    """The reverse mistake: real values given to a model of levels."""
    model = test_case.build_tiny("gated_pixelcnn")
    x = np.random.default_rng(0).uniform(size=(1,) + model.image_shape).astype(np.float32)
    with pytest.raises(ValueError, match="non-integer values"):
        model.log_prob(x)


# ----- mean-removed images (the BSDS300 protocol) ----------------------------------


@pytest.mark.parametrize("family, image_shape", [("spatial_lstm", [3, 4, 1]), ("mcgsm", [2, 3, 3])])
def test_a_zero_mean_model_is_the_density_of_all_pixels_but_the_last(family, image_shape):
    """log p(x) of a zero-mean model is the sum of the first H W - 1 pixels'
    conditionals of the same network (the raster prefix's exact density),
    and the last pixel (minus the sum of the others) is not read."""
    plain = test_case.build_tiny(family, image_shape=image_shape)
    model = test_case.build_tiny(family, image_shape=image_shape, zero_mean=True)
    model.set_weights(plain.get_weights())
    x = np.random.default_rng(0).normal(size=(3, *image_shape)).astype(np.float32)
    conditionals = plain.conditional_log_probs(x).numpy().reshape(3, -1, image_shape[2])
    np.testing.assert_allclose(model.log_prob(x).numpy(), conditionals[:, :-1].sum(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(model.conditional_log_probs(x).numpy().reshape(3, -1, image_shape[2])[:, -1], 0.0)
    moved = x.copy()
    moved[:, -1, -1] += 5.0
    np.testing.assert_allclose(model.log_prob(moved).numpy(), model.log_prob(x).numpy(), rtol=1e-6)
    # The steps' log-probs add up to the same, the last step's counting nothing.
    state = model.initial_state(3)
    steps, total = model.to_steps(x), np.zeros(3)
    for t in range(model.num_steps):
        params, state = model.step(steps[:, t - 1] if t else tf.zeros_like(steps[:, 0]), state)
        total += model.step_log_prob(params, steps[:, t], tf.fill([3], t)).numpy()
    np.testing.assert_allclose(total, model.log_prob(x).numpy(), rtol=1e-4, atol=1e-4)


def test_the_density_of_a_zero_mean_model_integrates_to_one_over_its_free_pixels():
    """A 1x3 zero-mean image has two free values (the third is minus their
    sum): their density integrates to 1 (2-D trapezoid rule), with noisy
    weights so the second depends on the first."""
    model = test_case.build_tiny("mcgsm", image_shape=[1, 3, 1], zero_mean=True)
    rng = np.random.default_rng(1)
    model.set_weights([w + rng.normal(scale=0.3, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    grid = np.linspace(-12.0, 12.0, 801, dtype=np.float32)
    first, second = (v.ravel() for v in np.meshgrid(grid, grid, indexing="ij"))
    x = np.stack([first, second, -(first + second)], axis=1).reshape(-1, 1, 3, 1)
    density = np.exp(np.concatenate([model.log_prob(x[i : i + 65536]).numpy()
                                     for i in range(0, len(x), 65536)]).astype(np.float64)).reshape(801, 801)
    total = np.trapezoid(np.trapezoid(density, grid, axis=1), grid)
    assert abs(total - 1.0) < 1e-3, total
    conditionals = model.conditional_log_probs(x[:: 801 * 40 + 1]).numpy().reshape(-1, 3)[:, 1]
    assert np.ptp(conditionals) > 1e-3, "the second value's density ignores the first"


@pytest.mark.parametrize("family, image_shape", [("spatial_lstm", [3, 4, 1]), ("mcgsm", [2, 3, 3])])
def test_zero_mean_samples_have_zero_mean_and_naive_equals_cached(family, image_shape):
    model = test_case.build_tiny(family, image_shape=image_shape, zero_mean=True)
    cached = model.sample(4, seed=2).numpy()
    naive = model.sample(4, seed=2, method="naive").numpy()
    np.testing.assert_allclose(cached, naive, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(cached.mean(axis=(1, 2)), 0.0, atol=1e-5)
    # Only the last pixel differs from the model's draws without the constraint.
    plain = test_case.build_tiny(family, image_shape=image_shape)
    plain.set_weights(model.get_weights())
    free = plain.sample(4, seed=2).numpy().reshape(4, -1, image_shape[2])
    np.testing.assert_allclose(cached.reshape(4, -1, image_shape[2])[:, :-1], free[:, :-1], rtol=1e-4, atol=1e-4)
    # A completion keeps the known pixels before the last and still sums to zero.
    known = np.zeros((4, *image_shape), bool)
    known[:, 0] = True
    completed = model.complete(cached + 0.5 * known, known, seed=5).numpy()
    np.testing.assert_array_equal(completed[:, 0], (cached + 0.5)[:, 0])
    np.testing.assert_allclose(completed.mean(axis=(1, 2)), 0.0, atol=1e-5)


def test_zero_mean_is_saved_and_checked():
    model = test_case.build_tiny("spatial_lstm", zero_mean=True)
    clone = type(model).from_config(model.get_config())
    assert clone.zero_mean and clone.scored_pixels == 11
    assert model.resized([5, 6, 1]).scored_pixels == 29
    with pytest.raises(ValueError, match="zero_mean must be true or false, got 'yes'"):
        arzoo.build_model({"family": "mcgsm", "image_shape": [3, 4, 1], "zero_mean": "yes"})
    with pytest.raises(ValueError, match="zero_mean needs at least 2 pixels"):
        arzoo.build_model({"family": "mcgsm", "image_shape": [1, 1, 1], "zero_mean": True})

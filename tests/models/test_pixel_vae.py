"""PixelVAE (issue 16, first step): what holds for a latent-variable model
whose likelihood is a bound. The decoder p(x | z) is exact for any fixed z
(normalised, causal); the bounds sit below the log marginal, which a
one-dimensional latent lets us compute by quadrature and check against the
exhaustive sum over a tiny event space; sampling draws z from the prior and
runs the decoder's cached loop, equal to naive; training on real digits
keeps the KL away from zero."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.models.pixel_vae import PixelVAE
from tests import test_case

TINY = dict(
    image_shape=[2, 2, 1], num_levels=2, likelihood="bernoulli", latent_dim=1, encoder_filters=[4],
    decoder_filters=4, decoder_layers=1, decoder_first_kernel_size=3, decoder_kernel_size=3,
    decoder_output_filters=8, iw_samples=8,
)


def tiny(seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    return PixelVAE(**dict(TINY, **overrides))


def log_marginal_by_quadrature(model, x, nodes=80):
    """log p(x) = log E_{z ~ N(0, 1)} p(x | z) for a one-dimensional latent,
    by Gauss-Hermite quadrature (exact to float precision for smooth p(x | z))."""
    t, w = np.polynomial.hermite.hermgauss(nodes)
    z = np.repeat(math.sqrt(2.0) * t, len(x)).astype(np.float32)[:, None]  # node-major
    log_px_given_z = model.decoder_log_prob(np.tile(x, (nodes, 1, 1, 1)), z).numpy().reshape(nodes, len(x))
    log_w = np.log(w / math.sqrt(math.pi))[:, None]
    return np.logaddexp.reduce(log_px_given_z + log_w, axis=0)


def test_decoder_is_exact_and_causal_for_any_fixed_latent():
    model = tiny()
    for z in (np.array([[-1.5]], np.float32), np.array([[2.0]], np.float32)):
        test_case.check_normalization(model.decoder, z)
    test_case.check_causality_by_gradient(model.decoder)
    # z matters: two codes give two distributions.
    x = test_case.all_configurations(model)
    a = model.decoder_log_prob(x, np.full([len(x), 1], -1.5, np.float32)).numpy()
    b = model.decoder_log_prob(x, np.full([len(x), 1], 2.0, np.float32)).numpy()
    assert np.abs(a - b).max() > 1e-3


def test_bounds_rise_with_k_towards_the_log_marginal():
    model = tiny(seed=1)
    # An encoder that misses: q(z | x) = N(0.5, 0.8^2) for every x, so the
    # ELBO is loose by about KL(q || p) = 0.17 nats and importance weighting
    # has something to recover (p(z) / q(z) has finite variance under q).
    dense = model.encoder.dense
    dense.kernel.assign(np.zeros(dense.kernel.shape, np.float32))
    dense.bias.assign(np.array([0.5, 2 * math.log(0.8)], np.float32))
    x = test_case.all_configurations(model)  # all 16 binary 2x2 images
    exact = log_marginal_by_quadrature(model, x)
    # The quadrature marginal is a distribution over the 16 images.
    np.testing.assert_allclose(np.exp(exact).sum(), 1.0, atol=1e-4)
    elbo = model.elbo(x).numpy()
    bounds = {k: model.importance_weighted_bound(x, k).numpy() for k in (1, 10, 1000)}
    # Chunked passes give the same bound.
    np.testing.assert_allclose(model.importance_weighted_bound(x, 10, images_per_pass=48).numpy(), bounds[10], atol=1e-5)
    # The bounds hold in expectation (Jensen), so a finite draw may land a
    # little above log p(x) (here within 0.02 nats at k = 1000); their gap
    # to it shrinks with k.
    gap = {k: float((exact - bound).mean()) for k, bound in bounds.items()}
    kl = 0.5 * (0.5 ** 2 + 0.8 ** 2 - 1 - math.log(0.8 ** 2))
    assert float((exact - elbo).mean()) == pytest.approx(kl, abs=0.02)
    assert gap[1] > gap[10] > 0.05 > 0.03 > abs(gap[1000]), gap
    assert np.abs(bounds[1000] - exact).max() < 0.03, np.abs(bounds[1000] - exact).max()
    # log_prob is the bound with iw_samples, the same in any batch.
    np.testing.assert_allclose(model.log_prob(x).numpy(), model.importance_weighted_bound(x, 8).numpy(), atol=1e-6)
    np.testing.assert_allclose(model.log_prob(x[3:5]).numpy(), model.log_prob(x).numpy()[3:5], atol=1e-5)
    assert not PixelVAE.likelihood_is_exact


def test_training_objective_is_the_elbo_at_evaluation():
    model = tiny(seed=2, kl_warmup_steps=10, free_bits=0.5)
    x = test_case.all_configurations(model)
    np.testing.assert_allclose(
        model.teacher_forced_log_probs(x).numpy().sum(axis=(1, 2, 3)), model.elbo(x).numpy(), atol=1e-5
    )
    # Training: z drawn afresh, the KL weighted by the warm-up and floored per
    # dimension by free bits. With the noise generator rewound, two steps draw
    # the same z, so their objectives differ by the weighted, floored KL.
    floored = np.maximum(model.per_dimension_kl(model.posterior(x)).numpy(), 0.5).sum(axis=1)
    noise_state = model._training_noise.state.numpy()

    def objective(step):
        model._training_noise.state.assign(noise_state)
        return model.training_log_probs(x, None, tf.constant(step, tf.int64)).numpy().sum(axis=(1, 2, 3))

    at_0, at_5, at_50 = objective(0), objective(5), objective(50)
    np.testing.assert_allclose(at_0 - at_50, floored, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(at_0 - at_5, 0.5 * floored, rtol=1e-4, atol=1e-4)
    # ... and a fresh draw of z at the next call.
    assert not np.allclose(model.training_log_probs(x, None, tf.constant(50, tf.int64)).numpy().sum(axis=(1, 2, 3)), at_50)


def test_sampling_draws_the_latent_from_the_prior_and_the_decoder_cached_equals_naive():
    model = tiny(seed=3, image_shape=[3, 3, 1], num_levels=4, likelihood="categorical", latent_dim=2)
    model.jit_sampling = False
    cached = model.sample(4, seed=5).numpy()
    naive = model.sample(4, seed=5, method="naive").numpy()
    np.testing.assert_array_equal(cached, naive)
    assert cached.shape == (4, 3, 3, 1) and cached.min() >= 0 and cached.max() < 4
    seeds = arzoo.sampling.row_seeds(5, 4)
    np.testing.assert_array_equal(model.sample(seeds=seeds[2:]).numpy(), cached[2:])
    # The sample is the decoder's given the prior draw of each row.
    z = model.prior_latents(seeds)
    np.testing.assert_array_equal(model.decode(z, seeds).numpy(), cached)
    assert not np.allclose(z[0], z[1])
    # complete keeps the known pixels.
    known = np.zeros_like(cached, bool)
    known[:, 0] = True
    done = model.complete(cached, known, seed=9).numpy()
    np.testing.assert_array_equal(done[:, 0], cached[:, 0])


def test_argument_errors_name_the_value():
    with pytest.raises(ValueError, match="unconditional"):
        tiny(num_classes=3)
    with pytest.raises(ValueError, match="free_bits must be a finite number >= 0, got free_bits=-1"):
        tiny(free_bits=-1)
    with pytest.raises(ValueError, match="latent_dim"):
        tiny(latent_dim=0)
    with pytest.raises(ValueError, match="encoder_filters must be a non-empty list"):
        tiny(encoder_filters=[])


def test_config_and_keras_round_trip(tmp_path):
    model = tiny(seed=4, kl_warmup_steps=7, free_bits=0.25)
    x = test_case.all_configurations(model)
    clone = PixelVAE.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.log_prob(x).numpy(), model.log_prob(x).numpy(), atol=1e-5)
    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), model.log_prob(x).numpy(), atol=1e-5)
    assert loaded.get_config()["free_bits"] == 0.25


def test_training_on_binarized_digits_uses_the_latent(tmp_path):
    """300 steps on binarized 8x8 digits with KL warm-up and free bits: the
    ELBO improves on the untrained model's, the KL stays above zero and z
    carries information: each image is reconstructed better from its own
    code than from another image's. (Without free bits this run collapses:
    KL 0.0006 nats, the known failure.)"""
    from arzoo.data import load_dataset

    split = load_dataset("digits", "train", 2, binarize="stochastic", binarize_seed=0, data_dir=str(tmp_path))
    images = np.stack([e["image"] for e in split.as_numpy_iterator()])
    test = images[-200:]
    model = tiny(seed=5, image_shape=[8, 8, 1], latent_dim=4, encoder_filters=[8, 16], decoder_filters=8,
                 decoder_layers=1, decoder_output_filters=16, kl_warmup_steps=100, free_bits=0.5)
    before = float(model.elbo(test).numpy().mean())
    optimizer = keras.optimizers.Adam(0.005)
    rng = np.random.default_rng(0)

    @tf.function
    def train_step(batch, step):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(tf.reduce_sum(model.training_log_probs(batch, None, step), [1, 2, 3]))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    for step in range(300):
        train_step(tf.constant(images[rng.integers(0, len(images) - 200, 32)]), tf.constant(step, tf.int64))
    reconstruction, kl = (t.numpy().mean() for t in model.elbo_terms(test))
    after = reconstruction - kl
    own = model.posterior(test).mean()
    with_own = model.decoder_log_prob(test, own).numpy().mean()
    with_other = model.decoder_log_prob(test, np.roll(own.numpy(), 1, axis=0)).numpy().mean()
    print(f"ELBO {before:.2f} -> {after:.2f} nats; KL {kl:.2f} nats; own code {with_own:.2f}, another's {with_other:.2f}")
    assert after > before + 10.0, (before, after)
    assert kl > 0.5, kl
    assert with_own > with_other + 0.5, (with_own, with_other)

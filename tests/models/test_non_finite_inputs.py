"""Non-finite codes and states, and the public helpers' inputs: each is a
clear error naming the input (INVALID_ARGUMENT when served), never NaN
densities, the same sample for every seed or an answer of NaN params."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.models.char_rnn import encode_text
from arzoo.serving import export_model
from arzoo.serving.signatures import flatten_state
from tests import test_case

NON_FINITE = [np.inf, -np.inf, np.nan]


@pytest.fixture(scope="module")
def autoencoder():
    return test_case.build_tiny("pixelcnn_autoencoder", seed=0)


@pytest.fixture(scope="module")
def pixel_vae():
    return test_case.build_tiny("pixel_vae", seed=0)


def _code(model, bad):
    code = np.zeros([2, model.latent_dim], np.float32)
    code[1, 0] = bad
    return code


@pytest.mark.parametrize("bad", NON_FINITE)
def test_autoencoder_refuses_a_non_finite_code(autoencoder, bad):
    x = test_case.random_images(autoencoder, 2)
    code = _code(autoencoder, bad)
    for call in (lambda: autoencoder.log_prob(x, code), lambda: autoencoder.decode(code, np.zeros([2, 2], np.int32)),
                 lambda: autoencoder.sample(2, condition=code)):
        with pytest.raises(ValueError, match=r"condition contains 1 non-finite value"):
            call()


@pytest.mark.parametrize("bad", NON_FINITE)
def test_pixel_vae_refuses_a_non_finite_code(pixel_vae, bad):
    with pytest.raises(ValueError, match=r"condition contains 1 non-finite value"):
        pixel_vae.decode(_code(pixel_vae, bad), np.zeros([2, 2], np.int32))


def test_pixel_vae_helpers_check_their_inputs(pixel_vae):
    too_high = np.full((1,) + pixel_vae.image_shape, pixel_vae.num_levels, np.int32)
    for helper in (pixel_vae.posterior, pixel_vae.log_prob_terms, pixel_vae.importance_weighted_bound, pixel_vae.elbo):
        with pytest.raises(ValueError, match=r"x has values in \[\d+, \d+\] but levels must lie in"):
            helper(too_high)
    with pytest.raises(ValueError, match=r"x contains NaN or inf"):
        pixel_vae.posterior(np.full((1,) + pixel_vae.image_shape, np.inf, np.float32))
    with pytest.raises(ValueError, match=r"unconditional"):
        pixel_vae.log_prob_terms(test_case.random_images(pixel_vae, 1), condition=np.zeros([1], np.int32))
    x = test_case.random_images(pixel_vae, 2)
    np.testing.assert_allclose(pixel_vae.log_prob_terms(x)["log_prob"].numpy(), pixel_vae.log_prob(x).numpy(),
                               rtol=1e-6)


def test_checked_log_prob_terms_equal_log_prob():
    model = test_case.build_tiny("gated_pixelcnn", seed=0, **test_case.VARIANTS["grey"])
    x = test_case.random_images(model, 3)
    np.testing.assert_allclose(model.log_prob_terms(x)["log_prob"].numpy(), model.log_prob(x).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"x has values in"):
        model.log_prob_terms(x + model.num_levels)


@pytest.mark.parametrize("texts, words", [
    ("ab ba", "a single str 'ab ba'"), (b"ab", "a single bytes"), ([], "nothing"), ([1, 2], "int"),
])
def test_encode_text_refuses_a_bare_string(texts, words):
    with pytest.raises(ValueError, match=words):
        encode_text(texts, "ab ")


def test_exported_step_refuses_a_non_finite_state(tmp_path):
    """The exported `step` answered OK with NaN params for a NaN or infinite cache."""
    model = test_case.build_tiny("gated_pixelcnn", seed=0, **test_case.VARIANTS["grey"])
    path = export_model(model, str(tmp_path), "tiny", max_batch_size=4)
    step = tf.saved_model.load(path).signatures["step"]
    seeds = np.zeros([2, 2], np.int32)
    state = {k: np.asarray(v) for k, v in flatten_state(model.initial_state(2)).items()}
    floating = sorted(k for k, v in state.items() if v.dtype.kind == "f")
    assert floating, "the tiny Gated PixelCNN's state has float caches"
    inputs = dict(inputs_t=tf.zeros([2, 1], tf.int32), seed=tf.constant(seeds), temperature=tf.ones([2]))
    good = step(**inputs, **{k: tf.constant(v) for k, v in state.items()})
    assert np.all(np.isfinite(good["params"].numpy()))
    for name in floating:
        for bad in (np.nan, np.inf):
            broken = dict(state)
            broken[name] = np.array(state[name])
            broken[name].flat[0] = bad
            with pytest.raises(tf.errors.InvalidArgumentError, match=rf"input '{name}' is not finite"):
                step(**inputs, **{k: tf.constant(v) for k, v in broken.items()})

"""What is WaveNet's own (tests/models/test_contract.py runs the shared
contract on it): the measured receptive field, the paper's stack, the
Bernoulli head, conditioning, temperature, sampling without XLA, bad input."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.evaluation import audit_receptive_field
from tests import test_case

# Overrides of zoo_configs/tiny/wavenet.yaml.
VARIANTS = {
    "plain": dict(),
    "speaker": dict(num_speakers=3),
    "local_repeat": dict(local_channels=2),
    "local_transposed": dict(local_channels=2, upsampling="transposed"),
    "both": dict(num_speakers=2, local_channels=3, upsampling="transposed"),
    "mixture": dict(num_levels=16, likelihood="logistic_mixture", num_mixtures=2),
    "scalar_input": dict(num_levels=6, input_encoding="scalar"),
    "kernel3": dict(kernel_size=3, dilations=[1, 3]),
}


def make(variant, seed=0):
    model = test_case.build_tiny("wavenet", seed=seed, **VARIANTS[variant])
    randomize_condition_projections(model, seed)
    return model


def randomize_condition_projections(model, seed=0):
    """The condition projections start at zero (a fresh conditional model
    ignores its conditions); give them weights so the tests exercise them."""
    rng = np.random.default_rng(seed)
    for block in model.blocks:
        for layer in (block.global_projection, block.local_projection):
            if layer is not None:
                layer.kernel.assign(rng.normal(scale=0.5, size=layer.kernel.shape))


def random_audio(model, batch, length=None, seed=0):
    rng = np.random.default_rng(seed)
    length = model.sample_length if length is None else length
    return rng.integers(0, model.num_levels, size=(batch, length)).astype(np.int32)


def random_condition(model, batch, length=None, seed=0):
    rng = np.random.default_rng(seed + 1)
    length = model.sample_length if length is None else length
    speaker = rng.integers(0, model.num_speakers, size=batch).astype(np.int32) if model.num_speakers else None
    features = None
    if model.local_channels:
        frames = -(-length // model.hop_length)
        features = rng.normal(size=(batch, frames, model.local_channels)).astype(np.float32)
    return model.join_condition(speaker, features)


def rows(condition, start, stop=None):
    """Rows [start:stop] of a condition (None, array or dict of arrays)."""
    if condition is None:
        return None
    if isinstance(condition, dict):
        return {k: v[start:stop] for k, v in condition.items()}
    return condition[start:stop]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_causality_and_receptive_field(variant):
    model = make(variant)
    length = 2 * model.receptive_field + 3
    audit = audit_receptive_field(model, length, random_condition(model, 8, length))
    assert audit["violations"] == 0
    # What the gradients find is what the model reports, no more, no less.
    assert audit["receptive_field"] == model.receptive_field
    # Every step inside the field reads every earlier sample it covers.
    maps = audit["maps"]
    for t in range(1, length):
        reads = np.flatnonzero(maps[t, :t])
        assert reads.min() == max(0, t - model.receptive_field) and reads.max() == t - 1, t


def test_receptive_field_of_the_paper_stack():
    model = arzoo.build_model(dict(family="wavenet", num_stacks=2, layers_per_stack=10,
                                   residual_channels=2, gate_channels=2, skip_channels=2,
                                   output_channels=2))
    assert model.dilations == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] * 2
    # Input convolution (2 taps) + 2 x (1 + 2 + ... + 512) + 1.
    assert model.receptive_field == 2 + 2 * 1023


def all_sequences(num_levels, length):
    return np.array(list(itertools.product(range(num_levels), repeat=length)), np.int32)


def repeat_rows(condition, n):
    if condition is None:
        return None
    if isinstance(condition, dict):
        return {k: np.repeat(v, n, axis=0) for k, v in condition.items()}
    return np.repeat(condition, n, axis=0)


def test_bernoulli_head_normalizes():
    model = test_case.build_tiny("wavenet", num_levels=2, likelihood="bernoulli")
    x = all_sequences(2, 8)
    assert abs(np.exp(model.log_prob(x).numpy().astype(np.float64)).sum() - 1.0) < 1e-4


@pytest.mark.parametrize("variant", ["plain", "both"])
def test_sampling_without_xla_draws_the_same(variant):
    """Without XLA the queues are written by another op: the same samples
    (the shared contract suite checks naive == cached and the seeds)."""
    model = make(variant)
    condition = random_condition(model, 4)
    first = model.sample(4, seed=7, condition=condition).numpy()
    model.jit_sampling = False
    model._compiled.clear()
    np.testing.assert_array_equal(model.sample(4, seed=7, condition=condition), first)


def test_a_fresh_model_ignores_its_conditions():
    model = test_case.build_tiny("wavenet", **VARIANTS["both"])
    x = random_audio(model, 2)
    condition = random_condition(model, 2)
    other = {"speaker": 1 - condition["speaker"], "features": condition["features"] + 1.0}
    np.testing.assert_array_equal(model.log_prob(x, condition), model.log_prob(x, other))


def test_conditioning_changes_likelihoods():
    model = make("both", seed=4)
    x = random_audio(model, 2)
    condition = random_condition(model, 2)
    other = dict(condition, speaker=1 - condition["speaker"])
    assert not np.allclose(model.log_prob(x, condition), model.log_prob(x, other))
    shifted = dict(condition, features=condition["features"] + 1.0)
    assert not np.allclose(model.log_prob(x, condition), model.log_prob(x, shifted))


def test_sample_length_follows_the_features():
    model = make("local_repeat")
    features = np.zeros((1, 5, 2), np.float32)
    assert model.sample(1, seed=0, condition=features).shape == (1, 5 * model.hop_length)
    assert model.sample(1, seed=0, condition=features, length=7).shape == (1, 7)


def test_temperature_sharpens():
    model = make("plain", seed=2)
    # Spread the logits of the untrained model apart, then near zero
    # temperature every step takes its most likely level.
    model.output_params.kernel.assign(model.output_params.kernel * 100.0)
    model.output_params.bias.assign(np.random.default_rng(0).normal(size=[model.num_levels]) * 10.0)
    cold = model.sample(2, seed=1, temperature=1e-4).numpy()
    state = model.initial_state(2)
    previous = tf.zeros([2, 1], tf.int32)
    for t in range(cold.shape[1]):
        params_t, state = model.step(previous, state)
        np.testing.assert_array_equal(cold[:, t], np.argmax(params_t, axis=-1))
        previous = cold[:, t : t + 1]




# ----- bad input ---------------------------------------------------------------


@pytest.fixture(scope="module")
def both():
    return make("both")


def test_stereo_is_refused(both):
    x = np.zeros((1, 12, 2), np.int32)
    with pytest.raises(ValueError, match=r"mono audio levels of shape \[batch, time\].*\(1, 12, 2\)"):
        both.log_prob(x, random_condition(both, 1))


def test_empty_audio_is_refused(both):
    with pytest.raises(ValueError, match="empty"):
        both.log_prob(np.zeros((1, 0), np.int32), random_condition(both, 1))


def test_levels_out_of_range(both):
    x = random_audio(both, 1)
    x[0, 3] = 3
    with pytest.raises(ValueError, match=r"values in \[0, 3\] but levels must lie in \[0, 3\)"):
        both.log_prob(x, random_condition(both, 1))


def test_unknown_speaker(both):
    condition = random_condition(both, 1)
    condition["speaker"] = np.array([5], np.int32)
    with pytest.raises(ValueError, match=r"Unknown speaker id 5.*0 \.\.\. 1"):
        both.log_prob(random_audio(both, 1), condition)


def test_missing_and_unknown_condition(both):
    with pytest.raises(ValueError, match="speaker id and local features"):
        both.log_prob(random_audio(both, 1), np.zeros([1], np.int32))
    with pytest.raises(ValueError, match=r"Unknown condition keys \['mel'\]"):
        both.log_prob(random_audio(both, 1), {"mel": np.zeros([1, 3, 3])})
    with pytest.raises(ValueError, match="unconditional"):
        make("plain").log_prob(random_audio(both, 1), np.zeros([1], np.int32))


def test_features_too_short_or_wrong_width(both):
    condition = random_condition(both, 1)
    with pytest.raises(ValueError, match=r"features have 3 frames.*12 samples.*but 20 samples"):
        both.sample(1, seed=0, condition=condition, length=20)
    with pytest.raises(ValueError, match=r"features must have shape \[batch, frames, 3\]"):
        both.log_prob(random_audio(both, 1), dict(condition, features=np.zeros((1, 3, 2), np.float32)))


def test_bad_temperature_and_method(both):
    condition = random_condition(both, 1)
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        both.sample(1, seed=0, condition=condition, temperature=0.0)
    with pytest.raises(ValueError, match="Unknown sampling method 'fast'"):
        both.sample(1, seed=0, condition=condition, method="fast")


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="upsampling='linear'"):
        arzoo.build_model(dict(family="wavenet", upsampling="linear"))
    with pytest.raises(ValueError, match="dilations entries must be an integer >= 1"):
        arzoo.build_model(dict(family="wavenet", dilations=[1, 0]))
    keras.backend.clear_session()

"""A Char-RNN export: every signature, loaded back by `tf.saved_model.load`,
gives the in-process numbers; streaming `step` reproduces `sample`; the
vocabulary travels as an asset and in `metadata`; bad input is refused."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from arzoo.sampling.seeds import as_seed, row_seeds
from arzoo.serving import export_model
from tests.models.test_char_rnn import build

BATCH, LENGTH = 3, 7


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = build(seed=4, vocabulary="ab\n", num_classes=2)
    path = export_model(model, str(tmp_path_factory.mktemp("exports")), "chars", max_length=50)
    return model, path, tf.saved_model.load(path)


def test_signatures_match_the_model(exported):
    model, _, loaded = exported
    x = np.random.default_rng(0).integers(0, model.num_levels, (BATCH, LENGTH)).astype(np.int32)
    condition = np.array([0, 1, 1], np.int32)
    seeds = row_seeds(as_seed(9), BATCH)
    temperature = tf.constant([1.0, 0.5, 2.0])
    served = loaded.signatures["log_prob"](x=x, condition=condition)
    np.testing.assert_allclose(served["log_prob"], model.log_prob(x, condition), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        served["bits_per_character"], model.bits_per_character(x, condition), rtol=1e-5, atol=1e-5
    )
    sampled = loaded.signatures["sample"](
        seed=seeds, temperature=temperature, length=tf.fill([BATCH], LENGTH), condition=condition
    )["samples"]
    expected = model.sample(seeds=seeds, temperature=temperature, condition=condition, length=LENGTH)
    np.testing.assert_array_equal(sampled, expected)
    known = np.zeros_like(x)
    known[:, :3] = 1
    completed = loaded.signatures["complete"](
        x=x, known_mask=known, seed=seeds, temperature=temperature, condition=condition
    )["samples"]
    np.testing.assert_array_equal(
        completed, model.complete(x, known, seeds=seeds, temperature=temperature, condition=condition)
    )
    # Streaming step by step from initial_state draws the same characters.
    state = loaded.signatures["initial_state"](seed=seeds, condition=condition)
    values = tf.zeros([BATCH, 1], tf.int32)
    streamed = []
    for _ in range(LENGTH):
        out = loaded.signatures["step"](
            inputs_t=values, seed=seeds, temperature=temperature, condition=condition, **state
        )
        values = out["values"]
        state = {k: v for k, v in out.items() if k.startswith("state_")}
        streamed.append(values.numpy()[:, 0])
    np.testing.assert_array_equal(np.stack(streamed, 1), expected)


def test_vocabulary_in_metadata_and_as_an_asset(exported):
    model, path, loaded = exported
    meta = loaded.signatures["metadata"](seed=tf.zeros([2, 2], tf.int32))
    assert meta["vocabulary"].numpy().tolist() == [[ord("a"), ord("b"), ord("\n")]] * 2
    assert meta["num_levels"].numpy().tolist() == [4, 4]
    assert meta["num_classes"].numpy().tolist() == [2, 2]
    with open(os.path.join(path, "assets", "vocabulary.json"), encoding="utf-8") as f:
        assert json.load(f) == {"unknown_id": 0, "characters": ["a", "b", "\n"]}


def test_bad_input_is_invalid_argument(exported):
    _, _, loaded = exported
    seeds = tf.zeros([2, 2], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="level >= num_levels=4"):
        loaded.signatures["log_prob"](x=tf.constant([[0, 4]]), condition=tf.constant([0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_length=50"):
        loaded.signatures["sample"](
            seed=seeds, temperature=tf.ones([2]), length=tf.fill([2], 51), condition=tf.zeros([2], tf.int32)
        )
    with pytest.raises(tf.errors.InvalidArgumentError, match="label >= num_classes=2"):
        loaded.signatures["sample"](
            seed=seeds, temperature=tf.ones([2]), length=tf.fill([2], 3), condition=tf.fill([2], 2)
        )

"""Shared checks of the model contract, called by every family's tests.

Each function builds nothing itself: it takes a model (and what it needs)
and asserts the property in numbers.
"""

import itertools
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf

import arzoo
from arzoo.evaluation import dependency_maps
from arzoo.evaluation.causality import random_inputs

REPO = pathlib.Path(__file__).resolve().parents[1]

# Variants every image family runs in: overrides of the tiny config's model
# section. Shapes stay tiny so exhaustive checks are cheap.
VARIANTS = {
    "grey": dict(image_shape=[4, 4, 1], num_levels=3, likelihood="categorical"),
    "rgb": dict(image_shape=[3, 3, 3], num_levels=4, likelihood="categorical"),
    "mixture": dict(image_shape=[3, 3, 3], num_levels=8, likelihood="logistic_mixture", num_mixtures=2),
    "bernoulli": dict(image_shape=[4, 4, 1], num_levels=2, likelihood="bernoulli"),
    "class": dict(image_shape=[4, 4, 1], num_levels=3, num_classes=3),
    "embedding": dict(image_shape=[4, 4, 1], num_levels=3, condition_shape=[5]),
    "spatial": dict(image_shape=[4, 4, 3], num_levels=4, condition_shape=[4, 4, 2]),
}


def supports(family, variant):
    """Whether `family` takes `variant`'s likelihood (the density estimators
    order single sub-pixels, so they take no channel-coupled head)."""
    likelihood = VARIANTS[variant].get("likelihood", "categorical")
    return likelihood in arzoo.models.get_model_class(family).likelihoods


def tiny_config(family):
    return arzoo.load_config(REPO / "zoo_configs" / "tiny" / f"{family}.yaml")


def build_tiny(family, seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    section = dict(tiny_config(family)["model"])
    section.update(overrides)
    return arzoo.build_model(section)


def random_images(model, batch, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, model.num_levels, size=(batch,) + model.image_shape).astype(np.int32)


def random_condition(model, batch, seed=0):
    rng = np.random.default_rng(seed + 1)
    if model.num_classes is not None:
        return rng.integers(0, model.num_classes, size=batch).astype(np.int32)
    if model.condition_shape is not None:
        return rng.normal(size=(batch,) + model.condition_shape).astype(np.float32)
    return None


def check_causality(model):
    """No step reads an input at or after it, channels included."""
    x, condition = random_inputs(model, seed=3)
    maps = dependency_maps(model, x, condition)
    order = model.event_step_index
    for t, dmap in enumerate(maps):
        later = dmap[order >= t]
        assert np.all(later == 0.0), (
            f"step {t} reads {np.count_nonzero(later)} inputs at steps >= {t}"
        )
        if t > 0:
            # Every step reads something earlier (the previous sub-pixel at least).
            assert np.count_nonzero(dmap[order < t]) > 0, f"step {t} reads nothing"
    return maps


def all_configurations(model):
    shape = model.image_shape
    size = int(np.prod(shape))
    grid = np.array(list(itertools.product(range(model.num_levels), repeat=size)), np.int32)
    return grid.reshape((-1,) + shape)


def check_normalization(model, condition_value=None, atol=1e-4):
    """Exact sum of p(x) over the whole (tiny) event space is 1."""
    x = all_configurations(model)
    condition = None
    if condition_value is not None:
        condition = np.repeat(np.asarray(condition_value)[None], len(x), axis=0)
    log_p = model.log_prob(x, condition).numpy().astype(np.float64)
    total = np.exp(log_p).sum()
    assert abs(total - 1.0) < atol, f"sum of p(x) over {len(x)} configurations is {total}"
    return total


def check_step_log_probs(model, batch=3):
    """Sum over steps of log p(x_t | x_<t) from initial_state/step equals log_prob."""
    x = random_images(model, batch)
    condition = random_condition(model, batch)
    steps = model.to_steps(x)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.head.values_per_step], tf.int32)
    total = np.zeros(batch)
    for t in range(model.num_steps):
        params_t, state = model.step(previous, state, condition)
        previous = steps[:, t]
        total += model.head.step_log_prob(params_t, previous).numpy()
    expected = model.log_prob(x, condition).numpy()
    np.testing.assert_allclose(total, expected, rtol=1e-5, atol=1e-4)
    # The teacher-forced conditionals sum to log_prob too.
    conditionals = model.conditional_log_probs(x, condition).numpy()
    assert conditionals.shape == x.shape
    np.testing.assert_allclose(conditionals.sum(axis=(1, 2, 3)), expected, rtol=1e-5, atol=1e-4)


def check_step_params(model, batch=2):
    """The incremental `step` gives the teacher-forced network's parameters
    at every step (within 1e-5), feeding the true previous values."""
    x = random_images(model, batch, seed=11)
    condition = random_condition(model, batch, seed=11)
    full = model(x, condition)
    steps = model.to_steps(x)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.head.values_per_step], tf.int32)
    for t in range(model.num_steps):
        params_t, state = model.step(previous, state, condition)
        expected = model.params_at(full, tf.fill([batch], t))
        np.testing.assert_allclose(params_t, expected, rtol=1e-5, atol=1e-5, err_msg=f"step {t}")
        previous = steps[:, t]


def check_sampling(model):
    """Same seed, same samples; a row does not change with its batch; naive == cached."""
    condition = random_condition(model, 4)
    first = model.sample(4, seed=7, condition=condition).numpy()
    again = model.sample(4, seed=7, condition=condition).numpy()
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.int32 and first.shape == (4,) + model.image_shape
    assert first.min() >= 0 and first.max() < model.num_levels
    other = model.sample(4, seed=8, condition=condition).numpy()
    assert not np.array_equal(first, other), "different seeds gave identical samples"

    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(7), 4)
    sub_condition = None if condition is None else condition[2:]
    alone = model.sample(seeds=seeds[2:], condition=sub_condition).numpy()
    np.testing.assert_array_equal(alone, first[2:])
    single = model.sample(seeds=seeds[3:], condition=None if condition is None else condition[3:])
    np.testing.assert_array_equal(single.numpy(), first[3:])
    naive_single = model.sample(
        seeds=seeds[3:], condition=None if condition is None else condition[3:], method="naive"
    )
    np.testing.assert_array_equal(naive_single.numpy(), first[3:])

    naive = model.sample(4, seed=7, condition=condition, method="naive").numpy()
    np.testing.assert_array_equal(naive, first)


def check_completion(model):
    """Known sub-pixels are kept, the rest sampled; naive == cached."""
    x = random_images(model, 2, seed=5)
    known = np.zeros_like(x)
    known[:, : model.image_shape[0] // 2] = 1
    condition = random_condition(model, 2)
    cached = model.complete(x, known, seed=3, condition=condition).numpy()
    naive = model.complete(x, known, seed=3, condition=condition, method="naive").numpy()
    np.testing.assert_array_equal(cached, naive)
    np.testing.assert_array_equal(cached[known == 1], x[known == 1])


def check_variables_tracked(model):
    """Every variable the forward pass reads is one of model.trainable_variables
    (an untracked layer would be neither trained nor saved)."""
    x = random_images(model, 2)
    condition = random_condition(model, 2)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(model.log_prob(x, condition))
    used = {id(v) for v in tape.watched_variables()}
    # Keras variables wrap a tf.Variable; the tape may see either.
    tracked = {id(v) for v in model.trainable_variables}
    tracked |= {id(v.value) for v in model.trainable_variables}
    assert used and used <= tracked, f"{len(used - tracked)} variables used but not tracked"
    grads = tape.gradient(loss, model.trainable_variables)
    idle = [v.path for v, g in zip(model.trainable_variables, grads) if g is None]
    assert not idle, f"tracked variables that get no gradient: {idle}"


LOAD_SCRIPT = """
import json, sys
import numpy as np
import keras
import arzoo
keras.utils.set_random_seed(987)  # untracked weights would come out different
out = {}
for item in json.loads(sys.argv[1]):
    model = keras.models.load_model(item["path"], safe_mode=True)
    data = np.load(item["inputs"])
    condition = data["condition"] if "condition" in data.files else None
    out[item["path"]] = model.log_prob(data["x"], condition).numpy().tolist()
print("RESULT " + json.dumps(out))
"""


def check_keras_round_trip(models, tmp_path):
    """`.keras` files reload with safe_mode=True in a fresh process, same log_prob."""
    items, expected = [], {}
    for i, model in enumerate(models):
        path = str(tmp_path / f"model{i}.keras")
        model.save(path)
        x = random_images(model, 3)
        condition = random_condition(model, 3)
        arrays = {"x": x} if condition is None else {"x": x, "condition": condition}
        inputs = str(tmp_path / f"inputs{i}.npz")
        np.savez(inputs, **arrays)
        items.append({"path": path, "inputs": inputs})
        expected[path] = model.log_prob(x, condition).numpy()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, json.dumps(items)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")][-1]
    got = json.loads(line[len("RESULT "):])
    for path, values in expected.items():
        np.testing.assert_allclose(got[path], values, rtol=1e-6, atol=1e-5)

"""Shared checks of the model contract, for every family of every kind of
event (tests/models/test_contract.py runs them on every registered family).

Each check builds nothing itself: it takes a model (and what it needs) and
asserts the property in numbers.
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
from arzoo.models.registry import constructor_arguments

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
    if "num_mixtures" in overrides and "num_logistic_mix" in section:
        # PixelCNN++ takes tfp's name for the mixture's components.
        overrides = dict(overrides, num_logistic_mix=overrides["num_mixtures"])
        del overrides["num_mixtures"]
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


def all_configurations(model):
    """Every event of the model's (tiny) event space, as levels."""
    shape = event_shape(model)
    size = int(np.prod(shape))
    grid = np.array(list(itertools.product(range(model.num_levels), repeat=size)), np.int32)
    return grid.reshape((-1,) + shape)


# ----- every kind of event ------------------------------------------------------
#
# The checks below use only the model contract (`call`, `params_at`,
# `to_steps` / `from_steps`, `initial_state` / `step`, `sample`, `complete`,
# `log_prob`), so they hold for images, audio, text, vectors, videos and
# real-valued images alike;
# tests/models/test_contract.py runs them on every registered family of
# every modality, in the variants below.

# Overrides of each tiny config, per kind of event (image: VARIANTS above).
EVENT_VARIANTS = {
    "image": VARIANTS,
    "audio": {
        "plain": dict(),
        "speaker": dict(num_speakers=3),
        "features": dict(local_channels=2),
        "both": dict(num_speakers=2, local_channels=3, upsampling="transposed"),
        "mixture": dict(num_levels=6, likelihood="logistic_mixture", num_mixtures=2),
        "gaussian": dict(num_levels=6, likelihood="gaussian"),
        "scalar_input": dict(num_levels=6, input_encoding="scalar"),
        "kernel3": dict(kernel_size=3, dilations=[1, 3]),
    },
    "text": {
        "plain": dict(),
        "class": dict(num_classes=3),
        "embedding": dict(embedding_size=3),
        "one_layer": dict(num_layers=1),
    },
    "vector": {
        "plain": dict(),
        "random_order": dict(ordering="random", ordering_seed=2),
    },
    # The tiny config: grey 3x4 images, one spatial LSTM layer (the MCGSM
    # alone takes the variants without LSTM arguments).
    "real_image": {
        "grey": dict(),
        "two_layers": dict(num_layers=2),
        "rgb": dict(image_shape=[2, 3, 3]),
    },
    # The tiny config: 2 binary frames of 2x3, categorical.
    "video": {
        "plain": dict(),
        "class": dict(num_classes=3),
        "bernoulli": dict(likelihood="bernoulli"),
        "rgb": dict(frame_shape=[2, 2, 3], num_levels=3),
        "no_intra_frame": dict(intra_frame=False),
        "per_frame": dict(temporal=False, num_classes=2),
    },
}
SEQUENCE_LENGTH = 5  # steps of the audio and text events the checks use
# Families that run a subset of their kind's variants: a Parallel WaveNet
# student's conditioning is WaveNet's (checked in every variant there), so it
# runs unconditioned and with both conditions.
FAMILY_VARIANTS = {"parallel_wavenet": ("plain", "both")}


def event_cases():
    """(family, variant) for every registered family and every variant of its
    kind of event that the family's likelihoods allow (a sequence family
    takes the variants whose keys are all its constructor arguments: a
    Parallel WaveNet student has no `likelihood` or `input_encoding`)."""
    cases = []
    for family in arzoo.list_models():
        cls = arzoo.models.get_model_class(family)
        for variant, overrides in EVENT_VARIANTS[cls.modality].items():
            if variant not in FAMILY_VARIANTS.get(family, (variant,)):
                continue
            if cls.modality in ("audio", "text", "real_image") and not set(overrides) <= constructor_arguments(cls):
                continue
            if cls.modality in ("audio", "text") and "likelihood" not in constructor_arguments(cls):
                cases.append((family, variant))
                continue
            # Variants without a likelihood take the categorical head (vectors: their only one).
            if cls.modality in ("vector", "real_image") or overrides.get("likelihood", "categorical") in cls.likelihoods:
                # The models with a code take no class or embedding: their decoder's condition is the code.
                conditioned = "num_classes" in overrides or "condition_shape" in overrides
                if not (conditioned and not getattr(cls, "external_conditions", True)):
                    cases.append((family, variant))
    return cases


def exact_density(model):
    """What the checks of an exact likelihood read: the model, or for a
    model whose `log_prob` is a bound (PixelVAE) its decoder p(x | code),
    exact for any fixed code (the checks give it random codes)."""
    return model if model.likelihood_is_exact else model.decoder


# The one variant per family whose cached loop keeps the default XLA
# compilation in the checks; the others run the same loop as a TF graph (an
# instance's `jit_sampling = False`). Compiling costs seconds per model and
# batch size, most of the contract suite's time when every variant paid it.
# Images: the family's default head on RGB sub-pixels, so "mixture" for the
# families whose tiny config has the channel-coupled head (PixelCNN++,
# PixelSNAIL: the loop their users compile) and "rgb" for the others; each
# compares an XLA-compiled cached loop with the graph-run naive one.
OTHER_JIT_VARIANTS = {"audio": "both", "text": "class", "vector": "plain", "video": "class", "real_image": "grey"}


def jit_variant(family):
    """The variant of `family` whose checks run the XLA-compiled loop."""
    modality = arzoo.models.get_model_class(family).modality
    if modality != "image":
        return OTHER_JIT_VARIANTS[modality]
    return "mixture" if tiny_config(family)["model"].get("likelihood") == "logistic_mixture" else "rgb"


def build_case(family, variant, seed=0):
    """The tiny model of `family` in `variant`; every trainable weight of a
    non-image model gets noise, so zero-initialised parts (a WaveNet's
    condition projections) are exercised."""
    modality = arzoo.models.get_model_class(family).modality
    model = build_tiny(family, seed=seed, **EVENT_VARIANTS[modality][variant])
    if variant != jit_variant(family):
        model.jit_sampling = False
    if modality != "image":
        rng = np.random.default_rng(seed)
        for variable in model.trainable_variables:
            variable.assign(variable + rng.normal(scale=0.3, size=variable.shape).astype(np.float32))
    return model


def is_sequence(model):
    return model.modality in ("audio", "text")


def event_shape(model):
    return (SEQUENCE_LENGTH,) if is_sequence(model) else tuple(model.event_shape)


def discrete(model):
    return model.values_dtype.is_integer


def random_events(model, batch, seed=0):
    rng = np.random.default_rng(seed)
    shape = (batch,) + event_shape(model)
    if discrete(model):
        return rng.integers(0, model.num_levels, size=shape).astype(np.int32)
    return rng.normal(size=shape).astype(np.float32)


def soft_events(model, batch, seed=0):
    """Events as floats for gradients: levels between the integers (where a
    one-hot hat encoding has a gradient), real values as they are."""
    rng = np.random.default_rng(seed)
    shape = (batch,) + event_shape(model)
    if discrete(model):
        return rng.uniform(0, model.num_levels - 1, size=shape).astype(np.float32)
    return rng.normal(size=shape).astype(np.float32)


def random_event_condition(model, batch, seed=0):
    """A random condition of the model's kind for `batch` rows (None if unconditional)."""
    rng = np.random.default_rng(seed + 1)
    if model.modality == "image":
        return random_condition(model, batch, seed)
    if model.modality == "audio":
        speaker = rng.integers(0, model.num_speakers, batch).astype(np.int32) if model.num_speakers else None
        features = None
        if model.local_channels:
            frames = -(-SEQUENCE_LENGTH // model.hop_length)
            features = rng.normal(size=(batch, frames, model.local_channels)).astype(np.float32)
        return model.join_condition(speaker, features)
    if getattr(model, "num_classes", None):
        return rng.integers(0, model.num_classes, batch).astype(np.int32)
    return None


def condition_rows(condition, index):
    """Rows `index` (a slice or index array) of a condition: None, an array or a dict."""
    if condition is None:
        return None
    if isinstance(condition, dict):
        return {k: np.asarray(v)[index] for k, v in condition.items()}
    return np.asarray(condition)[index]


def sample_length(model):
    return {"length": SEQUENCE_LENGTH} if is_sequence(model) else {}


def step_order(model):
    """The sampling step of every entry of one event, `event_shape(model)`.

    A step may write a group of entries: `to_steps` gives each step
    `values_per_step` slots, and a step that draws fewer entries (a
    multiscale model's base steps, its smaller groups) leaves the rest as
    padding, read as 0 here and so told apart from entry i (numbered i + 1)."""
    size = int(np.prod(event_shape(model)))
    index = np.arange(1, size + 1).reshape((1,) + event_shape(model))
    steps = np.asarray(model.to_steps(tf.constant(index, model.values_dtype)))[0]  # [S, V]
    slots = steps.reshape(-1).astype(np.int64)
    step_of_slot = np.repeat(np.arange(steps.shape[0]), steps.shape[1])
    assert np.array_equal(np.sort(slots[slots > 0]), np.arange(1, size + 1)), "to_steps must list every entry once"
    order = np.empty(size, np.int64)
    order[slots[slots > 0] - 1] = step_of_slot[slots > 0]
    return order.reshape(event_shape(model))


def num_event_steps(model):
    return SEQUENCE_LENGTH if is_sequence(model) else model.num_steps


def assert_same_values(model, got, expected, message=""):
    """Equal for integer events; to float32 rounding for real ones."""
    if discrete(model):
        np.testing.assert_array_equal(got, expected, err_msg=message)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=message)


def _step_rows(model, batch):
    """(rows, positions) of a batch holding one copy of `batch` rows per step:
    copy t (rows t * batch ..) is read at step t. Each check below runs one
    such batch through the network instead of a pass per step (rows are
    independent of their batch: `check_sampling`)."""
    num_steps = num_event_steps(model)
    return np.tile(np.arange(batch), num_steps), np.repeat(np.arange(num_steps), batch).astype(np.int32)


def check_causality_by_gradient(model, batch=6, every_step_reads=True):
    """d params_t / d x is exactly zero at every entry drawn at step >= t,
    and (with `every_step_reads`) non-zero somewhere earlier for t > 0."""
    x = soft_events(model, batch, seed=3)
    condition = random_event_condition(model, batch, seed=3)
    order = step_order(model)
    rows, positions = _step_rows(model, batch)
    copies = tf.constant(x[rows])
    with tf.GradientTape() as tape:
        tape.watch(copies)
        params = model.params_at(model(copies, condition_rows(condition, rows)), positions)
        weights = tf.random.stateless_normal(params.shape[-1:], seed=[5, 1])
        scalar = tf.reduce_sum(params * weights)
    grads = tape.gradient(scalar, copies).numpy().reshape((-1, batch) + x.shape[1:])
    for t, grad in enumerate(grads):
        reads = np.abs(grad).max(axis=0)
        assert np.all(reads[order >= t] == 0.0), f"step {t} reads {np.count_nonzero(reads[order >= t])} later inputs"
        if t > 0 and every_step_reads:
            assert np.count_nonzero(reads[order < t]) > 0, f"step {t} reads nothing earlier"


def check_causality_by_perturbation(model, batch=3):
    """Changing what steps >= t hold leaves step t's parameters unchanged;
    changing step t - 1 changes them (for some t)."""
    x = random_events(model, batch, seed=4)
    other = random_events(model, batch, seed=9)
    condition = random_event_condition(model, batch, seed=4)
    steps, other_steps = model.to_steps(x), model.to_steps(other)
    num_steps = num_event_steps(model)
    rows, positions = _step_rows(model, batch)
    expected = model.params_at(tf.gather(model(x, condition), rows), positions).numpy()
    later = tf.concat(
        [model.from_steps(tf.concat([steps[:, :t], other_steps[:, t:]], axis=1)) for t in range(num_steps)], axis=0
    )
    got = model.params_at(model(later, condition_rows(condition, rows)), positions).numpy()
    for t in range(num_steps):
        copy = slice(t * batch, (t + 1) * batch)
        np.testing.assert_allclose(got[copy], expected[copy], rtol=1e-5, atol=1e-5,
                                   err_msg=f"step {t} changed when later steps did")
    earlier = tf.concat([
        model.from_steps(tf.concat([steps[:, : t - 1], other_steps[:, t - 1 : t], steps[:, t:]], axis=1))
        for t in range(1, num_steps)
    ], axis=0)
    changed = model.params_at(model(earlier, condition_rows(condition, rows[batch:])), positions[batch:]).numpy()
    changed_by_earlier = sum(
        not np.allclose(changed[(t - 1) * batch : t * batch], expected[t * batch : (t + 1) * batch])
        for t in range(1, num_steps)
    )
    assert changed_by_earlier > 0, "no step's parameters depend on the step before it"


def check_normalization(model, condition=None, atol=1e-4):
    """The exact sum of p(x) over every event of the tiny space is 1, given
    `condition` (one row, used for every event). Returns the sum."""
    x = all_configurations(model)
    tiled = None if condition is None else condition_rows(condition, np.zeros(len(x), np.int64))
    total = np.exp(model.log_prob(x, tiled).numpy().astype(np.float64)).sum()
    assert abs(total - 1.0) < atol, f"sum of p(x) over {len(x)} events is {total}"
    return total


def check_normalization_under_random_conditions(model, atol=1e-4):
    """`check_normalization` for two random conditions (one if unconditional)."""
    for seed in (0, 1):
        condition = random_event_condition(model, 1, seed=seed)
        check_normalization(model, condition, atol)
        if condition is None:
            break


def check_real_normalization(model, half_width=12.0, points=801, atol=1e-3):
    """The density of a real-valued model of 2 scalars (an image of 1x2x1)
    integrates to 1 over a grid wide enough to hold its mass (the
    trapezoid rule in 2-D), and the second value's density depends on the
    first (else the check would hold for a product of two normalized
    marginals whatever the factorisation). Returns the integral."""
    assert int(np.prod(event_shape(model))) == 2, "integrate a model of two scalars"
    grid = np.linspace(-half_width, half_width, points, dtype=np.float32)
    first, second = np.meshgrid(grid, grid, indexing="ij")
    x = np.stack([first.ravel(), second.ravel()], axis=1).reshape((-1,) + event_shape(model))
    log_probs = np.concatenate([model.log_prob(x[i : i + 65536]).numpy() for i in range(0, len(x), 65536)])
    density = np.exp(log_probs.astype(np.float64)).reshape(points, points)
    total = np.trapezoid(np.trapezoid(density, grid, axis=1), grid)
    assert abs(total - 1.0) < atol, f"the density of two values integrates to {total}"
    conditionals = model.conditional_log_probs(x[:: points * 40 + 1]).numpy().reshape(-1, 2)[:, 1]
    assert np.ptp(conditionals) > 1e-3, "the second value's density ignores the first"
    return total


def check_variables_tracked(model):
    """Every variable the forward pass reads is one of model.trainable_variables
    (an untracked layer would be neither trained nor saved), and each gets a gradient."""
    x = random_events(model, 2)
    condition = random_event_condition(model, 2)
    if model.latent_dim is not None:
        # A model with a code trains on its own code (the encoder included).
        condition = None
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


def check_config_round_trip(model):
    """`from_config(get_config())` with the weights copied gives the same log_prob."""
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = random_events(model, 2)
    condition = random_event_condition(model, 2)
    np.testing.assert_allclose(clone.log_prob(x, condition), model.log_prob(x, condition), rtol=1e-6, atol=1e-6)


def check_step_contract(model, batch=3):
    """Streaming `initial_state` / `step` with the true previous values gives
    the teacher-forced network's parameters at every step, and the step
    log-probabilities sum to `log_prob` (as do `conditional_log_probs`)."""
    x = random_events(model, batch, seed=11)
    condition = random_event_condition(model, batch, seed=11)
    full = model(x, condition)
    steps = model.to_steps(x)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.values_per_step], model.values_dtype)
    total = np.zeros(batch)
    for t in range(num_event_steps(model)):
        params_t, state = model.step(previous, state, condition)
        np.testing.assert_allclose(params_t, model.params_at(full, tf.fill([batch], t)), rtol=1e-5, atol=1e-5,
                                   err_msg=f"step {t}")
        previous = steps[:, t]
        total += model.step_log_prob(params_t, previous, tf.fill([batch], t)).numpy()
    expected = model.log_prob(x, condition).numpy()
    np.testing.assert_allclose(total, expected, rtol=1e-5, atol=1e-4)
    conditionals = model.conditional_log_probs(x, condition).numpy()
    np.testing.assert_allclose(conditionals.reshape(batch, -1).sum(axis=1), expected, rtol=1e-5, atol=1e-4)


def check_sampling(model):
    """One seed, one sample; a row is the same alone as in its batch;
    naive == cached sample for sample; samples lie in the event space."""
    condition = random_event_condition(model, 4)
    length = sample_length(model)
    first = model.sample(4, seed=7, condition=condition, method="cached", **length).numpy()
    assert first.shape == (4,) + event_shape(model)
    if discrete(model):
        assert first.dtype == np.int32 and first.min() >= 0 and first.max() < model.num_levels
    else:
        assert np.all(np.isfinite(first))
    np.testing.assert_array_equal(
        model.sample(4, seed=7, condition=condition, method="cached", **length).numpy(), first
    )
    other = model.sample(4, seed=8, condition=condition, method="cached", **length).numpy()
    assert not np.array_equal(first, other), "different seeds gave identical samples"
    naive = model.sample(4, seed=7, condition=condition, method="naive", **length).numpy()
    assert_same_values(model, naive, first, "naive != cached")
    seeds = arzoo.sampling.row_seeds(7, 4)
    # Rows 2 and 3 first, beside rows of another seed: a row depends on its
    # own seed and condition only, not on its place or its company.
    moved = tf.concat([seeds[2:], arzoo.sampling.row_seeds(9, 2)], 0)
    order = [2, 3, 0, 1]
    for method in ("cached", "naive"):
        beside = model.sample(seeds=moved, condition=condition_rows(condition, order),
                              method=method, **length).numpy()
        assert_same_values(model, beside[:2], first[2:], f"rows changed with their batch ({method})")
    if model.default_sampling_method == "parallel":  # a flow's one pass: its own rows, alone or not
        parallel = model.sample(4, seed=7, condition=condition, **length).numpy()
        assert parallel.shape == first.shape and parallel.min() >= 0 and parallel.max() < model.num_levels
        for rows in (slice(2, None), slice(0, 1)):
            alone = model.sample(seeds=seeds[rows], condition=condition_rows(condition, rows), **length).numpy()
            np.testing.assert_array_equal(alone, parallel[rows], "rows changed with their batch (parallel)")
    # Alone in a batch of two: the same rows (an XLA-compiled loop would
    # compile again for the new batch size, seconds per model, so only the
    # graph-run loops take this check; naive covers the network's part).
    methods = ("naive",) if model.jit_sampling else ("cached", "naive")
    for method in methods:
        alone = model.sample(seeds=seeds[2:], condition=condition_rows(condition, slice(2, None)),
                             method=method, **length).numpy()
        assert_same_values(model, alone, first[2:], f"rows changed with their batch ({method})")


def check_completion(model):
    """Known steps are kept, the others drawn; naive == cached."""
    x = random_events(model, 2, seed=5)
    steps = np.asarray(model.to_steps(x))
    mask_steps = np.zeros(steps.shape, np.int32)
    mask_steps[:, : steps.shape[1] // 2] = 1
    known = np.asarray(model.from_steps(tf.constant(mask_steps)))
    condition = random_event_condition(model, 2, seed=5)
    cached = model.complete(x, known, seed=3, condition=condition).numpy()
    naive = model.complete(x, known, seed=3, condition=condition, method="naive").numpy()
    assert_same_values(model, naive, cached, "naive != cached")
    np.testing.assert_array_equal(cached[known == 1], x[known == 1])
    assert not np.array_equal(cached[known == 0], x[known == 0]) or not discrete(model)


def _saved_condition(condition):
    if condition is None:
        return {}
    if isinstance(condition, dict):
        return {f"condition__{k}": np.asarray(v) for k, v in condition.items()}
    return {"condition": np.asarray(condition)}


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
    parts = {k[len("condition__"):]: data[k] for k in data.files if k.startswith("condition__")}
    condition = parts or (data["condition"] if "condition" in data.files else None)
    out[item["path"]] = model.log_prob(data["x"], condition).numpy().tolist()
print("RESULT " + json.dumps(out))
"""


def check_keras_round_trip(models, tmp_path):
    """`.keras` files reload with safe_mode=True in a fresh process (nothing
    of arzoo imported but `import arzoo`) and give the same log_prob."""
    items, expected = [], {}
    for i, model in enumerate(models):
        path = str(tmp_path / f"model{i}.keras")
        model.save(path)
        x = random_events(model, 3)
        condition = random_event_condition(model, 3)
        inputs = str(tmp_path / f"inputs{i}.npz")
        np.savez(inputs, x=x, **_saved_condition(condition))
        items.append({"path": path, "inputs": inputs})
        expected[path] = model.log_prob(x, condition).numpy()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, json.dumps(items)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads([l for l in proc.stdout.splitlines() if l.startswith("RESULT ")][-1][len("RESULT "):])
    for path, values in expected.items():
        np.testing.assert_allclose(got[path], values, rtol=1e-6, atol=1e-5)


def _request(signature, values):
    """The inputs of a loaded signature, by name, from `values` (a condition dict spread out)."""
    names = signature.structured_input_signature[1]
    return {name: tf.constant(values[name], spec.dtype) for name, spec in names.items()}


def check_export_round_trip(model, tmp_path):
    """The SavedModel's `log_prob` and `sample` signatures give the model's
    numbers (the same rows for the same seeds)."""
    from arzoo.serving import export_model

    path = export_model(model, str(tmp_path), "m", max_batch_size=4,
                        max_length=16 if is_sequence(model) else None)
    loaded = tf.saved_model.load(path)
    x = random_events(model, 3, seed=2)
    condition = random_event_condition(model, 3, seed=2)
    spread = condition if isinstance(condition, dict) else ({} if condition is None else {"condition": condition})
    if model.modality == "audio" and not isinstance(condition, dict) and condition is not None:
        spread = {"speaker" if model.num_speakers else "features": condition}
    seeds = arzoo.sampling.row_seeds(3, 3).numpy()
    values = {"x": x, "seed": seeds, "temperature": np.ones(3, np.float32),
              "length": np.full(3, SEQUENCE_LENGTH, np.int32), **spread}
    got = loaded.signatures["log_prob"](**_request(loaded.signatures["log_prob"], values))
    np.testing.assert_allclose(got["log_prob"], model.log_prob(x, condition), rtol=1e-5, atol=1e-4)
    drawn = loaded.signatures["sample"](**_request(loaded.signatures["sample"], values))["samples"].numpy()
    # A vocoder draws as many samples as its features cover, in both.
    length = {} if getattr(model, "local_channels", None) else sample_length(model)
    expected = model.sample(seeds=seeds, condition=condition, **length).numpy()
    assert_same_values(model, drawn, expected, "the export's samples differ from the model's")


def check_digits_training_beats_the_independent_pixel_baseline(config, run_dir):
    """Training `config` (an image model on the offline digits, 8x8, 17
    levels) reaches test bits/dim below the independent-pixel baseline
    fitted on the training split, which is itself below the untrained
    model's. Returns the trained model's report."""
    from arzoo.evaluation import evaluate_log_likelihood, independent_pixel_baseline
    from arzoo.events.image import load_image_split
    from arzoo.training import train

    result = train(config, str(run_dir), progress=False)
    data, model_config = config["data"], config["model"]
    levels, shape = model_config["num_levels"], model_config["image_shape"]
    test = load_image_split(data, "test", levels)
    trained = evaluate_log_likelihood(result.model, test)
    baseline = independent_pixel_baseline(load_image_split(data, "train", levels), test, shape, levels)
    untrained = evaluate_log_likelihood(arzoo.build_model(config), test)
    assert trained.bits_per_dim < baseline.bits_per_dim < untrained.bits_per_dim, (
        trained.bits_per_dim, baseline.bits_per_dim, untrained.bits_per_dim)
    return trained

"""The density estimators learn: on binarized digits every one beats the
independent-Bernoulli baseline, ensembles beat their first member, and the
orderless DeepNADE's conditionals agree across orderings."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from arzoo.data import load_dataset
from arzoo.evaluation.likelihood import evaluate_log_likelihood, independent_pixel_baseline
from arzoo.training import train
from tests import test_case

DIGITS = dict(dataset="digits", binarize="stochastic", binarize_seed=0, batch_size=64)
MODELS = {
    "fvsbn": dict(),
    "nade": dict(num_hidden=64),
    "made": dict(num_hidden=128, num_masks=4, order_agnostic=True),
    "deep_nade": dict(num_hidden=64, num_layers=2, num_orderings=4),
    "conv_nade": dict(num_filters=16, num_layers=3, kernel_size=5, num_orderings=4),
}
STEPS = 800


@pytest.fixture(scope="module")
def digits_data_dir(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("density_tfds"))
    load_dataset("digits", "train", 2, binarize="stochastic", data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="module")
def baseline(digits_data_dir):
    splits = [
        load_dataset("digits", s, 2, binarize="stochastic", binarize_seed=0, data_dir=digits_data_dir)
        for s in ("train", "test")
    ]
    return independent_pixel_baseline(*splits, image_shape=(8, 8, 1), num_levels=2)


# ConvNADE's run is the longest (50 s of the suite): it runs with `make test-extras`.
@pytest.mark.parametrize(
    "family", [pytest.param(f, marks=pytest.mark.extras) if f == "conv_nade" else f for f in sorted(MODELS)]
)
def test_training_beats_the_independent_bernoulli_baseline(family, digits_data_dir, baseline, tmp_path):
    config = {
        "model": {"family": family, "image_shape": [8, 8, 1], "num_levels": 2, **MODELS[family]},
        "data": dict(DIGITS, data_dir=digits_data_dir),
        "training": {"steps": STEPS, "learning_rate": 0.01, "log_every": 50, "checkpoint_every": STEPS},
    }
    result = train(config, str(tmp_path), progress=False)
    model = result.model
    test = load_dataset("digits", "test", 2, binarize="stochastic", binarize_seed=0, data_dir=digits_data_dir)
    report = evaluate_log_likelihood(model, test)
    print(f"{family}: test NLL {report.nats_per_image:.2f} nats, independent Bernoulli {baseline.nats_per_image:.2f}")
    assert report.nats_per_image < baseline.nats_per_image - 1.0
    if getattr(model, "ensemble_size", 1) > 1:
        x = np.stack([e["image"] for e in test.as_numpy_iterator()])
        single = -model.log_prob(x).numpy().mean()
        ensemble = -model.ensemble_log_prob(x).numpy().mean()
        print(f"{family}: single {single:.2f} nats, ensemble of {model.ensemble_size} {ensemble:.2f}")
        np.testing.assert_allclose(single, report.nats_per_image, rtol=1e-4)
        assert ensemble < single - 0.2


def target_distribution(num_dims=6, seed=0):
    """A strongly dependent distribution over {0,1}^6: a mixture of three noisy prototypes."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 2, size=(3, num_dims))
    x = np.array(list(itertools.product([0, 1], repeat=num_dims)))
    flips = (x[:, None, :] != prototypes[None]).sum(-1)
    p = (0.1 ** flips * 0.9 ** (num_dims - flips)).mean(axis=1)
    return x.reshape(-1, 2, 3, 1).astype(np.int32), p / p.sum()


def train_orderless(seed, x, p, steps=1500):
    model = test_case.build_tiny("deep_nade", seed=seed, image_shape=[2, 3, 1], num_levels=2, num_hidden=32)
    optimizer = keras.optimizers.Adam(0.01)
    rng = np.random.default_rng(seed)
    data = tf.constant(x[rng.choice(len(x), size=(steps, 128), p=p)])

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(tf.reduce_sum(model.teacher_forced_log_probs(batch, training=True), [1, 2, 3]))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    for batch in data:
        step(batch)
    return model


def test_orderless_conditionals_agree_across_orderings_within_training_noise():
    """The chain rule through two orderings gives the same joint: their
    disagreement (expected |log p_A - log p_B| under the target) falls far
    below its value at initialisation and is within the disagreement
    between two training runs of one ordering (the training noise)."""
    x, p = target_distribution()
    orderings = [np.arange(6), np.array([5, 3, 1, 0, 2, 4])]

    def joint(model, ordering):
        params = model.ordered_params(tf.constant(x), None, tf.constant(ordering, tf.int32))
        return model.head.conditional_log_probs(params, x).numpy().sum(axis=(1, 2, 3)).astype(np.float64)

    def disagreement(a, b):
        return float(np.sum(p * np.abs(a - b)))

    untrained = test_case.build_tiny("deep_nade", seed=0, image_shape=[2, 3, 1], num_levels=2, num_hidden=32)
    before = disagreement(joint(untrained, orderings[0]), joint(untrained, orderings[1]))
    first, second = train_orderless(0, x, p), train_orderless(1, x, p)
    across_orderings = disagreement(joint(first, orderings[0]), joint(first, orderings[1]))
    across_runs = disagreement(joint(first, orderings[0]), joint(second, orderings[0]))
    entropy = -np.sum(p * np.log(p))
    fitted = -np.sum(p * joint(first, orderings[0]))
    print(f"disagreement before {before:.3f}, across orderings {across_orderings:.3f}, "
          f"across runs {across_runs:.3f} nats; cross-entropy {fitted:.3f} vs entropy {entropy:.3f}")
    assert fitted < entropy + 0.05  # the model has learned the target
    assert across_orderings < 0.5 * before
    assert across_orderings < 2.0 * across_runs + 0.02
    # Both joints are normalized distributions.
    for ordering in orderings:
        assert abs(np.exp(joint(first, ordering)).sum() - 1.0) < 1e-4

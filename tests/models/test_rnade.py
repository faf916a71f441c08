"""RNADE and its mixture-of-Gaussians likelihood: normalization by
quadrature, a direct per-dimension reference, the O(H) step against the
full pass, sampling (naive == cached, per-row seeds, the right
distribution), causality, the .keras round trip, learning on wine and bad
inputs."""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import special, stats

import arzoo
from arzoo.data.continuous import load_continuous
from arzoo.likelihoods import MixtureOfGaussians
from arzoo.models import RNADE
from arzoo.sampling.seeds import as_seed, row_seeds

REPO = pathlib.Path(__file__).resolve().parents[2]


def build(num_dims, seed=0, noise=0.3, **kwargs):
    """An RNADE with every weight perturbed (zero biases and unit scales
    would hide indexing mistakes)."""
    keras.utils.set_random_seed(seed)
    kwargs = {"num_hidden": 8, "num_components": 3, **kwargs}
    model = RNADE(num_dims, **kwargs)
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(scale=noise, size=w.shape) for w in model.get_weights()])
    return model


def trapezoid_total(density, step):
    """Trapezoid rule over every axis of a grid of density values."""
    for _ in range(density.ndim):
        density = np.trapezoid(density, dx=step, axis=0)
    return float(density)


def grid_density(model, axis, dims):
    """exp(log p) on the full grid axis^dims, float64, shape [len(axis)] * dims."""
    mesh = np.stack(np.meshgrid(*([axis] * dims), indexing="ij"), -1).reshape(-1, dims)
    log_p = np.concatenate(
        [model.log_prob(chunk).numpy() for chunk in np.array_split(mesh.astype(np.float32), 8)]
    )
    return np.exp(log_p.astype(np.float64)).reshape([len(axis)] * dims)


def check_grid(density, step, tail=1e-7):
    """The grid holds all the mass (tiny density on its border) and resolves
    it (halving the resolution changes the integral by < 1e-6)."""
    border = max(np.abs(np.take(density, [0, -1], axis=a)).max() for a in range(density.ndim))
    assert border < tail * density.max(), border / density.max()
    coarse = density[tuple(slice(None, None, 2) for _ in range(density.ndim))]
    assert abs(trapezoid_total(coarse, 2 * step) - trapezoid_total(density, step)) < 1e-6


# ----- the likelihood ---------------------------------------------------------


def test_mixture_log_prob_and_inverse_cdf_draws():
    head = MixtureOfGaussians(2)
    params = np.array([[0.3, -0.4, -1.0, 2.0, 0.2, -0.7]], np.float32)  # logits, means, log-scales
    weights = special.softmax(params[0, :2].astype(np.float64))
    scales = 1e-3 + np.exp(params[0, 4:].astype(np.float64))
    x = np.linspace(-3, 4, 9)
    expected = np.log(sum(w * stats.norm.pdf(x, m, s) for w, m, s in zip(weights, [-1.0, 2.0], scales)))
    got = head.log_prob(np.repeat(params, 9, 0), x.astype(np.float32)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # u0 below the first weight picks component 0, above it component 1;
    # the value is mean + scale sqrt(T) Phi^-1(u1).
    u = np.array([[weights[0] - 0.01, 0.9], [weights[0] + 0.01, 0.2]], np.float32)
    drawn = head.step_sample(np.repeat(params, 2, 0), u, tf.constant([1.0, 0.25])).numpy()[:, 0]
    np.testing.assert_allclose(
        drawn, [-1.0 + scales[0] * stats.norm.ppf(0.9), 2.0 + scales[1] * 0.5 * stats.norm.ppf(0.2)], rtol=1e-5
    )
    # A collapsing log-scale keeps the scale at 1e-3: finite density.
    collapsed = np.array([[0.0, 0.0, 0.0, 0.0, -80.0, -80.0]], np.float32)
    assert np.isfinite(head.log_prob(collapsed, tf.constant([0.0])).numpy()).all()
    with pytest.raises(ValueError, match=r"num_components must be an integer >= 1, got num_components=0"):
        MixtureOfGaussians(0)


# ----- normalization and the reference ------------------------------------------


def test_one_dimension_integrates_to_one():
    model = build(1, seed=1)
    step = 0.002
    axis = np.arange(-30, 30 + step / 2, step)
    density = np.exp(model.log_prob(axis[:, None].astype(np.float32)).numpy().astype(np.float64))
    check_grid(density, step)
    total = trapezoid_total(density, step)
    assert abs(total - 1.0) < 1e-3, total
    # Not a Gaussian in disguise (skewness 0): the mixture is skewed.
    mean = trapezoid_total(density * axis, step)
    variance = trapezoid_total(density * (axis - mean) ** 2, step)
    skew = trapezoid_total(density * (axis - mean) ** 3, step) / variance**1.5
    print(f"D=1: integral {total:.6f}, skewness {skew:.3f}")
    assert abs(skew) > 0.05


@pytest.mark.parametrize("ordering", [[0, 1], [1, 0]])
def test_two_dimensions_integrate_to_one(ordering):
    model = build(2, seed=2, ordering=ordering)
    step = 0.08
    axis = np.arange(-40, 40 + step / 2, step)
    density = grid_density(model, axis, 2)
    check_grid(density, step)
    total = trapezoid_total(density, step)
    assert abs(total - 1.0) < 1e-3, total
    # The dimensions depend on each other (a product density would pass the
    # integral trivially): p is far from the product of its marginals.
    marginal0, marginal1 = density.sum(axis=1) * step, density.sum(axis=0) * step
    total_variation = 0.5 * np.abs(density - np.outer(marginal0, marginal1)).sum() * step**2
    print(f"D=2 ordering {ordering}: integral {total:.6f}, TV to the marginals' product {total_variation:.3f}")
    assert total_variation > 0.02, total_variation
    x0, x1 = np.meshgrid(axis, axis, indexing="ij")
    m0, m1 = trapezoid_total(density * x0, step), trapezoid_total(density * x1, step)
    # Samples follow the same density: their means match the grid's.
    samples = model.sample(2000, seed=4).numpy().astype(np.float64)
    standard_error = samples.std(axis=0) / np.sqrt(len(samples))
    assert np.all(np.abs(samples.mean(axis=0) - [m0, m1]) < 4 * standard_error), (samples.mean(0), m0, m1)


def reference_log_prob(model, x):
    """log p(x) the slow way, float64: for each dimension its own hidden
    vector from the earlier values, then the mixture density."""
    def f64(v):
        return np.asarray(v, np.float64)

    kernel, c = f64(model.hidden_input.kernel)[:, 0, :], f64(model.hidden_input.bias)
    out_kernel, b = f64(model.outputs.kernel), f64(model.outputs.bias)
    rho = f64(model.activation_scale) if model.activation_scaling else np.ones(model.num_dims)
    x = f64(x)
    total = np.zeros(len(x))
    for t, d in enumerate(model.ordering):
        earlier = model.ordering[:t]
        h = special.expit(rho[t] * (c + x[:, earlier] @ kernel[earlier]))
        logits, means, log_scales = np.split(h @ out_kernel[d] + b[d], 3, axis=-1)
        scales = 1e-3 + np.exp(np.minimum(log_scales, 20.0))
        log_weights = logits - special.logsumexp(logits, axis=-1, keepdims=True)
        log_normal = stats.norm.logpdf(x[:, d : d + 1], means, scales)
        total += special.logsumexp(log_weights + log_normal, axis=-1)
    return total


@pytest.mark.parametrize(
    "kwargs",
    [dict(ordering="random", ordering_seed=3), dict(ordering="raster", activation_scaling=False)],
    ids=["random", "raster_unscaled"],
)
def test_log_prob_equals_the_per_dimension_reference(kwargs):
    model = build(6, seed=3, num_hidden=7, **kwargs)
    x = np.random.default_rng(0).normal(size=(10, 6)).astype(np.float32)
    got = model.log_prob(x).numpy()
    np.testing.assert_allclose(got, reference_log_prob(model, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.conditional_log_probs(x).numpy().sum(1), got, rtol=1e-6)
    assert got.std() > 0.5  # the densities of the rows differ


# ----- the incremental contract -----------------------------------------------


def test_step_matches_the_full_pass():
    model = build(5, seed=4, ordering="random", ordering_seed=1)
    x = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
    params = model(x).numpy()
    state = model.initial_state(4)
    assert sorted(state) == ["activation", "position"] and state["activation"].shape == (4, 8)
    previous, total = np.zeros((4, 1), np.float32), np.zeros(4)
    for t, dim in enumerate(model.ordering):
        params_t, state = model.step(previous, state)
        np.testing.assert_allclose(params_t.numpy(), params[:, dim], rtol=1e-5, atol=1e-5)
        total += model.head.log_prob(params_t, x[:, dim]).numpy()
        previous = x[:, dim : dim + 1]
    np.testing.assert_array_equal(state["position"].numpy(), [5] * 4)
    np.testing.assert_allclose(total, model.log_prob(x).numpy(), rtol=1e-5, atol=1e-5)


def test_sampling_naive_equals_cached_and_rows_keep_their_seeds():
    model = build(5, seed=5, ordering="random", ordering_seed=2)
    cached = model.sample(6, seed=7).numpy()
    naive = model.sample(6, seed=7, method="naive").numpy()
    assert cached.shape == (6, 5) and cached.dtype == np.float32
    np.testing.assert_allclose(cached, naive, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(model.sample(6, seed=7).numpy(), cached)
    assert np.abs(model.sample(6, seed=8).numpy() - cached).min() > 0
    # A row depends on its own seed only, not on its batch (to float32
    # rounding: the matmuls of a batch of 2 and of 6 may sum in another order;
    # rows of other seeds differ by far more, as the line above checks).
    seeds = row_seeds(as_seed(7), 6)
    subset = tf.gather(seeds, [4, 1])
    np.testing.assert_allclose(model.sample(seeds=subset).numpy(), cached[[4, 1]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.sample(seeds=subset, method="naive").numpy(), naive[[4, 1]], rtol=1e-5, atol=1e-6)


def test_temperature_scales_the_spread():
    """With one component, x_{o_1} = mu + sigma sqrt(T) z for the same z."""
    model = build(3, seed=6, num_components=1)
    mean = model(np.zeros((1, 3), np.float32)).numpy()[0, model.ordering[0], 1]
    first = model.ordering[0]
    hot = model.sample(5, seed=1).numpy()[:, first]
    cold = model.sample(5, seed=1, temperature=0.25).numpy()[:, first]
    np.testing.assert_allclose(cold - mean, 0.5 * (hot - mean), rtol=1e-4, atol=1e-5)


def test_one_dimensional_samples_follow_the_density():
    model = build(1, seed=1)
    step = 0.002
    axis = np.arange(-30, 30 + step / 2, step)
    density = np.exp(model.log_prob(axis[:, None].astype(np.float32)).numpy().astype(np.float64))
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) * step / 2)])
    samples = np.sort(model.sample(3000, seed=2).numpy()[:, 0])
    empirical = np.arange(1, len(samples) + 1) / len(samples)
    ks = np.abs(np.interp(samples, axis, cdf) - empirical).max()
    print(f"Kolmogorov-Smirnov distance of 3000 samples: {ks:.4f}")
    assert ks < 1.63 / np.sqrt(len(samples))  # the 1 % critical value


def test_completion_keeps_the_known_dimensions():
    model = build(6, seed=7, ordering="random", ordering_seed=5)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6)).astype(np.float32)
    known = rng.random((4, 6)) < 0.5
    known[0], known[1] = True, False
    x_nan = np.where(known, x, np.nan).astype(np.float32)  # unknown entries are not read
    cached = model.complete(x_nan, known, seed=3).numpy()
    naive = model.complete(x_nan, known, seed=3, method="naive").numpy()
    np.testing.assert_array_equal(cached[known], x[known])
    np.testing.assert_allclose(cached, naive, rtol=1e-5, atol=1e-5)
    assert np.isfinite(cached).all() and np.abs(cached[~known] - x[~known]).min() > 0
    # Nothing known is plain sampling with the same seeds.
    np.testing.assert_allclose(
        model.complete(x, np.zeros_like(known), seed=3).numpy(), model.sample(4, seed=3).numpy(), rtol=1e-6
    )


# ----- causality, variables and serialization ---------------------------------


def test_each_dimension_reads_only_the_earlier_ones():
    model = build(5, seed=8, ordering="random", ordering_seed=4)
    x = tf.constant(np.random.default_rng(2).normal(size=(3, 5)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        params = model(x)  # [B, D, 3K]
    jacobian = np.abs(tape.jacobian(params, x).numpy())  # [B, D, 3K, B, D]
    across = jacobian.max(axis=2)  # [B, D, B, D]
    for b in range(3):
        for other in range(3):
            if other != b:
                assert across[b, :, other].max() == 0.0, "rows of a batch leak into each other"
    per_dim = np.stack([across[b, :, b] for b in range(3)]).max(axis=0)  # [out dim, in dim]
    rank = model.step_index
    for out_dim in range(5):
        later = rank >= rank[out_dim]
        assert per_dim[out_dim, later].max() == 0.0, f"dim {out_dim} reads itself or later dims"
        if rank[out_dim] > 0:
            assert per_dim[out_dim, ~later].min() > 0.0, f"dim {out_dim} ignores an earlier dim"


def test_every_variable_is_tracked_and_trained():
    model = build(4, seed=9)
    x = np.random.default_rng(4).normal(size=(8, 4)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(model.log_prob(x))
    grads = tape.gradient(loss, model.trainable_variables)
    expected = [model.activation_scale, model.hidden_input.kernel, model.hidden_input.bias,
                model.outputs.kernel, model.outputs.bias]
    assert sorted(id(v) for v in model.trainable_variables) == sorted(id(v) for v in expected)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    assert len(RNADE(4, activation_scaling=False).trainable_variables) == 4


def test_keras_round_trip(tmp_path):
    models = [
        build(4, seed=10, ordering="random", ordering_seed=6),
        build(4, seed=11, ordering=[2, 0, 3, 1], activation_scaling=False, num_components=2),
    ]
    x = np.random.default_rng(5).normal(size=(5, 4)).astype(np.float32)
    for i, model in enumerate(models):
        path = str(tmp_path / f"rnade{i}.keras")
        model.save(path)
        keras.utils.set_random_seed(987)  # untracked weights would come out different
        loaded = keras.models.load_model(path, safe_mode=True)
        assert isinstance(loaded, RNADE) and loaded.get_config() == model.get_config()
        np.testing.assert_array_equal(loaded.ordering, model.ordering)
        np.testing.assert_allclose(loaded.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-6)
        np.testing.assert_array_equal(loaded.sample(3, seed=1).numpy(), model.sample(3, seed=1).numpy())


def test_tiny_config_builds_a_vector_model():
    model = arzoo.build_model(arzoo.load_config(REPO / "zoo_configs" / "tiny" / "rnade.yaml"))
    assert isinstance(model, RNADE) and (model.num_dims, model.num_hidden, model.num_components) == (3, 8, 3)
    assert "rnade" in arzoo.list_models() and "rnade" not in arzoo.list_models("image")


# ----- learning ---------------------------------------------------------------


def diagonal_gaussian_nll(train, x):
    """Mean -log p(x) in nats under independent Gaussians fitted to `train`."""
    mean, std = train.mean(axis=0).astype(np.float64), train.std(axis=0).astype(np.float64)
    return float(-stats.norm.logpdf(x, mean, std).sum(axis=1).mean())


def test_training_on_wine_beats_a_diagonal_gaussian():
    """Full-batch Adam with a small L2 penalty on the weight matrices (142
    training rows: without it the mixtures collapse onto training points
    and the test NLL climbs after ~100 steps)."""
    train, test = load_continuous("wine", "train"), load_continuous("wine", "test")
    keras.utils.set_random_seed(0)
    model = RNADE(train.shape[1], num_hidden=20, num_components=2)
    optimizer = keras.optimizers.Adam(3e-3)
    kernels = [model.hidden_input.kernel, model.outputs.kernel]
    x_train = tf.constant(train)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            log_probs = model.teacher_forced_log_probs(x_train, training=True)
            nll = -tf.reduce_mean(tf.reduce_sum(log_probs, axis=1))
            loss = nll + 0.1 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels])
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return nll

    initial_test = -float(tf.reduce_mean(model.log_prob(test)))
    for _ in range(400):
        train_nll = float(train_step())
    test_nll = -float(tf.reduce_mean(model.log_prob(test)))
    baseline = diagonal_gaussian_nll(train, test)
    full_cov = float(-stats.multivariate_normal(train.mean(0), np.cov(train.T, bias=True)).logpdf(test).mean())
    print(
        f"wine test NLL (nats / example): RNADE {test_nll:.2f} (untrained {initial_test:.2f}, "
        f"final train {train_nll:.2f}); diagonal Gaussian {baseline:.2f}; full-covariance Gaussian {full_cov:.2f}"
    )
    assert test_nll < baseline - 1.0
    assert test_nll < initial_test - 2.0


# ----- bad inputs -------------------------------------------------------------


def test_bad_inputs_are_named():
    model = build(3, seed=12)
    with pytest.raises(ValueError, match=r"x must have shape \[batch, num_dims\] = \[batch, 3\]; got shape \(2, 4\)"):
        model.log_prob(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        model.log_prob(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"x contains NaN \(1 entries\)"):
        model.log_prob(np.array([[0.0, np.nan, 1.0]], np.float32))
    with pytest.raises(ValueError, match=r"x contains inf"):
        model.log_prob(np.array([[0.0, 1e300, 1.0]]))  # beyond float32
    with pytest.raises(ValueError, match=r"real numbers .* got dtype string"):
        model.log_prob([["a", "b", "c"]])
    with pytest.raises(ValueError, match=r"Unknown sampling method 'fast'; allowed: cached, naive"):
        model.sample(2, method="fast")
    with pytest.raises(ValueError, match=r"num_samples must be an integer >= 1, got num_samples=0"):
        model.sample(0)
    with pytest.raises(ValueError, match=r"temperature must be finite and > 0, got \[0.0, 0.0\]"):
        model.sample(2, temperature=0.0)
    with pytest.raises(ValueError, match=r"known_mask must have the shape of x \(2, 3\), got \(2, 2\)"):
        model.complete(np.zeros((2, 3)), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"num_dims must be an integer >= 1, got num_dims=0"):
        RNADE(0)
    with pytest.raises(ValueError, match=r"ordering must be .* a permutation of 0..2 \(num_dims=3\); got \[0, 0, 1\]"):
        RNADE(3, ordering=[0, 0, 1])
    # Integers are real numbers too.
    as_floats = model.log_prob(np.array([[0.0, 1.0, 2.0]], np.float32)).numpy()
    np.testing.assert_allclose(model.log_prob(np.array([[0, 1, 2]])).numpy(), as_floats)


def test_the_training_loop_reads_continuous_data(tmp_path):
    """`arzoo train` on a vector model: the pipeline feeds {"x"} from
    arzoo.data.continuous, training lowers the loss, model.keras is written."""
    from arzoo.training import train

    config = arzoo.load_config(
        REPO / "zoo_configs" / "continuous" / "rnade_wine.yaml",
        ["training.log_every=20", "training.eval_every=60"],
    )
    result = train(config, tmp_path, progress=False)
    first, last = result.history[0][1], result.history[-1][1]
    assert last < first - 0.2, result.history
    # The shipped (early-stopped) config beats independent Gaussians on the test split.
    from arzoo.evaluation import diagonal_gaussian_baseline

    test_nats = result.test_bits_per_dim * 13 * np.log(2.0)
    baseline = diagonal_gaussian_baseline(load_continuous("wine", "train"), load_continuous("wine", "test"))
    print(f"wine through the training loop: {test_nats:.2f} nats/example, independent Gaussians {baseline:.2f}")
    assert test_nats < baseline - 1.0
    assert (tmp_path / "model.keras").exists()
    with pytest.raises(ValueError, match="'x'.*num_dims=13"):
        train(config, tmp_path / "other", progress=False,
              train_dataset=tf.data.Dataset.from_tensor_slices({"x": np.zeros((4, 5), np.float32)}))


def test_eval_cli_reports_nats_per_example_and_the_gaussian_baseline(tmp_path, capsys):
    from arzoo.cli import main

    config = str(REPO / "zoo_configs" / "continuous" / "rnade_wine.yaml")
    out = tmp_path / "run"
    assert main(["train", config, "--output", str(out), "--no-progress", "--set", "training.steps=5"]) == 0
    capsys.readouterr()
    assert main(["eval", str(out)]) == 0
    text = capsys.readouterr().out
    report = json.loads(text[text.index("{"):])
    assert report["num_examples"] == 36 and report["dataset"] == "wine"
    assert np.isfinite(report["nats_per_example"])
    assert 10 < report["baselines"]["diagonal_gaussian"]["nats_per_example"] < 40
    assert main(["sample", str(out), "--n", "3", "--seed", "2", "--out", str(tmp_path / "s.png")]) == 0
    text = capsys.readouterr().out
    samples = np.load(json.loads(text[text.index("{"):])["samples"])
    assert samples.shape == (3, 13) and np.isfinite(samples).all()

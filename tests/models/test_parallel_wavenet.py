"""What is the Parallel WaveNet student's own. The shared contract suite
(tests/models/test_contract.py) runs on it in the audio variants whose
arguments it takes (plain, speaker, features, both, kernel3): causality of the
density by gradient and perturbation, normalization over every event of the
tiny space, step == the teacher-forced network, conditional_log_probs summing
to log_prob, naive == cached (the sequential samplers of the same density),
rows independent of their batch (the parallel pass included), completion,
config / .keras / export round trips. Here: the flow itself (a triangular
Jacobian whose log-determinant is the sum of the log-scales), that the
parallel pass is the density's own draw but for near ties, that sampling has
no loop over time, bad arguments."""

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.sampling import row_seeds, step_uniforms
from arzoo.sampling.driver import cached_sample, parallel_sample
from tests import test_case


def make(seed=0, weight_noise=0.3, **overrides):
    """The tiny student with noise on every weight (the flows' last layers
    start at zero: a fresh student is the identity flow)."""
    model = test_case.build_tiny("parallel_wavenet", seed=seed, **overrides)
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:
        variable.assign(variable + rng.normal(scale=weight_noise, size=variable.shape).astype(np.float32))
    return model


def test_flow_jacobian_is_triangular_with_the_log_scales_on_its_diagonal():
    model = make(num_levels=65536)
    z = tf.random.stateless_normal([1, 12], seed=[1, 2])
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = model.transform(z)
    jacobian = tape.batch_jacobian(out["x"], z)[0].numpy().astype(np.float64)  # [t, s] = dx_t / dz_s
    # x_t reads noise at or before t only ...
    assert np.all(np.triu(jacobian, k=1) == 0.0)
    # ... and reads the past: the flows are autoregressive, not pointwise.
    assert np.count_nonzero(np.tril(jacobian, k=-1)) > 0
    log_scale = out["log_scale"].numpy()[0].astype(np.float64)
    np.testing.assert_allclose(np.diag(jacobian), np.exp(log_scale), rtol=1e-5)
    sign, log_det = np.linalg.slogdet(jacobian)
    assert sign > 0
    np.testing.assert_allclose(log_det, log_scale.sum(), rtol=1e-5, atol=1e-5)


def test_sequential_inversion_recovers_the_parallel_pass():
    """The density's conditionals (b_t, log a_t), computed by inverting the
    flows on the quantized audio, are the parallel pass's own to within what
    half a 16-bit bin changes, for flows whose scales are far above a bin
    (inverting divides by the scales: below, the half bin is amplified, and
    what the density reads drifts from what the sample read)."""
    model = make(num_levels=65536, num_speakers=2, weight_noise=0.05)
    condition = np.array([0, 1], np.int32)
    z = tf.random.stateless_normal([2, 40], seed=[3, 4]) * 0.1
    out = model.transform(z, condition)
    levels = model.head.quantize(out["x"])
    params = model(levels, condition).numpy()
    np.testing.assert_allclose(params[..., 0], out["shift"], atol=2e-3)
    np.testing.assert_allclose(params[..., 1], out["log_scale"], atol=2e-3)


def test_parallel_samples_are_the_density_draws_but_near_ties():
    """Each parallel draw, redrawn from the density's conditional given the
    sample's own prefix with the same uniform, comes out the same level, or
    a neighbouring one where the continuous value lay within rounding of a
    bin edge (what the flows read differs from the bin centres by < 1/2 bin),
    for flows whose scales are far above a bin (see above) and audio inside
    [-1, 1] (a clipped sample's level reads 1 where the flows read more: the
    temperature keeps these in range; BENCHMARKS.md counts the draws that
    differ for the trained speech student)."""
    model = make(num_levels=65536, num_flows=2, dilations=[1, 2, 4], weight_noise=0.05)
    seeds = row_seeds(5, 3)
    length, temperature = 300, tf.fill([3], 0.2)
    drawn = model.sample(seeds=seeds, length=length, temperature=temperature).numpy()
    assert 0 < drawn.min() and drawn.max() < 65535, "no clipped sample"
    uniforms = step_uniforms(seeds, length, 1)[..., 0]
    params = model(drawn)
    mu, log_scale = model.head.split(params)
    noise = model.noise_from_uniforms(uniforms, temperature)
    continuous = (mu + tf.exp(log_scale) * noise).numpy()
    redrawn = model.head.quantize(continuous).numpy()
    differ = redrawn != drawn
    assert differ.mean() < 0.02, f"{differ.mean():.1%} of the draws differ"
    assert np.all(np.abs(redrawn[differ] - drawn[differ]) <= 1)
    # Where they differ the value lay near the edge between the two levels.
    edge = (np.maximum(redrawn, drawn)[differ] * 2.0 - 65536) / 65535.0
    assert np.all(np.abs(continuous[differ] - edge) < 2.0 / 65535.0)


def test_sampling_has_no_loop_over_time():
    """The parallel sampler's graph (the export's `sample`) holds no loop;
    the cached sampler's has its loop over time."""
    model = make(num_levels=65536)
    spec = (tf.TensorSpec([None, None, 1]), tf.TensorSpec([None]), tf.TensorSpec([None, None], tf.int32))

    def ops(sampler):
        def run(uniforms, temperature, blank):
            return sampler(model, uniforms, temperature, None, blank, tf.zeros_like(blank, tf.bool))

        graph = tf.function(run, autograph=False).get_concrete_function(*spec).graph
        types = {op.type for op in graph.get_operations()}
        for function in graph.as_graph_def().library.function:
            types |= {node.op for node in function.node_def}
        return types

    parallel = ops(parallel_sample)
    assert not parallel & {"While", "StatelessWhile"} and "Conv2D" in parallel
    assert ops(cached_sample) & {"While", "StatelessWhile"}


def test_temperature_scales_the_noise():
    model = make(num_levels=65536)
    cold = model.sample(2, seed=1, length=200, temperature=0.1).numpy()
    hot = model.sample(2, seed=1, length=200, temperature=1.0).numpy()
    assert np.std(np.diff(cold, axis=1)) < np.std(np.diff(hot, axis=1))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="companding='mu_law'"):
        arzoo.build_model(dict(family="parallel_wavenet", num_levels=256, companding="mu_law"))
    with pytest.raises(ValueError, match=r"layers_per_flow must be an int or a list of num_flows=4 ints"):
        arzoo.build_model(dict(family="parallel_wavenet", layers_per_flow=[2, 2]))
    with pytest.raises(ValueError, match="noise='uniform'"):
        arzoo.build_model(dict(family="parallel_wavenet", noise="uniform"))
    with pytest.raises(ValueError, match="min_log_scale must be a negative number"):
        arzoo.build_model(dict(family="parallel_wavenet", min_log_scale=1.0))
    model = make()
    with pytest.raises(ValueError, match="complete draws with method='cached' or 'naive'"):
        model.complete(np.zeros((1, 5), np.int32), np.ones((1, 5), np.int32), method="parallel")
    teacher = test_case.build_tiny("wavenet")
    with pytest.raises(ValueError, match=r"Unknown sampling method 'parallel'; allowed: cached, naive"):
        teacher.sample(1, length=4, method="parallel")

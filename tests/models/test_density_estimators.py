"""FVSBN, NADE, MADE and orderless DeepNADE: what the contract suite does
not show (exhaustive normalization in several orderings, NADE against a
direct reference, MADE's masks through the Jacobian, orderless
consistency and ensembles, learning on binarized digits)."""

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.models.made import made_degrees
from tests import test_case

BINARY_FAMILIES = ("fvsbn", "nade", "made", "deep_nade", "conv_nade")
ORDERINGS = {
    "raster": dict(ordering="raster"),
    "random1": dict(ordering="random", ordering_seed=1),
    "random2": dict(ordering="random", ordering_seed=2),
    "reversed": dict(ordering=list(range(11, -1, -1))),
}
D12 = dict(image_shape=[3, 4, 1], num_levels=2)


def randomize_biases(model, seed=0):
    """Zero-initialised biases would hide indexing mistakes; give them values."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("family", BINARY_FAMILIES)
@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
def test_exhaustive_normalization_d12(family, ordering):
    """Sum of p(x) over all 2^12 binary 3x4 images is 1 within 1e-4."""
    model = randomize_biases(test_case.build_tiny(family, **D12, **ORDERINGS[ordering]))
    total = test_case.check_normalization(model, atol=1e-4)
    # ...and the model is not uniform (which would sum to 1 trivially).
    log_p = model.log_prob(test_case.all_configurations(model)[:64]).numpy()
    assert log_p.std() > 0.1, total


@pytest.mark.parametrize("family", ["made", "deep_nade", "conv_nade"])
def test_every_ensemble_member_and_the_ensemble_normalize(family):
    model = randomize_biases(test_case.build_tiny(family, **D12))
    x = test_case.all_configurations(model)
    for member in range(model.ensemble_size):
        log_p = model.member_log_prob(tf.constant(x), None, member).numpy().astype(np.float64)
        assert abs(np.exp(log_p).sum() - 1.0) < 1e-4, (member, np.exp(log_p).sum())
    ensemble = model.ensemble_log_prob(x).numpy().astype(np.float64)
    assert abs(np.exp(ensemble).sum() - 1.0) < 1e-4
    # Members differ (other masks / orderings), so the ensemble is not member 0.
    assert np.abs(ensemble - model.log_prob(x).numpy()).max() > 1e-3


def nade_reference_log_prob(model, x):
    """log p(x) computed the slow way: for each dimension its own hidden
    vector from the earlier values (numpy, float64)."""
    def f64(v):
        return v.numpy().astype(np.float64)

    kernel, c = f64(model.hidden_input.kernel), f64(model.hidden_input.bias)
    out_kernel, b = f64(model.outputs.kernel), f64(model.outputs.bias)
    flat = x.reshape(len(x), -1).astype(np.float64)
    total = np.zeros(len(x))
    for t, d in enumerate(model.ordering):
        earlier = model.ordering[:t]
        a = c + flat[:, earlier] @ kernel[earlier, 0, :]
        h = 1.0 / (1.0 + np.exp(-a))
        logit = h @ out_kernel[d, :, 0] + b[d, 0]
        p_one = 1.0 / (1.0 + np.exp(-logit))
        total += np.where(flat[:, d] == 1, np.log(p_one), np.log1p(-p_one))
    return total


@pytest.mark.parametrize("ordering", ["raster", "random1"])
def test_nade_log_prob_equals_the_per_dimension_reference(ordering):
    model = randomize_biases(
        test_case.build_tiny("nade", image_shape=[5, 5, 1], num_levels=2, num_hidden=7, **ORDERINGS[ordering])
    )
    x = np.random.default_rng(0).integers(0, 2, size=(6, 5, 5, 1)).astype(np.int32)
    np.testing.assert_allclose(model.log_prob(x).numpy(), nade_reference_log_prob(model, x), rtol=1e-5, atol=1e-4)


def test_nade_incremental_sampling_matches_naive_on_digit_sized_images():
    model = randomize_biases(test_case.build_tiny("nade", image_shape=[8, 8, 1], num_levels=2, num_hidden=20))
    cached = model.sample(5, seed=3).numpy()
    naive = model.sample(5, seed=3, method="naive").numpy()
    np.testing.assert_array_equal(cached, naive)
    assert 0 < cached.mean() < 1
    # The state is O(H): one hidden pre-activation per row, no canvas.
    state = model.initial_state(2)
    assert sorted(state) == ["activation", "position"] and state["activation"].shape == (2, 20)


@pytest.mark.parametrize("variant", ["bernoulli", "grey", "rgb"])
def test_made_jacobian_respects_every_mask(variant):
    """d params(dim i) / d x(dim j) is zero unless j comes before i in the
    mask's ordering, for every mask of the ensemble; and non-zero for some
    earlier inputs (a mask that cut everything would pass the first half)."""
    overrides = dict(test_case.VARIANTS[variant])
    model = randomize_biases(test_case.build_tiny("made", num_masks=4, order_agnostic=True, **overrides))
    x, _ = arzoo.evaluation.causality.random_inputs(model, num_images=8, seed=1)
    x = tf.constant(x)
    dims, params = model.num_dims, model.head.params_per_step
    orderings = set()
    for member in range(model.num_masks):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.reshape(model.network(x, None, member=member), [8, dims * params])
        jacobian = np.abs(tape.batch_jacobian(out, x).numpy()).max(axis=0)  # [D*P, H, W, C]
        jacobian = jacobian.reshape(dims, params, dims).max(axis=1)  # [out dim, in dim]
        rank = np.empty(dims, int)
        rank[model.mask_orderings[member]] = np.arange(dims)
        allowed = rank[None, :] < rank[:, None]
        assert np.all(jacobian[~allowed] == 0.0), f"mask {member} reads later inputs"
        assert np.count_nonzero(jacobian[allowed]) > 0.5 * allowed.sum(), f"mask {member} reads too little"
        orderings.add(tuple(model.mask_orderings[member]))
    assert len(orderings) == model.num_masks  # order-agnostic: every mask has its own ordering


def test_made_degrees_follow_the_paper():
    ordering = np.array([2, 0, 1, 3])
    rng = np.random.default_rng(0)
    inputs, hidden, outputs = made_degrees(ordering, 1, 1, [50], rng)
    np.testing.assert_array_equal(inputs, [2, 3, 1, 4])  # position in the ordering + 1
    np.testing.assert_array_equal(outputs, inputs)
    assert hidden.min() >= 1 and hidden.max() <= 3 and len(set(hidden)) == 3
    _, equal, _ = made_degrees(ordering, 1, 1, [6])
    np.testing.assert_array_equal(equal, [1, 1, 2, 2, 3, 3])


def test_fvsbn_is_a_strictly_triangular_logistic_regression():
    model = randomize_biases(test_case.build_tiny("fvsbn", image_shape=[2, 3, 1], num_levels=2, ordering="random"))
    kernel = model.logits.kernel.numpy() * model.mask
    rank = model.event_step_index.reshape(-1)
    # Column d (output) has weights exactly from the inputs before d.
    np.testing.assert_array_equal(kernel != 0, rank[:, None] < rank[None, :])


@pytest.mark.parametrize("variant", ["bernoulli", "rgb", "class"])
def test_deep_nade_prefix_sums_equal_d_masked_passes(variant):
    """DeepNADE's log_prob in an ordering (first layer as one prefix sum)
    equals the chain rule through D separate masked passes (`given_mask`)."""
    from arzoo.models.orderless import OrderlessModel

    model = randomize_biases(test_case.build_tiny("deep_nade", **test_case.VARIANTS[variant]))
    x = test_case.random_images(model, 3)
    condition = model.condition_vector(test_case.random_condition(model, 3))
    ordering = tf.constant(model.ensemble_orderings(2)[1])
    fast = model.ordered_params(x, condition, ordering)
    slow = OrderlessModel.ordered_params(model, x, condition, ordering)
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("family", BINARY_FAMILIES)
def test_the_condition_reaches_every_conditional(family):
    """d params_t / d condition is non-zero at every step (a MADE whose
    condition entered only the hidden layers missed the first one)."""
    model = randomize_biases(test_case.build_tiny(family, **test_case.VARIANTS["embedding"]))
    x = test_case.random_images(model, 2)
    condition = tf.constant(test_case.random_condition(model, 2), tf.float32)
    for t in range(model.num_steps):
        with tf.GradientTape() as tape:
            tape.watch(condition)
            total = tf.reduce_sum(model.params_at(model(x, condition), tf.fill([2], t)))
        grad = tape.gradient(total, condition)
        assert grad is not None and np.abs(grad.numpy()).max() > 0, f"step {t} ignores the condition"

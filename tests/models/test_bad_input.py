"""Bad input gets an error naming what was expected and what was given: the
image families' shape checks, then one table of mistakes (empty batches,
temperatures, masks, `step`'s inputs and state) for every family, never a
raw TensorFlow shape error or a wrong number."""

import functools

import numpy as np
import pytest

import arzoo
from tests import test_case


@pytest.fixture(scope="module", params=arzoo.list_models("image"))
def model(request):
    return test_case.build_tiny(request.param, image_shape=[4, 4, 3], num_levels=4)


@pytest.fixture(scope="module")
def conditional():
    return test_case.build_tiny("gated_pixelcnn", num_classes=3)


def test_wrong_rank(model):
    with pytest.raises(ValueError, match=r"rank 4 .*got shape \(4, 4, 3\)"):
        model.log_prob(np.zeros((4, 4, 3), np.int32))


def test_wrong_size(model):
    with pytest.raises(ValueError, match=r"height 5 but the model expects 4"):
        model.log_prob(np.zeros((1, 5, 4, 3), np.int32))


def test_wrong_channel_count(model):
    with pytest.raises(ValueError, match=r"channels 1 but the model expects 3"):
        model.log_prob(np.zeros((1, 4, 4, 1), np.int32))


def test_values_out_of_range(model):
    x = np.zeros((1, 4, 4, 3), np.int32)
    x[0, 1, 1, 1] = 4
    with pytest.raises(ValueError, match=r"values in \[0, 4\] but levels must lie in \[0, 4\)"):
        model.log_prob(x)
    x[0, 1, 1, 1] = -1
    with pytest.raises(ValueError, match=r"values in \[-1, 0\]"):
        model.log_prob(x)


def test_nan_and_fractions(model):
    x = np.zeros((1, 4, 4, 3), np.float32)
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        model.log_prob(x)
    x[0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="non-integer values"):
        model.log_prob(x)


def test_wrong_dtype(model):
    with pytest.raises(ValueError, match="dtype string"):
        model.log_prob(np.full((1, 4, 4, 3), "a"))


def test_sampling_arguments(model):
    with pytest.raises(ValueError, match="num_samples must be an integer >= 1, got num_samples=0"):
        model.sample(0)
    with pytest.raises(ValueError, match="Unknown sampling method 'fast'"):
        model.sample(1, method="fast")
    with pytest.raises(ValueError, match=r"temperature must be finite and > 0, got \[0.0\]"):
        model.sample(1, temperature=0.0)
    with pytest.raises(ValueError, match=r"seeds must have shape \[batch, 2\]"):
        model.sample(seeds=np.zeros((2, 3), np.int32))
    # Seeds that do not fit int32 were wrapped: seed 2**40 drew what seed 0 draws.
    for seed in (2**40, 2**31, -(2**31) - 1, np.int64(2**32 + 5)):
        with pytest.raises(ValueError, match=rf"seed holds {int(seed)}, which does not fit int32"):
            model.sample(2, seed=seed)
    with pytest.raises(ValueError, match=r"seed holds 4294967301, which does not fit int32"):
        model.sample(2, seed=np.array([0, 2**32 + 5], np.int64))
    with pytest.raises(ValueError, match=r"seeds holds 8589934592, which does not fit int32"):
        model.sample(seeds=np.array([[0, 2**33]], np.int64))
    with pytest.raises(ValueError, match="known_mask must have the shape of x"):
        model.complete(np.zeros((1, 4, 4, 3), np.int32), np.zeros((1, 4, 4, 1)))


def test_condition_errors(model, conditional):
    if model.condition_shape is not None:  # a code is the condition (the auto-encoder)
        with pytest.raises(ValueError, match=r"condition must have shape \[batch\] \+ \[3\]; got \(1,\)"):
            model.log_prob(np.zeros((1, 4, 4, 3), np.int32), condition=np.zeros(1, np.int32))
    else:
        with pytest.raises(ValueError, match="unconditional"):
            model.log_prob(np.zeros((1, 4, 4, 3), np.int32), condition=np.zeros(1, np.int32))
    x = np.zeros((2, 4, 4, 1), np.int32)
    with pytest.raises(ValueError, match="This model is conditional"):
        conditional.log_prob(x)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\]; allowed: \[0, 3\)"):
        conditional.log_prob(x, condition=np.array([0, 3]))
    with pytest.raises(ValueError, match=r"condition has 3 rows but 2 samples"):
        conditional.sample(2, condition=np.array([0, 1, 2]))


def test_constructor_errors():
    with pytest.raises(ValueError, match="Unknown likelihood 'gaussian'"):
        test_case.build_tiny("pixelcnn", likelihood="gaussian")
    with pytest.raises(ValueError, match="needs num_levels=2, got num_levels=3"):
        test_case.build_tiny("pixelcnn", likelihood="bernoulli")
    with pytest.raises(ValueError, match=r"num_filters=8 must be divisible by the number of channel groups \(3"):
        test_case.build_tiny("gated_pixelcnn", image_shape=[4, 4, 3], num_filters=8)
    with pytest.raises(ValueError, match=r"image_shape must be \[height, width, channels\], got \[4, 4\]"):
        test_case.build_tiny("pixelcnn", image_shape=[4, 4])
    with pytest.raises(ValueError, match="not both"):
        test_case.build_tiny("pixelcnn", num_classes=3, condition_shape=[4])


# ----- every family: one table of mistakes ------------------------------------

FAMILIES = ["pixelcnn", "gated_pixelcnn", "pixelcnn_pp", "pixelsnail", "nade", "made", "fvsbn", "wavenet", "char_rnn", "rnade"]


@functools.lru_cache(maxsize=None)
def tiny(family):
    return test_case.build_tiny(family)


def events(m, batch):
    """`batch` valid events of the model's kind."""
    if m.modality == "vector":
        return np.zeros([batch, m.num_dims], np.float32)
    if m.modality in ("audio", "text"):
        return np.zeros([batch, 5], np.int32)
    return np.zeros((batch,) + tuple(m.image_shape), np.int32)


def state_of(m, batch):
    return m.initial_state(batch)


# case: (call on the model, the message's pattern)
CASES = {
    "log_prob of an empty batch": (lambda m: m.log_prob(events(m, 0)), r"x is an empty batch \(shape \(0,"),
    "sample of zero rows": (lambda m: m.sample(0), r"num_samples must be an integer >= 1, got num_samples=0"),
    "sample at an infinite temperature": (lambda m: m.sample(1, temperature=float("inf")), r"temperature"),
    "sample at a negative temperature": (lambda m: m.sample(2, temperature=[1.0, -1.0]), r"temperature"),
    "complete with a mask of 2": (
        lambda m: m.complete(events(m, 1), np.full(events(m, 1).shape, 2)), r"known_mask must be 0 or 1 \(or bool\); got the value .*2"
    ),
    "step with inputs_t of the wrong width": (
        lambda m: m.step(np.zeros([2, m.values_per_step + 2], m.values_dtype.as_numpy_dtype), state_of(m, 2)),
        r"inputs_t must have shape \[batch, \d+\] \(the values drawn at the previous step\), got \[2, \d+\]",
    ),
    "step with inputs_t of rank 1": (
        lambda m: m.step(np.zeros([2], m.values_dtype.as_numpy_dtype), state_of(m, 2)),
        r"inputs_t must have shape \[batch, \d+\].*got \[2\]",
    ),
    "step with fewer rows than the state": (
        lambda m: m.step(np.zeros([1, m.values_per_step], m.values_dtype.as_numpy_dtype), state_of(m, 2)),
        r"inputs_t has 1 rows but the state has 2",
    ),
    "step with a state of another batch": (
        lambda m: m.step(
            np.zeros([2, m.values_per_step], m.values_dtype.as_numpy_dtype),
            dict(state_of(m, 3), position=state_of(m, 2)["position"]),
        ),
        r"state\[.*\] has batch \[3\] but state\['position'\] has \[2\]",
    ),
    "step with no state": (
        lambda m: m.step(np.zeros([2, m.values_per_step], m.values_dtype.as_numpy_dtype), None),
        r"state must be the dict initial_state .* returned, with 'position'; got NoneType",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("family", FAMILIES)
def test_bad_python_input_is_a_value_error_naming_it(family, case):
    call, pattern = CASES[case]
    with pytest.raises(ValueError, match=pattern):
        call(tiny(family))


@pytest.mark.parametrize("family", FAMILIES)
def test_good_step_still_runs(family):
    m = tiny(family)
    state = m.initial_state(2)
    params, new_state = m.step(np.zeros([2, m.values_per_step], m.values_dtype.as_numpy_dtype), state)
    assert params.shape[0] == 2 and int(new_state["position"][0]) == 1

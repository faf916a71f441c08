"""Bad input through the Python API: every family's `log_prob`, `sample`,
`complete` and `step` answer a mistake with a ValueError naming the value
and what is allowed, never a raw TensorFlow shape error or a wrong number."""

import functools

import numpy as np
import pytest

from tests import test_case

FAMILIES = ["pixelcnn", "gated_pixelcnn", "pixelcnn_pp", "nade", "made", "fvsbn", "wavenet", "char_rnn", "rnade"]


@functools.lru_cache(maxsize=None)
def model(family):
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
        call(model(family))


@pytest.mark.parametrize("family", FAMILIES)
def test_good_step_still_runs(family):
    m = model(family)
    state = m.initial_state(2)
    params, new_state = m.step(np.zeros([2, m.values_per_step], m.values_dtype.as_numpy_dtype), state)
    assert params.shape[0] == 2 and int(new_state["position"][0]) == 1

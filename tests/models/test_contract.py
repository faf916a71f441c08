"""The model contract, applied to every registered family in every variant."""

import numpy as np
import pytest

import arzoo
from tests import test_case

FAMILIES = arzoo.list_models("image")
CASES = [(f, v) for f in FAMILIES for v in test_case.VARIANTS if test_case.supports(f, v)]


def make(family, variant):
    return test_case.build_tiny(family, **test_case.VARIANTS[variant])


@pytest.mark.parametrize("family,variant", CASES)
def test_causality(family, variant):
    test_case.check_causality(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_variables_tracked(family, variant):
    test_case.check_variables_tracked(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_step_log_probs_sum_to_log_prob(family, variant):
    test_case.check_step_log_probs(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_step_params_match_the_network(family, variant):
    test_case.check_step_params(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_sampling(family, variant):
    test_case.check_sampling(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_completion(family, variant):
    test_case.check_completion(make(family, variant))


NORMALIZATION = {
    "grey_2x2_3levels": dict(image_shape=[2, 2, 1], num_levels=3),
    "rgb_1x2_2levels": dict(image_shape=[1, 2, 3], num_levels=2),
    "mixture_1x2_rgb": dict(image_shape=[1, 2, 3], num_levels=2, likelihood="logistic_mixture", num_mixtures=2),
    "mixture_2x2_3levels": dict(image_shape=[2, 2, 1], num_levels=3, likelihood="logistic_mixture", num_mixtures=2),
    "bernoulli_2x3": dict(image_shape=[2, 3, 1], num_levels=2, likelihood="bernoulli"),
}


@pytest.mark.parametrize(
    "family,space",
    [
        (f, s) for f in FAMILIES for s in sorted(NORMALIZATION)
        if NORMALIZATION[s].get("likelihood", "categorical") in arzoo.models.get_model_class(f).likelihoods
    ],
)
def test_normalization(family, space):
    model = test_case.build_tiny(family, **NORMALIZATION[space])
    test_case.check_normalization(model)


@pytest.mark.parametrize("family", FAMILIES)
def test_normalization_given_each_class(family):
    model = test_case.build_tiny(family, image_shape=[2, 2, 1], num_levels=3, num_classes=3)
    totals = [test_case.check_normalization(model, np.int32(c)) for c in range(3)]
    # Conditioning must matter: the classes give different distributions.
    x = test_case.all_configurations(model)[:5]
    by_class = [model.log_prob(x, np.full(5, c, np.int32)).numpy() for c in range(3)]
    assert not np.allclose(by_class[0], by_class[1])
    assert len(totals) == 3


@pytest.mark.slow
def test_keras_round_trip_in_fresh_process(tmp_path):
    models = [
        make(f, v) for f in FAMILIES for v in ("rgb", "mixture", "class", "embedding")
        if test_case.supports(f, v)
    ]
    test_case.check_keras_round_trip(models, tmp_path)


@pytest.mark.parametrize("family", FAMILIES)
def test_config_round_trip(family):
    model = make(family, "class")
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = test_case.random_images(model, 2)
    c = test_case.random_condition(model, 2)
    np.testing.assert_allclose(clone.log_prob(x, c), model.log_prob(x, c), rtol=1e-6)

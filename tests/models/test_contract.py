"""The model contract, applied to every registered family of every kind of
event (images, audio, text, vectors, videos, real-valued images) in every variant of tests/test_case.py:
causality by gradient and by perturbation, normalization over a tiny
enumerable event space (a numerical integral for real values), step == the teacher-forced network and log_prob,
naive == cached sample for sample, rows independent of their batch,
completion, tracked variables, config / `.keras` / export round trips.

A new family gets all of it by registering (and a zoo_configs/tiny/ config);
its own test file keeps only what is specific to it."""

import functools

import numpy as np
import pytest

import arzoo
from tests import test_case
from tests.serving import compat_helpers

CASES = test_case.event_cases()
FAMILIES = arzoo.list_models()
IMAGE_FAMILIES = arzoo.list_models("image")
# An embedding of character ids has no gradient with respect to the ids; the
# perturbation check below covers that variant's causality.
GRADIENT_CASES = [case for case in CASES if case != ("char_rnn", "embedding")]
DISCRETE_SEQUENCE_CASES = [
    (f, v) for f, v in CASES if arzoo.models.get_model_class(f).modality in ("audio", "text")
]


@functools.lru_cache(maxsize=None)
def make(family, variant):
    """One model per case for the whole module: no check changes a model, so
    the checks share it and its traced (and XLA-compiled) samplers."""
    return test_case.build_case(family, variant)


def exact(family, variant):
    """The exact density of a case: the model, or a bound's decoder
    (causality, step == log_prob and normalization hold for it given any
    code; the bound itself is checked in tests/models/test_pixel_vae.py)."""
    return test_case.exact_density(make(family, variant))


# Steps that read no earlier input by design: the paper's baseline without
# dependencies inside a frame draws the first frame's sub-pixels from
# nothing, and frames independent of each other start from nothing.
INDEPENDENT_STEP_CASES = {("video_pixel_network", "no_intra_frame"), ("video_pixel_network", "per_frame")}


@pytest.mark.parametrize("family,variant", GRADIENT_CASES)
def test_causality_by_gradient(family, variant):
    test_case.check_causality_by_gradient(exact(family, variant),
                                          every_step_reads=(family, variant) not in INDEPENDENT_STEP_CASES)


@pytest.mark.parametrize("family,variant", CASES)
def test_causality_by_perturbation(family, variant):
    test_case.check_causality_by_perturbation(exact(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_variables_tracked(family, variant):
    test_case.check_variables_tracked(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_step_matches_the_network_and_log_prob(family, variant):
    test_case.check_step_contract(exact(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_sampling(family, variant):
    test_case.check_sampling(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_completion(family, variant):
    test_case.check_completion(make(family, variant))


@pytest.mark.parametrize("family,variant", CASES)
def test_config_round_trip(family, variant):
    test_case.check_config_round_trip(make(family, variant))


# ----- normalization: every event of a tiny space ---------------------------------

@pytest.mark.parametrize("family,variant", DISCRETE_SEQUENCE_CASES)
def test_sequence_normalization(family, variant):
    """Every sequence of SEQUENCE_LENGTH steps, under two random conditions."""
    test_case.check_normalization_under_random_conditions(make(family, variant))


IMAGE_SPACES = {
    "grey_2x2_3levels": dict(image_shape=[2, 2, 1], num_levels=3),
    "rgb_1x2_2levels": dict(image_shape=[1, 2, 3], num_levels=2),
    "mixture_1x2_rgb": dict(image_shape=[1, 2, 3], num_levels=2, likelihood="logistic_mixture", num_mixtures=2),
    "mixture_2x2_3levels": dict(image_shape=[2, 2, 1], num_levels=3, likelihood="logistic_mixture", num_mixtures=2),
    "bernoulli_2x3": dict(image_shape=[2, 3, 1], num_levels=2, likelihood="bernoulli"),
}


@pytest.mark.parametrize(
    "family,space",
    [
        (f, s) for f in IMAGE_FAMILIES for s in sorted(IMAGE_SPACES)
        if IMAGE_SPACES[s].get("likelihood", "categorical") in arzoo.models.get_model_class(f).likelihoods
    ],
)
def test_image_normalization(family, space):
    model = test_case.exact_density(test_case.build_tiny(family, **IMAGE_SPACES[space]))
    test_case.check_normalization_under_random_conditions(model)


@pytest.mark.parametrize(
    "family", [f for f in IMAGE_FAMILIES if arzoo.models.get_model_class(f).external_conditions]
)
def test_image_normalization_given_each_class(family):
    model = test_case.build_tiny(family, image_shape=[2, 2, 1], num_levels=3, num_classes=3)
    for c in range(3):
        test_case.check_normalization(model, np.array([c], np.int32))
    # Conditioning must matter: the classes give different distributions.
    x = test_case.all_configurations(model)[:5]
    by_class = [model.log_prob(x, np.full(5, c, np.int32)).numpy() for c in range(3)]
    assert not np.allclose(by_class[0], by_class[1])


# Video spaces small enough to enumerate (the tiny config's: 2 binary frames of 2x3).
VIDEO_SPACES = {
    "binary_2frames_2x3": dict(),
    "bernoulli_2frames_2x3": dict(likelihood="bernoulli"),
    "3levels_3frames_1x2": dict(num_frames=3, frame_shape=[1, 2, 1], num_levels=3),
    "rgb_2frames_1x1": dict(frame_shape=[1, 1, 3], num_levels=2),
    "no_intra_frame": dict(intra_frame=False),
    "per_frame": dict(temporal=False),
}


@pytest.mark.parametrize("family,space", [(f, s) for f in arzoo.list_models("video") for s in sorted(VIDEO_SPACES)])
def test_video_normalization(family, space):
    model = test_case.build_tiny(family, **VIDEO_SPACES[space])
    test_case.check_normalization_under_random_conditions(model)


@pytest.mark.parametrize("family", arzoo.list_models("video"))
def test_video_normalization_given_each_class(family):
    model = test_case.build_tiny(family, num_classes=3)
    for c in range(3):
        test_case.check_normalization(model, np.array([c], np.int32))
    x = test_case.all_configurations(model)[:5]
    by_class = [model.log_prob(x, np.full(5, c, np.int32)).numpy() for c in range(3)]
    assert not np.allclose(by_class[0], by_class[1])


# Real-valued images: the density of two real pixels integrates to 1
# numerically (no enumeration applies), for each real-image family, with the
# contract suite's noisy weights.
@pytest.mark.parametrize("family", arzoo.list_models("real_image"))
def test_real_image_density_integrates_to_one(family):
    model = test_case.build_tiny(family, image_shape=[1, 2, 1])
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        variable.assign(variable + rng.normal(scale=0.3, size=variable.shape).astype(np.float32))
    test_case.check_real_normalization(model)


# ----- round trips ------------------------------------------------------------------

# One model of each family, and each kind of conditioning.
ROUND_TRIP_CASES = sorted({next(case for case in CASES if case[0] == family) for family in FAMILIES} | {
    case for case in CASES if case[1] in ("class", "embedding", "both", "features")
})
# tests/serving/test_compat.py exports these cases (the same tiny models)
# and checks every signature through the C API and a loader that cannot
# import arzoo. What an image export does with a condition or without one
# is the export module's, the same for every family; what is the family's
# (its state, its step) such an export already covers. So an image family
# that test_compat exports needs no unconditional or embedding export here,
# but for the first image family, which keeps both.
COMPAT_CASES = set(compat_helpers.export_cases())
COMPAT_IMAGE_FAMILIES = {family for family, _ in compat_helpers.image_export_cases()}
# The models with a code have their own export test, every signature
# (encode and decode too) through the C API: tests/serving/test_latent_export.py.
OWN_EXPORT_TESTS = {"pixel_vae"}
EXPORT_CASES = [
    (family, variant) for family, variant in ROUND_TRIP_CASES
    if (family, variant) not in COMPAT_CASES and family not in OWN_EXPORT_TESTS
    and not (family in COMPAT_IMAGE_FAMILIES and family != IMAGE_FAMILIES[0] and variant in ("grey", "embedding"))
]


@pytest.mark.slow
def test_keras_round_trip_in_fresh_process(tmp_path):
    test_case.check_keras_round_trip([make(f, v) for f, v in ROUND_TRIP_CASES], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("family,variant", EXPORT_CASES)
def test_export_round_trip(family, variant, tmp_path):
    test_case.check_export_round_trip(make(family, variant), tmp_path)

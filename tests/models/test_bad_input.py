"""Bad input gets an error naming what was expected and what was given."""

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
    with pytest.raises(ValueError, match="known_mask must have the shape of x"):
        model.complete(np.zeros((1, 4, 4, 3), np.int32), np.zeros((1, 4, 4, 1)))


def test_condition_errors(model, conditional):
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

"""mu-law coding: exact on the quantized grid, against the formula, bad input named."""

import numpy as np
import pytest

from arzoo.likelihoods.mu_law import mu_law_decode, mu_law_encode


@pytest.mark.parametrize("num_levels", [2, 16, 256])
def test_encode_decode_is_exact_on_the_grid(num_levels):
    levels = np.arange(num_levels)
    decoded = mu_law_decode(levels, num_levels).numpy()
    assert np.all(np.abs(decoded) <= 1.0) and np.all(np.diff(decoded) > 0)
    np.testing.assert_array_equal(mu_law_encode(decoded, num_levels).numpy(), levels)


def test_encode_matches_the_formula_in_float64():
    x = np.linspace(-1, 1, 10001)
    mu = 255.0
    f = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    expected = np.clip(np.floor((f + 1) / 2 * 256), 0, 255)
    got = mu_law_encode(x.astype(np.float32)).numpy()
    # float32 rounding may move a value sitting on a bin edge by one level.
    assert np.abs(got - expected).max() <= 1
    assert np.mean(got == expected) > 0.999
    assert got[0] == 0 and got[-1] == 255 and got[5000] in (127, 128)


def test_round_trip_error_is_small_where_it_matters():
    x = np.linspace(-1, 1, 4001).astype(np.float32)
    error = np.abs(mu_law_decode(mu_law_encode(x)).numpy() - x)
    # mu-law spends its levels near zero: small amplitudes are coded finely.
    assert error[np.abs(x) < 0.01].max() < 2e-4
    # Worst case: half a bin (1/256 in f) times |dx/df| at |x| = 1, ln(256) * 256 / 255.
    assert error.max() < (1 / 256) * np.log(256) * 256 / 255 + 1e-6


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"audio must lie in \[-1, 1\]; got values in \[-1.5"):
        mu_law_encode(np.array([-1.5, 0.2], np.float32))
    with pytest.raises(ValueError, match="audio contains NaN"):
        mu_law_encode(np.array([np.nan], np.float32))
    with pytest.raises(ValueError, match=r"levels must lie in \[0, 256\); got values in \[0, 256\]"):
        mu_law_decode(np.array([0, 256]))
    with pytest.raises(ValueError, match="num_levels must be an integer >= 2, got num_levels=1"):
        mu_law_encode(np.zeros(3, np.float32), num_levels=1)

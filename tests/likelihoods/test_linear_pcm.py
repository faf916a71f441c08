"""Linear PCM quantization: exact inverse on the grid, monotone, bad input named."""

import numpy as np
import pytest

from arzoo.likelihoods import linear_decode, linear_encode


@pytest.mark.parametrize("num_levels", [2, 256, 65536])
def test_decode_then_encode_is_the_identity(num_levels):
    levels = np.arange(num_levels, dtype=np.int32)
    np.testing.assert_array_equal(linear_encode(linear_decode(levels, num_levels), num_levels), levels)


def test_encoding_is_monotone_and_covers_the_range():
    audio = np.linspace(-1.0, 1.0, 10001, dtype=np.float32)
    levels = linear_encode(audio, 65536).numpy()
    assert levels[0] == 0 and levels[-1] == 65535 and np.all(np.diff(levels) >= 0)
    # Bin centres lie within half a bin of the input.
    np.testing.assert_array_less(np.abs(linear_decode(levels, 65536).numpy() - audio), 1.0 / 65536 + 1e-7)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"audio must lie in \[-1, 1\]"):
        linear_encode(np.array([0.5, 1.5], np.float32))
    with pytest.raises(ValueError, match=r"levels must lie in \[0, 256\)"):
        linear_decode(np.array([256]), 256)

"""read_idx on files written here, and the frozen seeded split."""

import gzip

import numpy as np
import pytest

from arzoo.data import read_idx
from arzoo.data.builders.seeded_split import seeded_split


def _idx_bytes(array, code):
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.tobytes()


def test_read_idx_uint8_gzip_and_int32(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    with gzip.open(tmp_path / "images.gz", "wb") as f:
        f.write(_idx_bytes(images, 0x08))
    np.testing.assert_array_equal(read_idx(str(tmp_path / "images.gz")), images)
    values = np.array([-5, 70000], ">i4")
    (tmp_path / "values").write_bytes(_idx_bytes(values, 0x0C))
    got = read_idx(str(tmp_path / "values"))
    np.testing.assert_array_equal(got, [-5, 70000])
    assert got.dtype == np.int32


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(str(tmp_path / "bad"))
    truncated = _idx_bytes(np.zeros((2, 2), np.uint8), 0x08)[:-1]
    (tmp_path / "short").write_bytes(truncated)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        read_idx(str(tmp_path / "short"))


def test_seeded_split_is_a_fixed_partition():
    train, test = seeded_split(1797, 300, 0)
    assert (len(train), len(test)) == (1497, 300)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1797))
    # Frozen: RandomState's stream never changes across NumPy versions, so
    # the digits test split is these indices for good.
    assert test[:8].tolist() == [4, 5, 6, 9, 14, 17, 18, 19]
    assert int(test.sum()) == 259353
    again_train, again_test = seeded_split(1797, 300, 0)
    np.testing.assert_array_equal(test, again_test)
    assert not np.array_equal(test, seeded_split(1797, 300, 1)[1])
    with pytest.raises(ValueError, match="num_test=5"):
        seeded_split(3, 5, 0)

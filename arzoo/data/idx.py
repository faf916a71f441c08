"""Reader for the IDX format of (Fashion-)MNIST, gzip-compressed or not.

Layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a dtype code, the
number of dimensions n, n big-endian uint32 sizes, then the values row-major.
"""

import gzip
import os

import numpy as np

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """The array stored in the IDX file at `path` (`.gz` is decompressed)."""
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (header {data[:4]!r}).")
    dtype = _IDX_DTYPES[data[2]]
    num_dims = data[3]
    header_end = 4 + 4 * num_dims
    shape = tuple(int(d) for d in np.frombuffer(data[4:header_end], dtype=">u4"))
    count = int(np.prod(shape)) if shape else 1
    expected = header_end + count * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path}: IDX header says shape {shape} ({expected} bytes), "
            f"file has {len(data)} bytes."
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_end, count=count)
    return values.reshape(shape).astype(dtype.newbyteorder("="), copy=False)

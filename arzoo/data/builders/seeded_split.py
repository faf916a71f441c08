"""A fixed train/test partition of example indices, reproducible forever."""

import numpy as np


def seeded_split(num_examples, num_test, seed):
    """(train_indices, test_indices), disjoint, covering `range(num_examples)`.

    Uses numpy's legacy `RandomState`, whose stream NumPy keeps frozen across
    versions (NEP 19), so a split never moves under a saved model. Both index
    arrays are sorted, so the source order survives within each split.
    """
    if not 0 <= num_test <= num_examples:
        raise ValueError(
            f"num_test={num_test} must be in [0, num_examples={num_examples}]."
        )
    order = np.random.RandomState(seed).permutation(num_examples)
    return np.sort(order[num_test:]), np.sort(order[:num_test])

"""Small real-valued datasets for the vector density estimators (RNADE).

All come with scikit-learn, so they load offline:

* "wine": 178 wines, 13 chemical measurements;
* "breast_cancer": 569 tumours, 30 features of cell nuclei;
* "digits_dequantized": the 1,797 8x8 digits, 64 pixels of 17 levels
  (0..16), uniformly dequantized into [0, 1]^64.

Each is cut once into 80 % train and 20 % test by a permutation with a
fixed seed (`SPLIT_SEED`), the same for every call, so no `seed` ever moves
a test example into training.
"""

import numpy as np
import tensorflow as tf

CONTINUOUS_DATASETS = ("wine", "breast_cancer", "digits_dequantized")
SPLITS = ("train", "test")
SPLIT_SEED = 0
TRAIN_FRACTION = 0.8
DIGIT_LEVELS = 17
# Dequantization noise is kept this far from 0 and 1, so float32 rounding of
# (level + u) / 17 never lands in a neighbouring level's bin.
_NOISE_MARGIN = 1e-5


def _raw_features(name):
    from sklearn import datasets

    loaders = {
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "digits_dequantized": datasets.load_digits,
    }
    return np.asarray(loaders[name]().data, np.float64)


def _check_choice(label, value, allowed):
    if value not in allowed:
        raise ValueError(f"Unknown {label} {value!r}; allowed: {', '.join(allowed)}.")


def split_indices(num_examples, split):
    """The example indices of `split` in the fixed 80 / 20 cut, in the
    permutation's order (the scikit-learn sets are sorted by class, so a
    prefix of a split is a random subset, not one class)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(num_examples)
    num_train = int(round(TRAIN_FRACTION * num_examples))
    return order[:num_train] if split == "train" else order[num_train:]


def dequantize_digits(levels, seed):
    """`(levels + u) / 17`, u ~ U(0, 1) per pixel from a numpy rng seeded by `seed`."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(_NOISE_MARGIN, 1.0 - _NOISE_MARGIN, size=levels.shape)
    return (levels + noise) / DIGIT_LEVELS


def load_continuous(name, split, seed=0):
    """One split of a real-valued dataset as a float32 `[N, D]` numpy array.

    "wine" (D = 13) and "breast_cancer" (D = 30) are standardized with the
    train split's per-feature mean and standard deviation (so the train split
    has mean 0 and std 1, the test split about that).

    "digits_dequantized" (D = 64) is not standardized: it is x = (X + u) / 17
    for the integer pixels X in 0..16 and u ~ U(0, 1), a density on
    [0, 1]^64 with floor(17 x) = X. Its log-density is that of X + u (on
    [0, 17]^64) plus 64 log 17, and E_u log q(X + u) bounds the discrete
    log-likelihood log P(X) from below, so log P(X) >= E_u log p(x) - 64 log 17
    nats.

    Args:
      name: one of `CONTINUOUS_DATASETS`.
      split: "train" or "test".
      seed: seeds the dequantization noise of "digits_dequantized" (the
        split is fixed); unused by the other datasets.

    Example:
    >>> x = load_continuous("wine", "train")
    >>> x.shape, x.dtype
    ((142, 13), dtype('float32'))
    """
    _check_choice("continuous dataset", name, CONTINUOUS_DATASETS)
    _check_choice("split", split, SPLITS)
    features = _raw_features(name)
    if name == "digits_dequantized":
        return dequantize_digits(features, seed)[split_indices(len(features), split)].astype(np.float32)
    train = features[split_indices(len(features), "train")]
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature stays 0
    chosen = features[split_indices(len(features), split)]
    return ((chosen - mean) / std).astype(np.float32)


def continuous_dataset(name, split, batch_size, seed=0):
    """`load_continuous` as a `tf.data.Dataset` of `{"x": [B, D] float32}`.

    The train split is shuffled (by `seed`, anew each epoch); the test split
    keeps its order. The last batch may be smaller than `batch_size`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got batch_size={batch_size!r}.")
    x = load_continuous(name, split, seed)
    dataset = tf.data.Dataset.from_tensor_slices({"x": x})
    if split == "train":
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(int(batch_size))

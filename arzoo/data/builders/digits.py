"""scikit-learn's bundled handwritten digits as a TFDS dataset (offline).

1,797 real 8x8 grey images (UCI optdigits test set, values 0..16 = 17 levels),
labels 0..9. scikit-learn ships the data, so preparing needs no network.

Splits: a fixed partition drawn once with `RandomState(SPLIT_SEED)`:
`test` = 300 images, `train` = the other 1,497; each keeps the source order.
"""

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.builders.in_memory import InMemoryImageBuilder

NUM_TEST = 300
SPLIT_SEED = 0


class Digits(InMemoryImageBuilder):
    """sklearn.datasets.load_digits: 1,797 8x8x1 images, 17 levels, 10 classes."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "300-image test split with RandomState(0)."}
    NATIVE_LEVELS = 17
    NUM_TEST = NUM_TEST
    SPLIT_SEED = SPLIT_SEED

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://archive.ics.uci.edu/dataset/80",
            disable_shuffling=True,
        )

    def _arrays(self):
        from sklearn.datasets import load_digits

        digits = load_digits()  # bundled with scikit-learn: nothing is downloaded
        return digits.images.astype(np.uint8)[..., None], digits.target.astype(np.int64)

"""32x32 colour patches of scikit-learn's two bundled photographs (offline).

scikit-learn ships two 427x640 RGB photographs (china.jpg: a temple,
flower.jpg: a flower; both CC-licensed, see sklearn.datasets.load_sample_images).
Each is cut into the 13 x 20 grid of non-overlapping 32x32 patches from its
top-left corner: 520 real colour images at 256 levels, label 0 (china) or 1
(flower). Small, but real: channel coupling (R -> G -> B) is trained and
tested on the correlations of real photographs, not on noise.

Splits: a fixed partition drawn once with `RandomState(SPLIT_SEED)`:
`test` = 104 patches (20%), `train` = the other 416; each keeps the source order.
"""

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.builders.in_memory import InMemoryImageBuilder

PATCH_SIZE = 32
NUM_TEST = 104
SPLIT_SEED = 0


def cut_patches(photos, size):
    """(patches uint8 [N, size, size, 3], labels int64 [N]): each photograph's
    grid of non-overlapping size x size patches from its top-left corner,
    row by row, labelled by the photograph's index."""
    patches, labels = [], []
    for label, photo in enumerate(photos):
        rows, cols = photo.shape[0] // size, photo.shape[1] // size
        grid = photo[: rows * size, : cols * size, :3].reshape(rows, size, cols, size, 3)
        patches.append(grid.transpose(0, 2, 1, 3, 4).reshape(-1, size, size, 3))
        labels.append(np.full(rows * cols, label, np.int64))
    return np.concatenate(patches).astype(np.uint8), np.concatenate(labels)


def photo_patches():
    """(patches uint8 [N, 32, 32, 3], labels int64 [N]) in source order."""
    from sklearn.datasets import load_sample_images

    return cut_patches(load_sample_images().images, PATCH_SIZE)


class PhotoPatches(InMemoryImageBuilder):
    """520 32x32x3 patches of scikit-learn's sample photographs, 2 classes.

    A subclass cuts other photographs or sizes by setting the class
    attributes below and `_arrays`."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "13 x 20 grid per photograph; 104-patch test split with RandomState(0)."}
    NATIVE_LEVELS = 256
    NUM_TEST = NUM_TEST
    SPLIT_SEED = SPLIT_SEED
    PATCH_SIZE = PATCH_SIZE
    CLASS_NAMES = ("china", "flower")
    DESCRIPTION = __doc__
    HOMEPAGE = "https://scikit-learn.org/stable/modules/generated/sklearn.datasets.load_sample_images.html"

    def _info(self):
        size = self.PATCH_SIZE
        return self.dataset_info_from_configs(
            description=self.DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(size, size, 3)),
                    "label": tfds.features.ClassLabel(names=list(self.CLASS_NAMES)),
                }
            ),
            supervised_keys=("image", "label"),
            homepage=self.HOMEPAGE,
            disable_shuffling=True,
        )

    def _arrays(self):
        return photo_patches()  # the photographs come with scikit-learn

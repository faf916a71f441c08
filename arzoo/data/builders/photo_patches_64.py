"""64x64 colour patches of the photographs bundled with scikit-learn and
scikit-image (offline).

The photographs: scikit-learn's china.jpg and flower.jpg (427x640, see
sklearn.datasets.load_sample_images) and scikit-image's colour photographs
astronaut (512x512), chelsea (300x451), coffee (400x600) and rocket
(427x640) (skimage.data; their sources and licences are listed in
skimage/data/README.txt). Each is cut into its grid of non-overlapping
64x64 patches from the top-left corner: 326 real colour images at 256
levels, labelled by photograph (0 to 5). For colour models at 64x64 (the
multiscale PixelCNN's 64x64 config) without a download.

Splits: a fixed partition drawn once with `RandomState(SPLIT_SEED)`:
`test` = 64 patches (about 20%), `train` = the other 262.
"""

import numpy as np

from arzoo.data.builders.photo_patches import PhotoPatches, cut_patches

PATCH_SIZE = 64
NUM_TEST = 64
SPLIT_SEED = 0
PHOTOGRAPHS = ("china", "flower", "astronaut", "chelsea", "coffee", "rocket")


def photographs():
    """The six photographs, uint8 `[H, W, 3]` each, in PHOTOGRAPHS' order."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    bundled = list(load_sample_images().images)
    return bundled + [np.asarray(getattr(skimage.data, name)()) for name in PHOTOGRAPHS[2:]]


def photo_patches_64():
    """(patches uint8 [N, 64, 64, 3], labels int64 [N]) in source order."""
    return cut_patches(photographs(), PATCH_SIZE)


class PhotoPatches64(PhotoPatches):
    """326 64x64x3 patches of six bundled photographs, labelled by photograph."""

    RELEASE_NOTES = {"1.0.0": "Non-overlapping 64x64 grids of six photographs; 64-patch test split, RandomState(0)."}
    NUM_TEST = NUM_TEST
    SPLIT_SEED = SPLIT_SEED
    PATCH_SIZE = PATCH_SIZE
    CLASS_NAMES = PHOTOGRAPHS
    DESCRIPTION = __doc__
    HOMEPAGE = "https://scikit-image.org/docs/stable/api/skimage.data.html"

    def _arrays(self):
        return photo_patches_64()  # the photographs come with scikit-learn and scikit-image

"""Grey patches of the photographs bundled with scikit-learn and scikit-image (offline).

The photographs: those of `photo_patches_64` (scikit-learn's china.jpg and
flower.jpg, `sklearn.datasets.load_sample_images`; scikit-image's astronaut,
chelsea, coffee and rocket) and scikit-image's grey photographs of the
cameraman and of grass, gravel and brick (`skimage.data`; sources and
licences in skimage/data/README.txt). Each is converted to grey (ITU-R
BT.601 luma, 0.299 R + 0.587 G + 0.114 B, rounded to 8 bits) and cut into
the grid of non-overlapping H x W patches from its top-left corner. This is
the BSDS300 patch protocol's kind of data (Theis and Bethge 2015,
arXiv:1506.03478, section 4.1, after Zoran and Weiss 2011), from photographs
any machine has; not BSDS300 itself.

Configs are named `<H>x<W>`: `8x8` (the default: 39,022 patches), and larger
crops (`32x32`: 2,402); any size builds. Splits: a fixed partition with
`RandomState(SPLIT_SEED)`, 20% test; every patch keeps its photograph's
index as `label`.

Features: `image` uint8 `[H, W, 1]`, `label` the photograph.
"""

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.builders.photo_patches_64 import PHOTOGRAPHS as COLOUR_PHOTOGRAPHS
from arzoo.data.builders.photo_patches_64 import photographs as colour_photographs
from arzoo.data.builders.seeded_split import seeded_split
from arzoo.data.builders.sized_config import sized_config

DEFAULT_CONFIG = "8x8"
# The colour photographs of `photo_patches_64`, then scikit-image's bundled
# grey photographs of natural scenes (not its drawings, microscopy, text or
# synthetic images).
GREY_PHOTOGRAPHS = ("camera", "grass", "gravel", "brick")
PHOTOGRAPHS = COLOUR_PHOTOGRAPHS + GREY_PHOTOGRAPHS
TEST_FRACTION = 0.2
SPLIT_SEED = 0
LUMA = np.array([0.299, 0.587, 0.114])


def natural_patches_config(name=DEFAULT_CONFIG):
    """The config named `<H>x<W>`, or a ValueError saying the form."""
    return sized_config("natural_patches", name, DEFAULT_CONFIG,
                        lambda height, width: f"{height}x{width} grey patches of bundled photographs")


def grey(photo):
    """A photograph (grey `[H, W]` or colour `[H, W, 3+]`) as uint8 luma."""
    photo = np.asarray(photo)
    if photo.ndim == 3:
        photo = photo[..., :3].astype(np.float64) @ LUMA
    return np.clip(np.round(photo), 0, 255).astype(np.uint8)


def photographs():
    """The photographs in grey, uint8 `[H, W]` each, in `PHOTOGRAPHS` order."""
    import skimage.data

    return [grey(photo) for photo in colour_photographs()] + [
        grey(getattr(skimage.data, name)()) for name in GREY_PHOTOGRAPHS
    ]


def cut_grey_patches(photos, height, width):
    """(patches uint8 `[N, height, width]`, the photograph of each `[N]` int64)."""
    patches, labels = [], []
    for label, photo in enumerate(photos):
        rows, cols = photo.shape[0] // height, photo.shape[1] // width
        grid = photo[: rows * height, : cols * width].reshape(rows, height, cols, width)
        patches.append(grid.transpose(0, 2, 1, 3).reshape(-1, height, width))
        labels.append(np.full(rows * cols, label, np.int64))
    return np.concatenate(patches), np.concatenate(labels)


class NaturalPatches(tfds.core.GeneratorBasedBuilder):
    """Grey patches of bundled photographs, `[H, W, 1]` uint8."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "BT.601 luma; 10 photographs; non-overlapping grid; 20% test with RandomState(0)."}
    BUILDER_CONFIGS = [natural_patches_config(DEFAULT_CONFIG), natural_patches_config("32x32")]
    NATIVE_LEVELS = 256
    config_named = staticmethod(natural_patches_config)  # any `<H>x<W>` (arzoo.data.sources)

    def _info(self):
        config = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(config.height, config.width, 1)),
                "label": tfds.features.ClassLabel(names=list(PHOTOGRAPHS)),
            }),
            homepage="https://scikit-image.org/docs/stable/api/skimage.data.html",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the photographs come with the packages
        config = self.builder_config
        patches, labels = cut_grey_patches(photographs(), config.height, config.width)
        train, test = seeded_split(len(patches), int(round(TEST_FRACTION * len(patches))), SPLIT_SEED)
        return {
            "train": self._generate_examples(patches, labels, train),
            "test": self._generate_examples(patches, labels, test),
        }

    def _generate_examples(self, patches, labels, indices):
        for i in indices:
            yield int(i), {"image": patches[i][..., None], "label": int(labels[i])}

"""Dead leaves: occluding grey discs with power-law radii (offline, procedural).

The dead leaves model (Matheron 1968; as a model of natural images, Lee,
Mumford and Huang 2001, "Occlusion models for natural images", IJCV 41) drops
discs ("leaves") one after another, each falling *under* those before it,
until the image is covered. Radii follow a power law p(r) ~ r^-3 between
`MIN_RADIUS` and half the image side, the exponent for which the images are
scale invariant like natural images (Lee et al., section 3); each disc has a
uniform random grey level in [0, 255]. Discs are rendered at `SUPERSAMPLING`
times the resolution and averaged, so their edges are anti-aliased as a
camera's would be, and stored as 8-bit grey; arzoo's real-valued loader
dequantizes them. Theis and Bethge (2015, arXiv:1506.03478, Table 2) compare
image models on dead leaves images; these are of the same kind, not their
files.

Configs are named `<H>x<W>` (default `32x32`; any size builds,
`dead_leaves/64x64`). Every image is a function of its split, index and
config alone (`RandomState` seeded from them, NumPy's frozen legacy
stream), so the test set is the same everywhere.

Features: `image` uint8 `[H, W, 1]`, `label` 0 (one class).
"""

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.builders.sized_config import sized_config

DEFAULT_CONFIG = "32x32"
MIN_RADIUS = 1.0  # pixels
SUPERSAMPLING = 4
MAX_DISCS = 20_000  # a safety stop; covering 32x32 takes about 600
SPLIT_SIZES = {"train": 4_000, "test": 1_000}
SPLITS = tuple(sorted(SPLIT_SIZES))


def dead_leaves_config(name=DEFAULT_CONFIG):
    """The config named `<H>x<W>`, or a ValueError saying the form."""
    return sized_config("dead_leaves", name, DEFAULT_CONFIG,
                        lambda height, width: f"{height}x{width} grey dead leaves images, radii ~ r^-3")


def power_law_radii(rng, count, low, high):
    """`count` radii with density proportional to r^-3 on [low, high] (inverse CDF)."""
    u = rng.uniform(size=count)
    return (low ** -2 - u * (low ** -2 - high ** -2)) ** -0.5


def dead_leaves_image(rng, height, width):
    """`[height, width]` uint8: discs dropped under each other until covered."""
    scale = SUPERSAMPLING
    big_h, big_w = height * scale, width * scale
    max_radius = 0.5 * min(height, width) * scale
    image = np.zeros((big_h, big_w), np.float64)
    covered = np.zeros((big_h, big_w), bool)
    remaining = big_h * big_w
    batch = 256  # discs drawn per call of the generator
    drawn = 0
    while remaining and drawn < MAX_DISCS:
        radii = power_law_radii(rng, batch, MIN_RADIUS * scale, max_radius)
        # Centres anywhere a disc can reach the image from, so edges are not special.
        rows = rng.uniform(-radii, big_h + radii)
        cols = rng.uniform(-radii, big_w + radii)
        greys = rng.uniform(0.0, 255.0, size=batch)
        for r, cy, cx, grey in zip(radii, rows, cols, greys):
            top, bottom = max(int(cy - r), 0), min(int(cy + r) + 1, big_h)
            left, right = max(int(cx - r), 0), min(int(cx + r) + 1, big_w)
            if top >= bottom or left >= right:
                continue
            yy, xx = np.mgrid[top:bottom, left:right]
            inside = (yy + 0.5 - cy) ** 2 + (xx + 0.5 - cx) ** 2 <= r * r
            fresh = inside & ~covered[top:bottom, left:right]
            if fresh.any():
                image[top:bottom, left:right][fresh] = grey
                covered[top:bottom, left:right] |= fresh
                remaining -= int(fresh.sum())
        drawn += batch
    small = image.reshape(height, scale, width, scale).mean(axis=(1, 3))
    return np.clip(np.round(small), 0, 255).astype(np.uint8)


def image_seed(split, index):
    """The RandomState seed of image `index` of `split`."""
    return [SPLITS.index(split), int(index)]


class DeadLeaves(tfds.core.GeneratorBasedBuilder):
    """Grey dead leaves images, `[H, W, 1]` uint8."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Discs with radii ~ r^-3, 4x supersampled, seeded per image."}
    BUILDER_CONFIGS = [dead_leaves_config(DEFAULT_CONFIG)]
    NATIVE_LEVELS = 256
    config_named = staticmethod(dead_leaves_config)  # any `<H>x<W>` (arzoo.data.sources)

    def _info(self):
        config = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(config.height, config.width, 1)),
                "label": tfds.features.ClassLabel(names=["dead_leaves"]),
            }),
            homepage="https://doi.org/10.1023/A:1011109015675",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing is downloaded
        return {split: self._generate_examples(split, size) for split, size in SPLIT_SIZES.items()}

    def _generate_examples(self, split, count):
        config = self.builder_config
        for index in range(count):
            rng = np.random.RandomState(image_seed(split, index))
            yield index, {"image": dead_leaves_image(rng, config.height, config.width)[..., None], "label": 0}

"""Moving Fashion-MNIST: two clothing sprites bouncing in a frame (offline video).

The recipe of Moving MNIST (Srivastava, Mansimov, Salakhutdinov 2015,
arXiv:1502.04681, section 3): each sequence shows two sprites, each placed
at a uniformly random position inside the frame and moving in a uniformly
random direction at a fixed speed, bouncing off the frame's edges; where
sprites overlap the brighter value is kept. The sprites are Fashion-MNIST
items (the Debian package `dataset-fashion-mnist`, read as the
`fashion_mnist_local` builder does) instead of digits: the test sequences
draw their sprites from Fashion-MNIST's test images only, the training ones
from its training images only.

Configs are named `<H>x<W>_<T>frames`: frames of H x W pixels (square
sprites scaled to 28 * H / 64 pixels, as 28-pixel digits in a 64-pixel
frame), T frames per sequence. `64x64_20frames` is the paper's size (and
its 10,000 test sequences); `32x32_10frames` is a CPU's, the default. Any
such name builds (`moving_fashion_mnist/48x48_16frames`). Every sequence is
a function of its split, index and the config alone (`RandomState` seeded
from them, NumPy's frozen legacy stream), so the test set is the same on
every machine and in every run.

Features: `video` uint8 `[T, H, W, 1]` (256 levels; the `binarize` option of
the data section gives the binary variant), `label` the first sprite's
Fashion-MNIST class (for class conditioning), `sprite_labels` both classes.
"""

import dataclasses
import os
import re

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.builders.fashion_mnist_local import FILES, LABEL_NAMES, check_files, fashion_mnist_dir
from arzoo.data.idx import read_idx

NAME_PATTERN = re.compile(r"^(\d+)x(\d+)_(\d+)frames$")
DEFAULT_CONFIG = "32x32_10frames"
NUM_SPRITES = 2
# Sprite side over frame side: 28-pixel digits in 64-pixel frames.
SPRITE_FRACTION = 28 / 64
# Per frame, a sprite moves this fraction of the distance it can travel
# across the frame (frame side minus sprite side).
SPEED = 0.1
# Sequences per split: the paper's test set has 10,000 sequences.
SPLIT_SIZES = {"train": 10_000, "test": 1_000}
PAPER_SPLIT_SIZES = {"train": 10_000, "test": 10_000}


@dataclasses.dataclass(eq=False)
class MovingFashionMnistConfig(tfds.core.BuilderConfig):
    """Frame size, sequence length and split sizes; build with `moving_config`."""

    height: int = 32
    width: int = 32
    num_frames: int = 10
    split_sizes: tuple = tuple(SPLIT_SIZES.items())


def moving_config(name=DEFAULT_CONFIG):
    """The config named `<H>x<W>_<T>frames`, or a ValueError saying the form."""
    match = NAME_PATTERN.match(name or "")
    if match is None:
        raise ValueError(
            f"moving_fashion_mnist config {name!r} is not of the form <height>x<width>_<frames>frames "
            f"(e.g. {DEFAULT_CONFIG!r}, or '64x64_20frames' as the paper)."
        )
    height, width, frames = (int(g) for g in match.groups())
    if min(height, width) < 2 or frames < 1:
        raise ValueError(f"moving_fashion_mnist config {name!r}: frames must be at least 2x2, and 1 long.")
    sizes = PAPER_SPLIT_SIZES if name == "64x64_20frames" else SPLIT_SIZES
    return MovingFashionMnistConfig(
        name=name, height=height, width=width, num_frames=frames, split_sizes=tuple(sizes.items()),
        description=f"{frames} frames of {height}x{width}, two bouncing Fashion-MNIST sprites",
    )


def scaled_sprites(images, side):
    """`images` `[N, 28, 28]` uint8 resized to `[N, side, side]` (area average)."""
    import tensorflow as tf

    if side == images.shape[1]:
        return images
    resized = tf.image.resize(images[..., None].astype(np.float32), [side, side], method="area")
    return np.clip(np.round(resized.numpy()[..., 0]), 0, 255).astype(np.uint8)


def bouncing_paths(rng, num_frames, num_sprites, speed=SPEED):
    """`[num_frames, num_sprites, 2]` positions in [0, 1] (fractions of the
    distance a sprite can travel down and across): a uniform start, a
    uniform direction, `speed` per frame, reflected at 0 and 1."""
    position = rng.uniform(0.0, 1.0, size=(num_sprites, 2))
    angle = rng.uniform(0.0, 2 * np.pi, size=num_sprites)
    velocity = speed * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    path = np.empty((num_frames, num_sprites, 2))
    for t in range(num_frames):
        path[t] = position
        position = position + velocity
        low, high = position < 0.0, position > 1.0
        position = np.where(low, -position, np.where(high, 2.0 - position, position))
        velocity = np.where(low | high, -velocity, velocity)
    return path


def moving_sequence(sprites, path, height, width):
    """`[T, height, width]` uint8: `sprites` `[S, h, w]` drawn at `path`
    `[T, S, 2]` (fractions of the travel), the brighter value where they overlap."""
    num_frames = path.shape[0]
    side_h, side_w = sprites.shape[1:]
    travel = np.array([height - side_h, width - side_w])
    corners = np.round(path * travel).astype(int)
    video = np.zeros((num_frames, height, width), np.uint8)
    for t in range(num_frames):
        for sprite, (top, left) in zip(sprites, corners[t]):
            window = video[t, top:top + side_h, left:left + side_w]
            np.maximum(window, sprite, out=window)
    return video


def split_seed(split, index):
    """The RandomState seed of sequence `index` of `split`."""
    return [sorted(FILES).index(split), int(index)]


class MovingFashionMnist(tfds.core.GeneratorBasedBuilder):
    """Bouncing Fashion-MNIST sprites, `[T, H, W, 1]` uint8 sequences."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Two sprites, Srivastava et al.'s recipe, seeded per sequence."}
    BUILDER_CONFIGS = [moving_config(DEFAULT_CONFIG), moving_config("64x64_20frames")]
    NATIVE_LEVELS = 256
    config_named = staticmethod(moving_config)  # any `<H>x<W>_<T>frames` (arzoo.data.sources)

    def _info(self):
        config = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict({
                # zlib-compressed raw frames: preparing 10,000 sequences stays
                # seconds, where a PNG per frame took minutes on two cores.
                "video": tfds.features.Tensor(
                    shape=(config.num_frames, config.height, config.width, 1), dtype=np.uint8,
                    encoding=tfds.features.Encoding.ZLIB,
                ),
                "label": tfds.features.ClassLabel(names=LABEL_NAMES),
                "sprite_labels": tfds.features.Tensor(shape=(NUM_SPRITES,), dtype=np.int64),
            }),
            homepage="https://www.cs.toronto.edu/~nitish/unsupervised_video/",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the files are local
        folder = fashion_mnist_dir()
        check_files(folder)
        sizes = dict(self.builder_config.split_sizes)
        return {
            split: self._generate_examples(split, os.path.join(folder, images), os.path.join(folder, labels),
                                           sizes[split])
            for split, (images, labels) in FILES.items()
        }

    def _generate_examples(self, split, images_path, labels_path, count):
        config = self.builder_config
        side = max(1, round(min(config.height, config.width) * SPRITE_FRACTION))
        images, labels = read_idx(images_path), read_idx(labels_path)
        sprites = scaled_sprites(images, side)
        for index in range(count):
            rng = np.random.RandomState(split_seed(split, index))
            chosen = rng.randint(0, len(images), size=NUM_SPRITES)
            path = bouncing_paths(rng, config.num_frames, NUM_SPRITES)
            video = moving_sequence(sprites[chosen], path, config.height, config.width)
            yield index, {
                "video": video[..., None],
                "label": int(labels[chosen[0]]),
                "sprite_labels": labels[chosen].astype(np.int64),
            }

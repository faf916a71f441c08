"""Builder configs named by an image size, `<H>x<W>` (`dead_leaves/64x64`,
`natural_patches/8x8`): any such name builds."""

import dataclasses
import re

import tensorflow_datasets as tfds

SIZE_NAME = re.compile(r"^(\d+)x(\d+)$")


@dataclasses.dataclass(eq=False)
class SizedConfig(tfds.core.BuilderConfig):
    """An image size; build with `sized_config`."""

    height: int = 0
    width: int = 0


def sized_config(dataset, name, default, describe):
    """The config of `dataset` named `name` (`<H>x<W>`, at least 2x2), or a
    ValueError saying the form; `describe(height, width)` is its description."""
    match = SIZE_NAME.match(name or "")
    if match is None:
        raise ValueError(f"{dataset} config {name!r} is not of the form <height>x<width> (e.g. {default!r}).")
    height, width = (int(g) for g in match.groups())
    if min(height, width) < 2:
        raise ValueError(f"{dataset} config {name!r}: images must be at least 2x2.")
    return SizedConfig(name=name, height=height, width=width, description=describe(height, width))

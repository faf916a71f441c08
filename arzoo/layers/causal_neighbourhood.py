"""The causal neighbourhood of a pixel: the pixels of the `radius` rows above
it within `radius` columns either side, and the `radius` pixels to its left
(the x_<ij of Theis and Bethge 2015, arXiv:1506.03478, and of the MCGSM,
Theis, Hosseini and Bethge 2012), as one vector per pixel. Pixels outside the
image read as zero.

    radius 1:  x x x
               x o        (o the pixel, x its neighbourhood: 4 pixels)
"""

import tensorflow as tf

from arzoo.layers import caches


def neighbourhood_offsets(radius):
    """The (row, column) offsets of the neighbourhood, in raster order."""
    above = [(dy, dx) for dy in range(-radius, 0) for dx in range(-radius, radius + 1)]
    return above + [(0, dx) for dx in range(-radius, 0)]


def neighbourhood_size(radius):
    """How many pixels the neighbourhood holds: radius (2 radius + 1) + radius."""
    return len(neighbourhood_offsets(radius))


def pad_for_neighbourhood(images, radius):
    """`[B, H, W, C]` zero-padded by `radius` above and on both sides (none below)."""
    return tf.pad(images, [[0, 0], [radius, 0], [radius, radius], [0, 0]])


def causal_neighbourhoods(images, radius):
    """`[B, H, W, C]` -> `[B, H, W, n C]`: every pixel's neighbourhood, pixel
    by pixel in `neighbourhood_offsets` order, channels inside a pixel."""
    _, height, width, channels = images.shape
    padded = pad_for_neighbourhood(images, radius)
    parts = [padded[:, radius + dy : radius + dy + height, radius + dx : radius + dx + width]
             for dy, dx in neighbourhood_offsets(radius)]
    return tf.concat(parts, axis=-1) if parts else tf.zeros_like(images[..., :0])


def neighbourhood_at(padded, row, col, radius):
    """One pixel's neighbourhood `[B, n C]` from a canvas padded by
    `pad_for_neighbourhood` at (row, col) (scalars, unpadded coordinates)."""
    window = caches.read_block(padded, row, col, radius + 1, 2 * radius + 1)  # rows row - r .. row
    parts = [window[:, radius + dy, radius + dx] for dy, dx in neighbourhood_offsets(radius)]
    return tf.concat(parts, axis=-1) if parts else tf.zeros_like(padded[:, 0, 0, :0])

"""The pixel groups of a multiscale parallel PixelCNN and the order they are
drawn in (Reed et al. 2017, "Parallel Multiscale Autoregressive Density
Estimation", arXiv:1703.03664).

The image x `[H, W, C]` is seen at scales k = 0 (full size), 1, 2, ...:
scale k is `x[::2**k, ::2**k]`, of size `ceil(H / 2**k) x ceil(W / 2**k)`
(odd sides are ceil-halved). Halving stops at the first scale K whose
longer side is at most `base_size`: the base image `x[::2**K, ::2**K]`,
drawn one sub-pixel per step (raster order, channels inside a pixel) by an
ordinary autoregressive image model. Then, from scale K - 1 down to 0, the
scale's image is tiled with 2x2 blocks whose upper-left pixels are the
scale above (already drawn); its three other groups follow, upper-right (0,
1), lower-left (1, 0), lower-right (1, 1), each one channel at a time, and
every pixel of one group and channel is drawn in the same step,
independently given everything drawn before (with `whole_pixels`, for a
head that couples the channels itself, a step draws whole pixels: the
base pixel by pixel, each group in one step):

    log p(x) = log p_base(x[::2**K, ::2**K])
             + sum over k, group g, channel c of sum over the group's pixels
               of log p(x[pixel, c] | the steps before (k, g, c)).

A colour group thus costs C steps and the whole image K * 3 * C steps after
the base: O(log N) network evaluations, where a raster sampler takes N.
Groups that are empty at a scale (the right column of an odd width, say)
are left out.

This module is the geometry only (no TensorFlow): which sub-pixels each
step draws, `sampling_order` and `step_of_subpixel`, which the model, its
causality audit and its tests read.
"""

import dataclasses
import math

import numpy as np

from arzoo.arguments import int_at_least

# The three groups that follow a scale's upper-left pixels, in drawing
# order: (row offset, column offset) inside each 2x2 block.
GROUP_OFFSETS = ((0, 1), (1, 0), (1, 1))


@dataclasses.dataclass(frozen=True)
class Group:
    """One parallel step: every pixel of scale `scale` at `offset` inside
    its 2x2 block, channel `channel` (-1: every channel, whole pixels)."""

    scale: int
    offset: tuple
    channel: int


class MultiscaleGroups:
    """The scales, groups and drawing order of an image shape.

    Args:
      image_shape: `(H, W, C)`.
      base_size: halving stops once the longer side is at most this; the
        base image is drawn sub-pixel by sub-pixel.
      whole_pixels: one step draws whole pixels (channel -1) instead of one
        channel of them.

    Example:

    >>> groups = MultiscaleGroups((28, 28, 1), base_size=7)
    >>> groups.sides
    ((28, 28), (14, 14), (7, 7))
    >>> groups.num_steps          # 49 base sub-pixels, then 2 scales x 3 groups
    55
    """

    def __init__(self, image_shape, base_size, whole_pixels=False):
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be [height, width, channels], got {list(image_shape)}.")
        height, width, channels = (int_at_least(f"image_shape[{i}]", v, 1) for i, v in enumerate(image_shape))
        self.base_size = int_at_least("base_size", base_size, 1)
        if max(height, width) <= self.base_size:
            raise ValueError(
                f"image_shape {list(image_shape)} is no larger than base_size {self.base_size}: the "
                "multiscale scheme needs at least one halving. Lower base_size (it must be below the "
                "longer side), or use an ordinary image family for images this small."
            )
        self.image_shape = (height, width, channels)
        self.whole_pixels = bool(whole_pixels)
        sides = [(height, width)]
        while max(sides[-1]) > self.base_size:
            h, w = sides[-1]
            sides.append((math.ceil(h / 2), math.ceil(w / 2)))
        self.sides = tuple(sides)

    # ----- scales ----------------------------------------------------------------

    @property
    def num_scales(self):
        """K: the halvings from the full image to the base."""
        return len(self.sides) - 1

    @property
    def base_stride(self):
        return 2**self.num_scales

    @property
    def base_shape(self):
        """`(h, w, C)` of the base image `x[::2**K, ::2**K]`."""
        return self.sides[-1] + (self.image_shape[2],)

    # ----- groups -----------------------------------------------------------------

    def groups(self):
        """The parallel steps after the base, in drawing order (coarse to fine;
        groups (0, 1), (1, 0), (1, 1); channels in order); empty groups left out."""
        steps = []
        for scale in range(self.num_scales - 1, -1, -1):
            height, width = self.sides[scale]
            for offset in GROUP_OFFSETS:
                if offset[0] < height and offset[1] < width:
                    steps.extend(Group(scale, offset, c) for c in self.step_channels)
        return steps

    def group_pixels(self, group):
        """`[n, 2]` full-size (row, column) of the group's pixels, raster order."""
        height, width = self.sides[group.scale]
        stride = 2**group.scale
        rows = np.arange(group.offset[0], height, 2) * stride
        cols = np.arange(group.offset[1], width, 2) * stride
        grid = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)
        return grid.reshape(-1, 2)

    # ----- the order --------------------------------------------------------------

    @property
    def step_channels(self):
        """The channel each step of a pixel draws: 0 .. C - 1, or -1 alone for whole pixels."""
        return (-1,) if self.whole_pixels else tuple(range(self.image_shape[2]))

    @property
    def num_base_steps(self):
        return int(np.prod(self.sides[-1])) * len(self.step_channels)

    @property
    def max_group_pixels(self):
        """The most pixels one step draws (1 for the base steps)."""
        return max([1] + [len(self.group_pixels(group)) for group in self.groups()])

    @property
    def num_steps(self):
        """Network evaluations to draw one image: one per base sub-pixel, one
        per (scale, group, channel) after it."""
        return self.num_base_steps + len(self.groups())

    def base_order(self):
        """`[num_base_steps, 3]` (row, column, channel) of the base steps at
        full size, raster order with channels inside a pixel (channel -1:
        whole pixels)."""
        height, width = self.sides[-1]
        channels = np.array(self.step_channels)
        rows, cols, chans = np.meshgrid(np.arange(height), np.arange(width), channels, indexing="ij")
        order = np.stack([rows * self.base_stride, cols * self.base_stride, chans], axis=-1)
        return order.reshape(-1, 3)

    def sampling_order(self):
        """`[H * W * C, 3]` (row, column, channel) of every sub-pixel in the
        order drawn: the base, then each group's pixels (raster order inside
        a group, which draws them at once); `[H * W, 3]` with channel -1 for
        whole pixels."""
        parts = [self.base_order()]
        for group in self.groups():
            pixels = self.group_pixels(group)
            parts.append(np.concatenate([pixels, np.full([len(pixels), 1], group.channel)], axis=1))
        return np.concatenate(parts).astype(np.int64)

    def step_of_subpixel(self):
        """`[H, W, C]` int: the step that draws each sub-pixel (base steps
        first, then the groups). A sub-pixel may read exactly those whose
        step is smaller."""
        steps = np.full(self.image_shape, -1, np.int64)
        base = self.base_order()
        channel = slice(None) if self.whole_pixels else base[:, 2]
        steps[base[:, 0], base[:, 1], channel] = np.arange(len(base))[:, None] if self.whole_pixels else np.arange(len(base))
        for index, group in enumerate(self.groups()):
            pixels = self.group_pixels(group)
            channel = slice(None) if self.whole_pixels else group.channel
            steps[pixels[:, 0], pixels[:, 1], channel] = self.num_base_steps + index
        return steps

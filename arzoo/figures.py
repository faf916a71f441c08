"""PNG figures: sample grids, completions, causality maps."""

import io
import os

import numpy as np
from PIL import Image

from arzoo.files import atomic_write_bytes


def to_uint8(images, num_levels, grey_as_rgb=True):
    """Levels [0, L) -> 8-bit intensities; grey images get 3 equal channels
    unless `grey_as_rgb=False`."""
    images = np.asarray(images, np.float64)
    scaled = np.round(images * 255.0 / (num_levels - 1)).astype(np.uint8)
    if grey_as_rgb and scaled.shape[-1] == 1:
        scaled = np.repeat(scaled, 3, axis=-1)
    return scaled


def image_grid(images, num_levels, columns=None, padding=1, scale=None, background=255, grey_as_rgb=True):
    """Tile `[N, H, W, C]` level images into one `[rows*H', cols*W', C']` uint8
    grid, near-square by default; padding and empty cells are `background`."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"image_grid expects [N, H, W, C] images, got shape {images.shape}.")
    images = to_uint8(images, num_levels, grey_as_rgb)
    count, height, width, channels = images.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    scale = scale or max(1, 64 // max(height, width))
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    height, width = height * scale, width * scale
    grid = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        background,
        np.uint8,
    )
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def completion_rows(originals, known_mask, completions):
    """Stack per example: the original, the known part (unknown shown grey),
    and each completion, as in figure 1 of the PixelRNN paper.

    Args:
      originals: `[N, H, W, C]` levels.
      known_mask: `[N, H, W, C]` 0/1.
      completions: `[K, N, H, W, C]` levels, K completions per example.

    Returns `[N * (K + 2), H, W, C]` float levels, row-major for `image_grid`
    with `columns=K + 2`.
    """
    originals = np.asarray(originals, np.float64)
    known_mask = np.asarray(known_mask, bool)
    completions = np.asarray(completions, np.float64)
    occluded = np.where(known_mask, originals, np.nan)
    rows = []
    for i in range(originals.shape[0]):
        rows.append(originals[i])
        rows.append(occluded[i])
        rows.extend(completions[:, i])
    return np.stack(rows)


def coarse_to_fine_rows(images, strides):
    """Per image, one panel per scale of a coarse-to-fine sampler: the
    image as drawn when that scale was complete, `image[::s, ::s]` shown at
    full size (each pixel repeated s x s), coarsest first; the last panel
    (stride 1) is the sample.

    Args:
      images: `[N, H, W, C]` levels.
      strides: the scales' strides, coarsest first (e.g. [16, 8, 4, 2, 1]).

    Returns `[N * len(strides), H, W, C]` levels, row-major for `image_grid`
    with `columns=len(strides)`.
    """
    images = np.asarray(images)
    height, width = images.shape[1:3]
    panels = []
    for image in images:
        for stride in strides:
            coarse = image[::stride, ::stride]
            panels.append(coarse.repeat(stride, axis=0).repeat(stride, axis=1)[:height, :width])
    return np.stack(panels)


def check_png_path(path, name="path"):
    """`path` if it names a .png file, else a ValueError (PNG bytes under
    another suffix would mislead every viewer)."""
    if os.path.splitext(str(path))[1].lower() != ".png":
        raise ValueError(f"{name} {str(path)!r} must end in .png: the image is written as a PNG.")
    return path


def save_png(path, array):
    """Write a `[H, W, 3]` uint8 array as a PNG, atomically."""
    check_png_path(path)
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_grid(path, images, num_levels, columns=None):
    """`image_grid` of level images (NaN shown mid-grey) written as a PNG."""
    images = np.asarray(images, np.float64)
    images = np.where(np.isnan(images), (num_levels - 1) / 2.0, images)
    return save_png(path, image_grid(images, num_levels, columns=columns))


def dependency_figure(result, image_shape, scale=24):
    """Colour map of one audited position: read inputs blue (brightness =
    gradient size), the audited sub-pixel red, later positions white, unread
    earlier positions (blind spot or outside the field) black.

    Channels are shown side by side.
    """
    height, width, channels = image_shape
    dmap = result["map"]
    earlier = result["reads_earlier"] | result["unread_earlier"]
    largest = dmap.max() if dmap.max() > 0 else 1.0
    panels = []
    for c in range(channels):
        panel = np.full((height, width, 3), 255, np.uint8)
        panel[earlier[..., c]] = 0
        reads = result["reads_earlier"][..., c]
        strength = np.log1p(dmap[..., c] / largest * 99) / np.log(100)
        panel[reads, 1] = 60
        panel[reads, 2] = (80 + 175 * strength[reads]).astype(np.uint8)
        panel[result["reads_later"][..., c]] = [255, 200, 0]
        panels.append(panel)
    position = np.argwhere(result["step_mask"]) if "step_mask" in result else []
    for r, col, c in position:
        panels[c][r, col] = [220, 30, 30]
    gap = np.full((height, 1, 3), 128, np.uint8)
    joined = panels[0]
    for panel in panels[1:]:
        joined = np.concatenate([joined, gap, panel], axis=1)
    return joined.repeat(scale, axis=0).repeat(scale, axis=1)


def text_map(result, channel=0):
    """The audit as text rows: 'X' audited, '#' read, '.' unread earlier, ' ' later."""
    step_mask = result.get("step_mask")
    lines = []
    height, width, _ = result["map"].shape
    for r in range(height):
        row = []
        for c in range(width):
            if step_mask is not None and step_mask[r, c, channel]:
                row.append("X")
            elif result["reads_earlier"][r, c, channel]:
                row.append("#")
            elif result["reads_later"][r, c, channel]:
                row.append("!")
            elif result["unread_earlier"][r, c, channel]:
                row.append(".")
            else:
                row.append("-")
        lines.append(" ".join(row))
    return "\n".join(lines)


def _flat_categories(result):
    """Per position: 0 later, 1 unread earlier, 2 read, 3 read but later (violation), 4 audited."""
    categories = np.zeros(result["map"].shape, np.int8)
    categories[result["unread_earlier"]] = 1
    categories[result["reads_earlier"]] = 2
    categories[result["reads_later"]] = 3
    categories[result["step_mask"]] = 4
    return categories


def sequence_text_map(result, width=96):
    """The audit of a flat event (audio, text, vector) as one line of at most
    `width` characters, each standing for an equal run of positions: 'X' the
    audited step, '#' read, '.' earlier but unread, '-' later, '!' later but
    read (a violation); a run shows the most telling symbol it holds."""
    categories = _flat_categories(result)
    runs = np.array_split(categories, min(width, len(categories)))
    symbols = "-.#!X"
    rank = [0, 1, 2, 4, 3]  # '!' outranks even 'X': a violation must show
    return "".join(symbols[max(run, key=lambda c: rank[c])] for run in runs)


def sequence_dependency_figure(result, height=32, min_width=256):
    """The audit of a flat event as a strip, one column per position
    (stretched to at least `min_width` pixels): read positions blue
    (brightness = gradient size), the audited step red, later positions
    white, unread earlier ones black, violations amber."""
    categories = _flat_categories(result)
    dmap = result["map"]
    largest = dmap.max() if dmap.max() > 0 else 1.0
    strip = np.full((len(categories), 3), 255, np.uint8)
    strip[categories == 1] = 0
    reads = categories == 2
    strength = np.log1p(dmap / largest * 99) / np.log(100)
    strip[reads] = np.stack(
        [np.zeros(reads.sum()), np.full(reads.sum(), 60), 80 + 175 * strength[reads]], axis=1
    ).astype(np.uint8)
    strip[categories == 3] = [255, 200, 0]
    strip[categories == 4] = [220, 30, 30]
    repeat = max(1, -(-min_width // len(categories)))
    return np.repeat(strip[None], height, axis=0).repeat(repeat, axis=1)

"""Receptive fields against the papers: PixelCNN's blind spot, none in Gated PixelCNN.

The expected field is composed from the architecture (the Minkowski sum of
each layer's spatial support, as drawn in van den Oord et al. 2016b, figure 1)
and compared with the gradient audit exactly.
"""

import numpy as np
import pytest

from arzoo.evaluation import audit_position
from tests import test_case


def minkowski(a, b):
    return {(r1 + r2, c1 + c2) for r1, c1 in a for r2, c2 in b}


def box(rows, cols):
    return {(r, c) for r in rows for c in cols}


def pixelcnn_field(first_kernel, kernel, blocks):
    h0, h = first_kernel // 2, kernel // 2
    mask_a = box(range(-h0, 0), range(-h0, h0 + 1)) | box([0], range(-h0, 0))
    mask_b = box(range(-h, 0), range(-h, h + 1)) | box([0], range(-h, 1))
    field = mask_a
    for _ in range(blocks):
        field = minkowski(field, mask_b)
    return field


def gated_field(first_kernel, kernel, layers):
    h0, h = first_kernel // 2, kernel // 2
    vertical = box(range(-(h0 + 1), 0), range(-h0, h0 + 1))  # shifted down once
    horizontal = box([0], range(-h0, 0)) | vertical
    field = set(horizontal)
    down = box(range(-h, 1), range(-h, h + 1))
    right = box([0], range(-h, 1))
    for _ in range(layers):
        vertical = minkowski(vertical, down)
        horizontal = minkowski(horizontal, right) | vertical
        field |= horizontal
    return field


def read_pixels(family, position, **overrides):
    model = test_case.build_tiny(family, image_shape=[9, 9, 1], num_levels=4, num_filters=16, **overrides)
    result = audit_position(model, *position)
    reads = result["map"][..., 0] > 0
    assert not result["reads_later"].any()
    return model, {(int(r) - position[0], int(c) - position[1]) for r, c in zip(*np.nonzero(reads))}


def clip(field, position, shape):
    r0, c0 = position
    return {(r, c) for r, c in field if 0 <= r0 + r < shape[0] and 0 <= c0 + c < shape[1]}


def test_pixelcnn_has_the_papers_blind_spot():
    position = (6, 3)
    model, reads = read_pixels("pixelcnn", position, num_residual_blocks=2, first_kernel_size=3, kernel_size=3)
    expected = clip(pixelcnn_field(3, 3, 2), position, (9, 9))
    assert reads == expected
    # The blind spot: up and to the right of the pixel, inside the field's
    # bounding box, earlier in raster order, yet never read.
    assert (-1, 2) not in reads and (-1, 3) not in reads and (-2, 3) not in reads
    assert (-2, 2) in reads and (-3, 3) in reads and (-1, 1) in reads
    rows = range(min(r for r, _ in reads), 0)
    cols = range(min(c for _, c in reads), max(c for _, c in reads) + 1)
    blind = clip(box(rows, cols), position, (9, 9)) - reads
    assert len(blind) >= 3


@pytest.mark.parametrize("kernels", [(3, 3), (5, 3)])
def test_gated_pixelcnn_has_no_blind_spot(kernels):
    position = (6, 4)
    first, kernel = kernels
    model, reads = read_pixels(
        "gated_pixelcnn", position, num_layers=2, first_kernel_size=first, kernel_size=kernel
    )
    expected = clip(gated_field(first, kernel, 2), position, (9, 9))
    assert reads == expected
    # No blind spot: every earlier pixel inside the field's bounding box is read.
    top = min(r for r, _ in reads)
    width = max(abs(c) for r, c in reads if r < 0)
    above = clip(box(range(top, 0), range(-width, width + 1)), position, (9, 9))
    assert above <= reads
    assert clip(box([0], range(-(first // 2) - 2 * (kernel // 2), 0)), position, (9, 9)) <= reads


def test_gated_pixelcnn_reads_every_earlier_pixel_of_a_small_image():
    model = test_case.build_tiny("gated_pixelcnn", image_shape=[4, 4, 3], num_levels=4, num_filters=12)
    result = audit_position(model, 3, 3, channel=2)
    assert result["reads_earlier"].sum() == 4 * 4 * 3 - 1
    assert not result["unread_earlier"].any()
    assert not result["reads_later"].any()


def test_rgb_channel_order_inside_a_pixel():
    # Channel c of a pixel reads channels < c of that pixel and nothing of later ones.
    for family in ("pixelcnn", "gated_pixelcnn"):
        model = test_case.build_tiny(family, image_shape=[3, 3, 3], num_levels=4)
        for channel in range(3):
            result = audit_position(model, 1, 1, channel=channel)
            here = result["map"][1, 1] > 0
            assert list(here) == [c < channel for c in range(3)], (family, channel, here)

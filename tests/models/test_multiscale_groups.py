"""The geometry of the multiscale parallel PixelCNN (Reed et al. 2017): which
sub-pixels each step draws, for square, odd, non-square and colour images."""

import numpy as np
import pytest

from arzoo.models.multiscale_groups import GROUP_OFFSETS, MultiscaleGroups

SHAPES = [
    ((28, 28, 1), 7), ((32, 32, 3), 4), ((9, 7, 2), 2), ((5, 12, 1), 3), ((2, 2, 1), 1), ((64, 64, 1), 4),
    ((17, 1, 1), 4),
]


@pytest.mark.parametrize("shape, base", SHAPES)
def test_every_subpixel_is_drawn_once(shape, base):
    groups = MultiscaleGroups(shape, base)
    order = groups.sampling_order()
    assert order.shape == (int(np.prod(shape)), 3)
    assert len({tuple(row) for row in order}) == len(order)
    steps = groups.step_of_subpixel()
    assert steps.min() == 0 and steps.max() == groups.num_steps - 1
    # The order lists sub-pixels by their step, and each group step writes one channel.
    np.testing.assert_array_equal(np.diff(steps[order[:, 0], order[:, 1], order[:, 2]]) >= 0, True)
    assert len(np.unique(steps)) == groups.num_steps


@pytest.mark.parametrize("shape, base", SHAPES)
def test_the_base_is_the_subsampled_image_in_raster_order(shape, base):
    groups = MultiscaleGroups(shape, base)
    stride = groups.base_stride
    height, width = groups.base_shape[:2]
    assert max(height, width) <= base < max(groups.sides[-2])
    assert (height, width) == (len(range(0, shape[0], stride)), len(range(0, shape[1], stride)))
    base_steps = groups.step_of_subpixel()[::stride, ::stride]
    np.testing.assert_array_equal(base_steps.reshape(-1), np.arange(groups.num_base_steps))


@pytest.mark.parametrize("shape, base", SHAPES)
def test_a_group_reads_only_coarser_scales_and_earlier_groups(shape, base):
    """Everything at the scale above (the blocks' upper-left pixels) is drawn
    before a scale's groups; the groups of a scale go (0, 1), (1, 0), (1, 1);
    a group's pixels are exactly its scale's pixels at its offset."""
    groups = MultiscaleGroups(shape, base)
    steps = groups.step_of_subpixel()
    for index, group in enumerate(groups.groups()):
        step = groups.num_base_steps + index
        coarser = steps[:: 2 ** (group.scale + 1), :: 2 ** (group.scale + 1)]
        assert coarser.max() < step
        drawn = np.argwhere(steps == step)
        assert set(drawn[:, 2]) == {group.channel}
        stride = 2**group.scale
        assert np.all(drawn[:, 0] % (2 * stride) == group.offset[0] * stride)
        assert np.all(drawn[:, 1] % (2 * stride) == group.offset[1] * stride)
        expected = {(r, c) for r in range(group.offset[0] * stride, shape[0], 2 * stride)
                    for c in range(group.offset[1] * stride, shape[1], 2 * stride)}
        assert {(r, c) for r, c, _ in drawn} == expected
    for scale in range(groups.num_scales):
        offsets = [g.offset for g in groups.groups() if g.scale == scale]
        assert list(dict.fromkeys(offsets)) == [o for o in GROUP_OFFSETS if o in offsets]
        assert len(offsets) == len(set(offsets)) * shape[2]  # every channel of each group


def test_steps_grow_with_the_log_of_the_side():
    """A raster sampler takes H * W * C steps; this one 3 * C per doubling after the base."""
    counts = {side: MultiscaleGroups((side, side, 1), 4).num_steps for side in (32, 64, 128, 256)}
    assert counts == {32: 16 + 3 * 3, 64: 16 + 4 * 3, 128: 16 + 5 * 3, 256: 16 + 6 * 3}
    assert MultiscaleGroups((64, 64, 3), 4).num_steps == 48 + 4 * 3 * 3
    assert MultiscaleGroups((28, 28, 1), 7).num_steps == 49 + 2 * 3


def test_empty_groups_are_left_out():
    groups = MultiscaleGroups((17, 1, 1), 4)  # one column: no (0, 1) or (1, 1) group at any scale
    assert {g.offset for g in groups.groups()} == {(1, 0)}


@pytest.mark.parametrize("shape, base, words", [
    ((4, 4, 1), 4, "no larger than base_size 4"),
    ((3, 2, 1), 8, "no larger than base_size 8"),
    ((8, 8, 1), 0, "base_size must be an integer >= 1"),
    ((8, 8), 2, "image_shape must be [height, width, channels]"),
    ((8, 0, 1), 2, "image_shape[1] must be an integer >= 1"),
])
def test_bad_shapes_are_named(shape, base, words):
    with pytest.raises(ValueError) as info:
        MultiscaleGroups(shape, base)
    assert words in str(info.value)

"""Per-row uniforms: prefix-stable across lengths, and step t drawn alone
(`step_uniforms_at`) equals step t of the whole draw."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.sampling.seeds import _skip_blocks, row_seeds, step_uniforms, step_uniforms_at

SEEDS = np.array([[0, 0], [3, 7], [-1, -1], [2**31 - 1, -(2**31)], [12345, -678]], np.int32)


@pytest.mark.parametrize("num_uniforms", [1, 2, 3, 4, 5])
def test_a_longer_draw_only_appends(num_uniforms):
    longest = step_uniforms(SEEDS, 41, num_uniforms).numpy()
    for length in (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33):
        np.testing.assert_array_equal(
            step_uniforms(SEEDS, length, num_uniforms).numpy(), longest[:, :length], err_msg=str(length)
        )


@pytest.mark.parametrize("num_uniforms", [1, 2, 3, 4, 5])
def test_step_drawn_alone_equals_the_whole_draw(num_uniforms):
    whole = step_uniforms(SEEDS, 40, num_uniforms).numpy()
    for t in range(40):
        steps = np.full([len(SEEDS)], t, np.int32)
        np.testing.assert_array_equal(
            step_uniforms_at(SEEDS, steps, num_uniforms).numpy(), whole[:, t], err_msg=f"step {t}"
        )
    # Rows at different steps, as the image models' step signature sees them.
    steps = np.array([0, 5, 39, 17, 3], np.int32)
    np.testing.assert_array_equal(
        step_uniforms_at(SEEDS, steps, num_uniforms).numpy(), whole[np.arange(len(SEEDS)), steps]
    )


def test_far_steps_and_graph_mode():
    seeds = row_seeds([0, 9], 2).numpy()
    whole = step_uniforms(seeds, 160_003, 1).numpy()
    at = tf.function(lambda s, t: step_uniforms_at(s, t, 1))
    for t in (4095, 4096, 65_537, 160_000, 160_002):
        np.testing.assert_array_equal(at(seeds, np.array([t, t], np.int32)).numpy(), whole[:, t])


def test_counter_carries_across_words():
    top = 2**64 - 1
    np.testing.assert_array_equal(_skip_blocks(tf.constant([top, 5], tf.uint64), tf.constant(3, tf.int64)), [2, 6])
    np.testing.assert_array_equal(_skip_blocks(tf.constant([top, top], tf.uint64), tf.constant(1, tf.int64)), [0, 0])
    np.testing.assert_array_equal(
        _skip_blocks(tf.constant([2**32 - 1, 0], tf.uint64), tf.constant(2**32 + 1, tf.int64)), [2**33, 0]
    )

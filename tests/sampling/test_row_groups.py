"""Sampling in parallel groups of rows gives the same samples as one call."""

import numpy as np
import tensorflow as tf

from arzoo.sampling.row_groups import call_in_row_groups, max_row_groups, num_row_groups
from tests.models.test_wavenet import make, random_condition


def test_groups_concatenate_to_the_whole():
    fn = lambda x, y, none: x * 2 + tf.reduce_sum(y, axis=1)  # noqa: E731
    x = tf.range(10.0)
    y = tf.reshape(tf.range(30.0), [10, 3])
    np.testing.assert_array_equal(call_in_row_groups(fn, 3, x, y, None), fn(x, y, None))


def test_group_count():
    assert num_row_groups(1) == 1
    assert num_row_groups(16, max_groups=2) == 2
    assert num_row_groups(5, max_groups=8) == 1
    assert num_row_groups(64, max_groups=3) == 3
    gpu = bool(tf.config.list_logical_devices("GPU"))  # a GPU runs a batch in one call
    assert max_row_groups(3) == (1 if gpu else 3) and max_row_groups() >= 1


def test_one_group_inside_a_graph():
    assert tf.function(lambda: tf.constant(num_row_groups(64, max_groups=4)))() == 1


def test_wavenet_samples_do_not_depend_on_grouping():
    model = make("both")
    condition = random_condition(model, 9)
    model.sampling_threads = 1
    whole = model.sample(9, seed=4, condition=condition).numpy()
    model.sampling_threads = 2
    assert num_row_groups(9, 2) == 2
    np.testing.assert_array_equal(model.sample(9, seed=4, condition=condition), whole)

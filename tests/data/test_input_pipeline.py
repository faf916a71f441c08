"""make_input_pipeline: batching, remainder, repetition, seeded shuffling."""

import numpy as np
import pytest
import tensorflow as tf

from arzoo.data import make_input_pipeline


def _examples(n):
    return tf.data.Dataset.range(n).map(lambda i: {"image": tf.fill([2, 2, 1], i), "label": i})


def _labels(dataset, batches):
    return [batch["label"].numpy().tolist() for batch in dataset.take(batches)]


def test_one_pass_without_shuffle_keeps_order_and_remainder():
    ds = make_input_pipeline(_examples(10), 4, shuffle=False, repeat=False, drop_remainder=False)
    assert _labels(ds, 10) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    ds = make_input_pipeline(_examples(10), 4, shuffle=False, repeat=False)
    assert _labels(ds, 10) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert ds.element_spec["image"].shape == (4, 2, 2, 1)


def test_repeat_and_seeded_shuffle():
    first = _labels(make_input_pipeline(_examples(10), 5, seed=3), 6)
    again = _labels(make_input_pipeline(_examples(10), 5, seed=3), 6)
    other = _labels(make_input_pipeline(_examples(10), 5, seed=4), 6)
    assert first == again and first != other
    # Every epoch (two batches) holds each example once, reshuffled per epoch.
    epochs = [sorted(first[i] + first[i + 1]) for i in (0, 2, 4)]
    assert epochs == [list(range(10))] * 3
    assert first[0] + first[1] != first[2] + first[3]


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size=0"):
        make_input_pipeline(_examples(3), 0)

"""Shifting a feature map by one row or column, filling with zeros."""

import tensorflow as tf


def down_shift(x):
    """Row r of the result is row r - 1 of `x` (row 0 is zeros). `[B, H, W, C]`."""
    return tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]


def right_shift(x):
    """Column c of the result is column c - 1 of `x` (column 0 is zeros)."""
    return tf.pad(x, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1]

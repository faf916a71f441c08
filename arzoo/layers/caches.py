"""Shared pieces of cached (incremental) sampling.

A convolutional autoregressive model computed one position at a time only
needs, for every layer, the part of its input that later positions still
read (Ramachandran et al. 2017, "Fast Generation for Convolutional
Autoregressive Models", arXiv:1704.06001; Paine et al. 2016, "Fast Wavenet
Generation Algorithm", arXiv:1611.09482). These helpers keep such caches as
plain tensors in the state nest, so state is explicit (a stateless server can
stream it) and every update is a fixed-shape op inside one `tf.while_loop`:

* rolling buffers: the last n rows (or pixels) a layer reads, shifted by one
  when a new one is complete (`push`);
* windows: the slice of a padded row a kernel covers at one column (`window`);
* positions: which row / column / channel a scalar step index names.
"""

import tensorflow as tf


def push(buffer, new, axis):
    """Drop the oldest entry of `buffer` along `axis` and append `new` (size 1 there)."""
    if buffer.shape[axis] == 0:
        return buffer
    begin = [0] * buffer.shape.rank
    begin[axis] = 1
    return tf.concat([tf.slice(buffer, begin, [-1] * buffer.shape.rank), new], axis=axis)


def window(tensor, start, size, axis):
    """`size` entries of `tensor` along `axis` from the (dynamic) index `start`."""
    begin = [0] * tensor.shape.rank
    begin[axis] = start
    sizes = [-1] * tensor.shape.rank
    sizes[axis] = size
    return tf.slice(tensor, tf.stack(begin), sizes)


def pad_columns(tensor, left, right):
    """Zero-pad the width axis (axis 2) of a `[B, rows, W, C]` tensor."""
    return tf.pad(tensor, [[0, 0], [0, 0], [left, right], [0, 0]])


def condition_at(condition, row, col=None):
    """The part of an encoded condition that position (row[, col]) reads:
    a vector condition `[B, D]` is the same everywhere; a spatial one
    `[B, H, W, D]` is cut to its row `[B, 1, W, D]` or pixel `[B, 1, 1, D]`."""
    if condition is None or condition.shape.rank == 2:
        return condition
    rows = window(condition, row, 1, axis=1)
    return rows if col is None else window(rows, col, 1, axis=2)


def step_position(model, position):
    """Scalar (step, row, column, channel, is_row_start, is_pixel_end) of the
    step every batch row is at (cached states advance all rows together)."""
    height, width, _ = model.image_shape
    spp = model.head.steps_per_pixel
    step = position[0]
    pixel = step // spp
    channel = step % spp
    row, col = pixel // width, pixel % width
    return step, row, col, channel, tf.logical_and(col == 0, channel == 0), channel == spp - 1


def write_at(buffer, index, value, in_place=False):
    """`buffer` `[B, N, C]` with entry `index` (a scalar) of axis 1 set to `value` `[B, C]`.

    A circular queue written this way costs one entry per step only if the
    write happens in place. Inside an XLA-compiled loop that needs XLA's own
    dynamic-update-slice (`in_place=True`; TF's scatter and strided-slice
    updates make XLA copy the whole buffer every step, or do not compile
    with a dynamic index). That op exists only under XLA, so graphs that
    must load anywhere (SavedModel signatures) use `TensorStridedSliceUpdate`.
    """
    value = tf.cast(value, buffer.dtype)[:, None]
    if in_place:
        from tensorflow.compiler.tf2xla.python import xla  # no public API for this op

        return xla.dynamic_update_slice(buffer, value, tf.stack([0, index, 0]))
    begin = tf.stack([0, index, 0])
    end = tf.stack([tf.shape(buffer)[0], index + 1, tf.shape(buffer)[2]])
    updated = tf.raw_ops.TensorStridedSliceUpdate(
        input=buffer, begin=begin, end=end, strides=tf.constant([1, 1, 1]), value=value
    )
    return tf.ensure_shape(updated, buffer.shape)


def dilated_taps(queue, t, dilation, value, in_place=False):
    """The inputs a dilated causal convolution of kernel K reads at time t,
    from a circular queue of its last (K - 1) d inputs (Paine et al. 2016).

    Args:
      queue: `[B, (K - 1) d, C]`, input s at slot s mod (K - 1) d.
      t: the time step (a scalar).
      dilation: d.
      value: `[B, C]`, the input at time t.
      in_place: as for `write_at`.

    Returns `(taps [B, K, C]` of times t - (K - 1) d, ..., t - d, t (oldest
    first), the queue with `value` written in)`.
    """
    length = queue.shape[1]
    k = length // dilation
    if k == 1:  # one slice is cheaper than a gather
        taps = tf.slice(queue, tf.stack([0, t % length, 0]), [-1, 1, -1])
    else:
        taps = tf.gather(queue, (t + tf.range(-k, 0) * dilation) % length, axis=1)
    taps = tf.concat([taps, tf.cast(value, queue.dtype)[:, None]], axis=1)
    return taps, write_at(queue, t % length, value, in_place=in_place)


def write_block(buffer, value, row, col, in_place=False):
    """`buffer` `[B, H, W, C]` with `value` `[B, h, w, C]` written at (row, col)
    (scalars), in place under XLA as `write_at` explains."""
    value = tf.cast(value, buffer.dtype)
    zero = tf.constant(0, tf.int32)
    begin = tf.stack([zero, tf.cast(row, tf.int32), tf.cast(col, tf.int32), zero])
    if in_place:
        from tensorflow.compiler.tf2xla.python import xla  # no public API for this op

        return xla.dynamic_update_slice(buffer, value, begin)
    end = begin + tf.stack([tf.shape(buffer)[0], value.shape[1], value.shape[2], tf.shape(buffer)[3]])
    updated = tf.raw_ops.TensorStridedSliceUpdate(
        input=buffer, begin=begin, end=end, strides=tf.constant([1, 1, 1, 1]), value=value
    )
    return tf.ensure_shape(updated, buffer.shape)


def read_block(buffer, row, col, height, width):
    """The `[B, height, width, C]` block of `buffer` at (row, col) (scalars)."""
    return window(window(buffer, row, height, axis=1), col, width, axis=2)

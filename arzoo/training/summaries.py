"""TensorBoard output: scalars and grids of images (the event spaces write
their samples with these; `arzoo.events`).

Everything goes to `<output_dir>/tensorboard`. Non-chief workers get a
writer that writes nothing.

The summaries are written with the generic `tf.summary.write` op and the
metadata of TensorBoard's "scalars" and "images" plugins, exactly what
`tf.summary.scalar` / `tf.summary.image` write, but without needing the
`tensorboard` package at training time (only to view the logs).
"""

import os

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from arzoo import figures

TENSORBOARD_SUBDIR = "tensorboard"


def _plugin_metadata(plugin_name):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin_name)
    )


def scalar_summary(name, value, step):
    """`tf.summary.scalar` without the tensorboard package."""
    return tf.summary.write(
        name, tf.constant(float(value), tf.float32), step=step,
        metadata=_plugin_metadata("scalars"),
    )


def image_summary(name, images, step):
    """`tf.summary.image` for `[N, H, W, C]` uint8 images, without tensorboard."""
    images = tf.convert_to_tensor(images, tf.uint8)
    height, width = int(images.shape[1]), int(images.shape[2])
    encoded = [tf.io.encode_png(image) for image in tf.unstack(images)]
    tensor = tf.stack([tf.constant(str(width)), tf.constant(str(height))] + encoded)
    return tf.summary.write(name, tensor, step=step, metadata=_plugin_metadata("images"))


def make_writer(output_dir, chief=True):
    """A `tf.summary` writer into `<output_dir>/tensorboard` (no-op if not chief)."""
    if not chief:
        return tf.summary.create_noop_writer()
    return tf.summary.create_file_writer(os.path.join(output_dir, TENSORBOARD_SUBDIR))


def write_scalars(writer, step, scalars):
    """Write `{name: float}` at `step`."""
    with writer.as_default(step=int(step)):
        for name, value in scalars.items():
            scalar_summary(name, value, int(step))
    writer.flush()


def image_grid(images, num_levels):
    """Tile `[N, H, W, C]` levels into one `[1, rows * H, cols * W, C']` uint8
    image for `tf.summary.image` (no padding, black empty cells); C' = C for
    1, 3 or 4 channels, else the first channel. See `arzoo.figures.image_grid`."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] not in (1, 3, 4):
        images = images[..., :1]
    grid = figures.image_grid(images, num_levels, padding=0, scale=1, background=0, grey_as_rgb=False)
    return grid[None]

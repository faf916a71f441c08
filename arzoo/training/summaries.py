"""TensorBoard output: scalars and grids of sampled images.

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


def sample_condition(model, num_samples):
    """Labels 0, 1, 2, ... (cycling) for a class-conditional model, else None."""
    if model.num_classes is None:
        return None
    return np.arange(num_samples, dtype=np.int32) % model.num_classes


def write_samples(writer, step, model, num_samples, seed, output_dir=None):
    """Draw `num_samples` images (seed `[seed, step]`) and log them as a grid;
    audio models write WAV files to `<output_dir>/samples/` instead."""
    if model.modality == "audio":
        return write_audio_samples(output_dir, step, model, num_samples, seed)
    samples = model.sample(
        num_samples, seed=[int(seed), int(step)], condition=sample_condition(model, num_samples)
    )
    grid = image_grid(np.asarray(samples), model.num_levels)
    with writer.as_default(step=int(step)):
        image_summary("samples", grid, int(step))
    writer.flush()
    return grid


def write_audio_samples(output_dir, step, model, num_samples, seed):
    """`<output_dir>/samples/step<step>_<i>.wav`: unconditional models and
    speaker models (speaker i mod num_speakers); models that need local
    features have none to draw from here and write nothing."""
    from arzoo.data.audio import write_wav

    if model.local_channels or output_dir is None:
        return []
    condition = None
    if model.num_speakers:
        condition = np.arange(num_samples, dtype=np.int32) % model.num_speakers
    levels = model.sample(num_samples, seed=[int(seed), int(step)], condition=condition)
    audio = np.clip(np.asarray(model.decode_audio(levels)), -1.0, 1.0)
    folder = os.path.join(output_dir, "samples")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, clip in enumerate(audio):
        paths.append(os.path.join(folder, f"step{int(step)}_{i}.wav"))
        write_wav(paths[-1], clip, model.sample_rate)
    return paths

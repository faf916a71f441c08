"""Geometric and colour conversions applied to images before quantization."""

import tensorflow as tf


def resize_and_center_crop(image, image_size):
    """Scales `image` so it covers `image_size`, then crops the centre.

    The shorter side (relative to the target aspect ratio) is scaled to fit;
    area interpolation when shrinking, bilinear when enlarging; the result is
    rounded back to the input dtype.

    Args:
      image: [H, W, C] integer tensor.
      image_size: (height, width) of the result.

    Returns:
      [height, width, C] tensor with `image`'s dtype.
    """
    height, width = (int(s) for s in image_size)
    shape = tf.shape(image)
    in_h = tf.cast(shape[0], tf.float32)
    in_w = tf.cast(shape[1], tf.float32)
    scale = tf.maximum(height / in_h, width / in_w)
    new_h = tf.maximum(height, tf.cast(tf.math.round(in_h * scale), tf.int32))
    new_w = tf.maximum(width, tf.cast(tf.math.round(in_w * scale), tf.int32))
    as_float = tf.cast(image, tf.float32)
    resized = tf.cond(
        scale < 1.0,
        lambda: tf.image.resize(as_float, [new_h, new_w], method="area"),
        lambda: tf.image.resize(as_float, [new_h, new_w], method="bilinear"),
    )
    top = (new_h - height) // 2
    left = (new_w - width) // 2
    cropped = tf.image.crop_to_bounding_box(resized, top, left, height, width)
    max_value = image.dtype.max if image.dtype.is_integer else None
    rounded = tf.math.round(cropped)
    if max_value is not None:
        rounded = tf.clip_by_value(rounded, 0.0, float(max_value))
    return tf.cast(rounded, image.dtype)


def convert_channels(image, channels):
    """[H, W, C] with C in {1, 2, 3, 4} -> [H, W, channels], channels in {1, 3}.

    Alpha (the last of 2 or 4 channels) is dropped; RGB -> grey uses ITU-R 601
    luma (tf.image.rgb_to_grayscale), rounded.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels={channels} must be 1 or 3.")
    in_channels = image.shape[-1]
    if in_channels is None:
        raise ValueError("convert_channels needs a static channel dimension.")
    if in_channels in (2, 4):
        in_channels -= 1
        image = image[..., :in_channels]
    if in_channels == channels:
        return image
    if in_channels == 1:
        return tf.image.grayscale_to_rgb(image)
    if in_channels == 3:
        grey = tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))
        return tf.cast(tf.math.round(grey), image.dtype)
    raise ValueError(f"Cannot convert an image with {in_channels} channels.")

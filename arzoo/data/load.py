"""`load_dataset`: a named image dataset as int32 levels in [0, num_levels)."""

import tensorflow as tf
import tensorflow_datasets as tfds

from arzoo.data.quantize import to_levels, validate_levels
from arzoo.data.sources import open_source, prepare
from arzoo.data.transforms import convert_channels, resize_and_center_crop


def load_dataset(
    name,
    split,
    num_levels,
    *,
    binarize=None,
    binarize_seed=0,
    data_dir=None,
    image_folder=None,
    image_size=None,
    channels=None,
    shuffle_files=False,
):
    """Examples `{"image": int32 [H, W, C] in [0, num_levels), "label": int32 []}`.

    Offline names: "digits" (scikit-learn, 8x8x1, 17 levels), "fashion_mnist_local"
    (Debian's IDX files, 28x28x1, 256 levels) and "image_folder" (any folder,
    see arzoo.data.builders.image_folder). Any other name is a TFDS catalogue
    dataset (mnist, binarized_mnist, fashion_mnist, cifar10,
    downsampled_imagenet/32x32, celeb_a, ...), downloaded on first use. All are
    prepared into `data_dir` once and read through TFDS.

    Values `v` in [0, L) (L = the dataset's native levels) become
    `floor(v * num_levels / L)`; with `binarize`, 2 levels from the intensity
    `v / (L - 1)` (see arzoo.data.quantize). Stochastic binarization is keyed
    on `binarize_seed` and each example's TFDS id, so a split binarizes the
    same way in every run, whatever the file order.

    Args:
      name: dataset name, optionally with TFDS config / version
        ("downsampled_imagenet/32x32").
      split: TFDS split, slices allowed ("train", "test[:10%]").
      num_levels: levels to quantize to, 2 <= num_levels <= native levels.
      binarize: None, "threshold" or "stochastic"; needs num_levels=2.
      binarize_seed: seed of the stochastic binarization.
      data_dir: where prepared datasets live; default $ARZOO_DATA_DIR, else
        TFDS's default ($TFDS_DATA_DIR or ~/tensorflow_datasets).
      image_folder: the folder, for name="image_folder".
      image_size: (height, width): required for image_folder (resized when
        preparing); for other names, resize when reading. Both scale to cover
        and centre-crop.
      channels: 1 or 3: for image_folder, channels to decode to (default 3);
        for other names, convert when reading.
      shuffle_files: let TFDS interleave files in random order.

    Returns:
      An unbatched `tf.data.Dataset`.

    Raises:
      ValueError: bad num_levels / binarize / image_size / channels / name.
      FileNotFoundError: an offline dataset's files are missing.
      DatasetUnavailableError: a catalogue dataset could not be downloaded.

    Example:
    ```python
    ds = load_dataset("digits", "train", num_levels=4)
    next(iter(ds))["image"].shape  # TensorShape([8, 8, 1])
    ```
    """
    source = open_source(
        name,
        data_dir=data_dir,
        image_folder=image_folder,
        image_size=image_size,
        channels=channels,
    )
    validate_levels(num_levels, source.native_levels, binarize)
    prepare(source)
    dataset = source.builder.as_dataset(
        split=split,
        shuffle_files=shuffle_files,
        read_config=tfds.ReadConfig(add_tfds_id=binarize == "stochastic"),
    )

    def to_example(features):
        image = features[source.image_key]
        if source.image_size is not None:
            image = resize_and_center_crop(image, source.image_size)
        if source.channels is not None:
            image = convert_channels(image, source.channels)
        image = to_levels(image, num_levels, source.native_levels, binarize, binarize_seed, features.get("tfds_id"))
        if source.label_key is None:
            label = tf.constant(0, tf.int32)
        else:
            label = tf.cast(features[source.label_key], tf.int32)
        return {"image": tf.ensure_shape(image, source.image_shape), "label": label}

    return dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)

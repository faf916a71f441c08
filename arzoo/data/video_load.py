"""`load_video_dataset`: a named video dataset as int32 levels in [0, num_levels).

Offline: "moving_fashion_mnist" (arzoo.data.builders.moving_fashion_mnist),
optionally with its config, "moving_fashion_mnist/64x64_20frames" (default
32x32_10frames). Any other name is a TFDS catalogue dataset with a video
feature (`moving_mnist`: 10,000 sequences of 20 64x64 frames, a `test` split
only, so give `train_split: "test[:9000]"`, `test_split: "test[9000:]"`),
downloaded on first use and failing fast offline with
`DatasetUnavailableError`, as arzoo.data.sources does for images.
"""

import dataclasses
import logging

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from arzoo.data import sources
from arzoo.data.builders import VIDEO_BUILDERS
from arzoo.data.builders.moving_fashion_mnist import DEFAULT_CONFIG
from arzoo.data.quantize import to_levels, validate_levels

VIDEO_OFFLINE_NAMES = tuple(VIDEO_BUILDERS)
_VIDEO_ALTERNATIVES = (
    f"use the offline video dataset {VIDEO_OFFLINE_NAMES[0]} "
    "(it needs `sudo apt-get install dataset-fashion-mnist`)"
)


class _TfdsOwnDeprecationFilter(logging.Filter):
    """TFDS 4.9's own decoder of encoded `Tensor` features reads the
    deprecated `FeatureConnector.dtype` (tensor_feature.py, decode_example)
    and logs a warning at every dataset it decodes: nothing a user of these
    videos can change, so it is held back."""

    def filter(self, record):
        return "`FeatureConnector.dtype` is deprecated" not in record.getMessage()


logging.getLogger("absl").addFilter(_TfdsOwnDeprecationFilter())


@dataclasses.dataclass(frozen=True)
class VideoSource:
    """A builder plus what arzoo needs to read videos from it.

    Attributes:
      name: the name asked for.
      builder: the (maybe not yet prepared) TFDS builder.
      offline: whether preparing it needs no network.
      video_key: the video feature's key.
      label_key: the label feature's key, or None (labels are then 0).
      native_levels: values are integers in [0, native_levels).
      num_classes: number of labels (1 when the dataset has none).
      video_shape: (T, H, W, C) as stored.
    """

    name: str
    builder: tfds.core.DatasetBuilder
    offline: bool
    video_key: str
    label_key: str | None
    native_levels: int
    num_classes: int
    video_shape: tuple


def open_video_source(name, *, data_dir=None):
    """The `VideoSource` of `name`; nothing is downloaded or prepared yet."""
    data_dir = sources.resolve_data_dir(data_dir)
    base, _, config_name = name.partition("/")
    if base in VIDEO_BUILDERS:
        builder = sources.offline_builder(VIDEO_BUILDERS[base], config_name or DEFAULT_CONFIG, data_dir)
        offline = True
    else:
        builder = sources.catalogue_builder(name, data_dir, VIDEO_OFFLINE_NAMES, kind="video dataset")
        offline = False
    features = builder.info.features
    keys = [k for k, f in features.items() if isinstance(f, tfds.features.Video)
            or (isinstance(f, tfds.features.Tensor) and len(f.shape) == 4)]
    if not keys:
        raise ValueError(
            f"Dataset {name!r} has no video feature ([frames, height, width, channels]; features: "
            f"{', '.join(features)})."
        )
    video = features[keys[0]]
    shape = tuple(video.shape)
    if None in shape:
        raise ValueError(
            f"Dataset {name!r} has videos of varying shape {shape}; arzoo's video models need a fixed "
            "number of frames and frame size."
        )
    label = features["label"] if "label" in features else None
    return VideoSource(
        name=name,
        builder=builder,
        offline=offline,
        video_key=keys[0],
        label_key=None if label is None else "label",
        native_levels=getattr(builder, "NATIVE_LEVELS", 2 ** (8 * np.dtype(video.np_dtype).itemsize)),
        num_classes=getattr(label, "num_classes", None) or 1,
        video_shape=shape,
    )


def prepare_video(source):
    """Prepare `source.builder` (downloading catalogue data) unless done."""
    if sources.is_prepared(source.builder):
        return
    if source.offline:
        sources.prepare_offline(source.builder)
    else:
        sources.download_catalogue(source.builder, source.name, _VIDEO_ALTERNATIVES)


def load_video_dataset(name, split, num_levels, *, binarize=None, binarize_seed=0, data_dir=None,
                       shuffle_files=False):
    """Examples `{"video": int32 [T, H, W, C] in [0, num_levels), "label": int32 []}`.

    Levels and binarization as `arzoo.data.load_dataset` (`floor(v *
    num_levels / L)`; "threshold" or "stochastic" binarization keyed on
    `binarize_seed` and each example's TFDS id).

    Args:
      name: "moving_fashion_mnist[/<H>x<W>_<T>frames]" or a TFDS catalogue name ("moving_mnist").
      split: TFDS split, slices allowed ("train", "test[:10%]").
      num_levels: levels to quantize to.
      binarize: None, "threshold" or "stochastic"; needs num_levels=2.
      binarize_seed: seed of the stochastic binarization.
      data_dir: where prepared datasets live; default $ARZOO_DATA_DIR, else TFDS's default.
      shuffle_files: let TFDS interleave files in random order.

    Example:
    ```python
    ds = load_video_dataset("moving_fashion_mnist", "test", num_levels=256)
    next(iter(ds))["video"].shape  # TensorShape([10, 32, 32, 1])
    ```
    """
    source = open_video_source(name, data_dir=data_dir)
    validate_levels(num_levels, source.native_levels, binarize)
    prepare_video(source)
    dataset = source.builder.as_dataset(
        split=split, shuffle_files=shuffle_files,
        read_config=tfds.ReadConfig(add_tfds_id=binarize == "stochastic"),
    )

    def to_example(features):
        video = to_levels(features[source.video_key], num_levels, source.native_levels, binarize, binarize_seed,
                          features.get("tfds_id"))
        label = tf.constant(0, tf.int32) if source.label_key is None else tf.cast(features[source.label_key], tf.int32)
        return {"video": tf.ensure_shape(video, source.video_shape), "label": label}

    return dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)

"""`dataset_info`: a dataset's image shape, levels and classes, for configs."""

import dataclasses

from arzoo.data.sources import is_prepared, open_source


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a model config needs to know about a dataset.

    Attributes:
      name: the dataset name.
      image_shape: (H, W, C) of the images `load_dataset` yields with the same
        image_size / channels.
      native_levels: values are integers in [0, native_levels) before
        quantization (256 for 8-bit, 17 for digits, 2 for binarized_mnist).
      num_classes: number of labels (1 when the dataset has none).
      split_sizes: {split: examples}; empty until the dataset is prepared.
    """

    name: str
    image_shape: tuple
    native_levels: int
    num_classes: int
    split_sizes: dict


def dataset_info(name, *, data_dir=None, image_folder=None, image_size=None, channels=None):
    """The `DatasetInfo` of `name`, read from its builder without downloading."""
    source = open_source(
        name,
        data_dir=data_dir,
        image_folder=image_folder,
        image_size=image_size,
        channels=channels,
    )
    builder = source.builder
    split_sizes = (
        {split: info.num_examples for split, info in builder.info.splits.items()}
        if is_prepared(builder)
        else {}
    )
    return DatasetInfo(
        name=name,
        image_shape=source.image_shape,
        native_levels=source.native_levels,
        num_classes=source.num_classes,
        split_sizes=split_sizes,
    )

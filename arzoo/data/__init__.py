"""Image datasets for arzoo: TFDS everywhere, with offline builders.

`load_dataset` yields `{"image": int32 [H, W, C] in [0, num_levels),
"label": int32 []}` for the offline datasets (digits, fashion_mnist_local,
image_folder) and for any TFDS catalogue name; `dataset_info` describes one
without loading it; `make_input_pipeline` batches for training.
"""

from arzoo.data.builders import (
    OFFLINE_BUILDERS,
    Digits,
    FashionMnistLocal,
    ImageFolder,
    ImageFolderConfig,
    image_folder_config,
)
from arzoo.data.idx import read_idx
from arzoo.data.info import DatasetInfo, dataset_info
from arzoo.data.load import load_dataset
from arzoo.data.pipeline import make_input_pipeline
from arzoo.data.quantize import (
    BINARIZE_MODES,
    binarize_stochastic,
    binarize_threshold,
    quantize,
    validate_levels,
)
from arzoo.data.sources import (
    DATA_DIR_ENV_VAR,
    OFFLINE_NAMES,
    DatasetUnavailableError,
)

__all__ = [
    "BINARIZE_MODES",
    "DATA_DIR_ENV_VAR",
    "DatasetInfo",
    "DatasetUnavailableError",
    "Digits",
    "FashionMnistLocal",
    "ImageFolder",
    "ImageFolderConfig",
    "OFFLINE_BUILDERS",
    "OFFLINE_NAMES",
    "binarize_stochastic",
    "binarize_threshold",
    "dataset_info",
    "image_folder_config",
    "load_dataset",
    "make_input_pipeline",
    "quantize",
    "read_idx",
    "validate_levels",
]

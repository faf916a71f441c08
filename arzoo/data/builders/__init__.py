"""TFDS builders for the offline datasets (data already on the machine)."""

from arzoo.data.builders.digits import Digits
from arzoo.data.builders.fashion_mnist_local import FashionMnistLocal
from arzoo.data.builders.image_folder import (
    ImageFolder,
    ImageFolderConfig,
    image_folder_config,
)

OFFLINE_BUILDERS = {
    "digits": Digits,
    "fashion_mnist_local": FashionMnistLocal,
    "image_folder": ImageFolder,
}

__all__ = [
    "Digits",
    "FashionMnistLocal",
    "ImageFolder",
    "ImageFolderConfig",
    "OFFLINE_BUILDERS",
    "image_folder_config",
]

"""TFDS builders for the offline datasets (data already on the machine).

`OFFLINE_BUILDERS` holds the image builders (read by arzoo.data.sources),
`AUDIO_BUILDERS` the audio ones (read by arzoo.data.audio_load),
`VIDEO_BUILDERS` the video ones (read by arzoo.data.video_load).
"""

from arzoo.data.builders.dead_leaves import DeadLeaves
from arzoo.data.builders.digits import Digits
from arzoo.data.builders.fashion_mnist_local import FashionMnistLocal
from arzoo.data.builders.image_folder import (
    ImageFolder,
    ImageFolderConfig,
    image_folder_config,
)
from arzoo.data.builders.moving_fashion_mnist import MovingFashionMnist
from arzoo.data.builders.natural_patches import NaturalPatches
from arzoo.data.builders.photo_patches import PhotoPatches
from arzoo.data.builders.photo_patches_64 import PhotoPatches64
from arzoo.data.builders.wav_folder import WavFolder, WavFolderConfig, wav_folder_config

OFFLINE_BUILDERS = {
    "dead_leaves": DeadLeaves,
    "digits": Digits,
    "fashion_mnist_local": FashionMnistLocal,
    "image_folder": ImageFolder,
    "natural_patches": NaturalPatches,
    "photo_patches": PhotoPatches,
    "photo_patches_64": PhotoPatches64,
}

AUDIO_BUILDERS = {"wav_folder": WavFolder}

VIDEO_BUILDERS = {"moving_fashion_mnist": MovingFashionMnist}

__all__ = [
    "AUDIO_BUILDERS",
    "DeadLeaves",
    "Digits",
    "FashionMnistLocal",
    "ImageFolder",
    "ImageFolderConfig",
    "MovingFashionMnist",
    "NaturalPatches",
    "OFFLINE_BUILDERS",
    "PhotoPatches",
    "PhotoPatches64",
    "VIDEO_BUILDERS",
    "WavFolder",
    "WavFolderConfig",
    "image_folder_config",
    "wav_folder_config",
]

"""Model families; importing this package registers all of them."""

from arzoo.models.base import AutoregressiveImageModel
from arzoo.models.gated_pixelcnn import GatedPixelCNN
from arzoo.models.pixelcnn import PixelCNN
from arzoo.models.registry import get_model_class, list_models, register_model
from arzoo.models.wavenet import WaveNet

__all__ = [
    "AutoregressiveImageModel",
    "GatedPixelCNN",
    "PixelCNN",
    "WaveNet",
    "get_model_class",
    "list_models",
    "register_model",
]

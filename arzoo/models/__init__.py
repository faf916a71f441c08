"""Model families; importing this package registers all of them."""

from arzoo.models.base import AutoregressiveModel
from arzoo.models.char_rnn import CharRNN
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.conv_nade import ConvNADE
from arzoo.models.deep_nade import DeepNADE
from arzoo.models.diagonal_bilstm import DiagonalBiLSTMPixelRNN
from arzoo.models.fvsbn import FVSBN
from arzoo.models.gated_pixelcnn import GatedPixelCNN
from arzoo.models.made import MADE
from arzoo.models.multiscale_pixelcnn import MultiscalePixelCNN
from arzoo.models.nade import NADE
from arzoo.models.ordered import OrderedDensityModel
from arzoo.models.parallel_wavenet import ParallelWaveNet
from arzoo.models.pixelcnn import PixelCNN
from arzoo.models.pixel_vae import PixelVAE
from arzoo.models.pixelcnn_autoencoder import PixelCNNAutoencoder
from arzoo.models.pixelcnn_pp import PixelCNNPlusPlus
from arzoo.models.pixelsnail import PixelSNAIL
from arzoo.models.real_image import RealImageModel
from arzoo.models.rnade import RNADE
from arzoo.models.row_lstm import RowLSTMPixelRNN
from arzoo.models.spatial_lstm import MCGSMModel, SpatialLSTMModel
from arzoo.models.video import AutoregressiveVideoModel
from arzoo.models.video_pixel_network import VideoPixelNetwork
from arzoo.models.registry import get_model_class, list_models, register_model
from arzoo.models.wavenet import WaveNet

__all__ = [
    "AutoregressiveImageModel",
    "AutoregressiveModel",
    "CharRNN",
    "ConvNADE",
    "DeepNADE",
    "DiagonalBiLSTMPixelRNN",
    "FVSBN",
    "GatedPixelCNN",
    "MADE",
    "MCGSMModel",
    "MultiscalePixelCNN",
    "NADE",
    "OrderedDensityModel",
    "ParallelWaveNet",
    "PixelCNN",
    "PixelCNNAutoencoder",
    "PixelCNNPlusPlus",
    "PixelSNAIL",
    "PixelVAE",
    "RNADE",
    "RealImageModel",
    "RowLSTMPixelRNN",
    "SpatialLSTMModel",
    "VideoPixelNetwork",
    "WaveNet",
    "get_model_class",
    "list_models",
    "register_model",
]

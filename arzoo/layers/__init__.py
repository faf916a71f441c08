"""Building blocks, one concept per module."""

from arzoo.layers.causal_attention import CausalAttentionBlock, causal_attention
from arzoo.layers.causal_conv1d import CausalConv1D
from arzoo.layers.channel_groups import channel_group_mask
from arzoo.layers.condition_projection import ConditionProjection
from arzoo.layers.conv_encoder import ConvEncoder
from arzoo.layers.diagonal_lstm import DiagonalLSTM
from arzoo.layers.gated_activation import GatedActivation
from arzoo.layers.gated_pixelcnn_block import GatedPixelCNNBlock
from arzoo.layers.gated_resnet import GatedResNet, concat_elu
from arzoo.layers.iaf_flow import IAFFlow
from arzoo.layers.masked_conv2d import MaskedConv2D, pixelcnn_kernel_mask
from arzoo.layers.masked_dense import MaskedDense, degree_mask
from arzoo.layers.mcgsm import MCGSM
from arzoo.layers.nade_layer import NADEInput, NADEOutput
from arzoo.layers.row_lstm import RowLSTM
from arzoo.layers.shifted_conv2d import DownRightShiftedConv2D, DownShiftedConv2D
from arzoo.layers.shifted_conv2d_transpose import (
    DownRightShiftedConv2DTranspose,
    DownShiftedConv2DTranspose,
)
from arzoo.layers.shifts import down_shift, right_shift
from arzoo.layers.spatial_lstm import SpatialLSTM
from arzoo.layers.wavenet_block import WaveNetBlock

__all__ = [
    "CausalAttentionBlock",
    "CausalConv1D",
    "ConditionProjection",
    "ConvEncoder",
    "DownRightShiftedConv2D",
    "DownRightShiftedConv2DTranspose",
    "DownShiftedConv2D",
    "DownShiftedConv2DTranspose",
    "DiagonalLSTM",
    "GatedActivation",
    "GatedPixelCNNBlock",
    "GatedResNet",
    "IAFFlow",
    "MaskedConv2D",
    "MaskedDense",
    "MCGSM",
    "NADEInput",
    "NADEOutput",
    "RowLSTM",
    "SpatialLSTM",
    "causal_attention",
    "channel_group_mask",
    "concat_elu",
    "degree_mask",
    "down_shift",
    "pixelcnn_kernel_mask",
    "right_shift",
    "WaveNetBlock",
]

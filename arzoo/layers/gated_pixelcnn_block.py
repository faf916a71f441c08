"""One gated layer of Gated PixelCNN: both stacks, link, residual and skip."""

import keras

from arzoo.arguments import int_at_least
from arzoo.layers.condition_projection import ConditionProjection
from arzoo.layers.gated_activation import GatedActivation
from arzoo.layers.masked_conv2d import MaskedConv2D
from arzoo.layers.shifted_conv2d import DownRightShiftedConv2D, DownShiftedConv2D


@keras.saving.register_keras_serializable(package="arzoo")
class GatedPixelCNNBlock(keras.layers.Layer):
    """A gated layer of the vertical and horizontal stacks.

    vertical_pre   = DownShifted_{(k//2+1) x k}(v) + V_v^T h      (feeds the link too)
    horizontal_pre = DownRightShifted_{1 x (k//2+1)}(x_h) + link(vertical_pre) + V_h^T h
    v'   = tanh * sigmoid (vertical_pre)
    g    = tanh * sigmoid (horizontal_pre)       (per channel group)
    x_h' = x_h + residual_1x1(g),  skip = skip_1x1(g)

    The vertical input `v` must already see only rows above (the model
    shifts it down once at the bottom of the stack).

    Args:
      num_filters: channels of each stack (F); the gates use 2F.
      kernel_size: odd k.
      num_skip_filters: channels of the skip output.
      num_channel_groups: image channels for R->G->B masks, else 1.
      conditional: whether `call` takes a condition.
      residual: whether to update the horizontal stack (the last block of a
        model whose output reads only the skips has no use for it).

    Call arguments:
      vertical: `[B, H, W, F]`; horizontal: `[B, H, W, F]`;
      condition: encoded condition `[B, D]` or `[B, H, W, D]`, or None.

    Returns `(vertical, horizontal, skip)`.

    References:
      van den Oord et al. (2016). Conditional Image Generation with PixelCNN
      Decoders. arXiv:1606.05328, figure 2.
    """

    def __init__(
        self,
        num_filters,
        kernel_size,
        num_skip_filters,
        num_channel_groups=1,
        conditional=False,
        residual=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        self.num_skip_filters = int_at_least("num_skip_filters", num_skip_filters, 1)
        self.num_channel_groups = int_at_least("num_channel_groups", num_channel_groups, 1)
        self.conditional = bool(conditional)
        self.use_residual = bool(residual)
        f, k, groups = self.num_filters, self.kernel_size, self.num_channel_groups
        self.vertical_conv = DownShiftedConv2D(2 * f, (k // 2 + 1, k), name="vertical_conv")
        self.horizontal_conv = DownRightShiftedConv2D(
            2 * f, (1, k // 2 + 1), "B", groups, name="horizontal_conv"
        )
        self.link = keras.layers.Conv2D(2 * f, 1, name="link")
        self.vertical_gate = GatedActivation(1, name="vertical_gate")
        self.horizontal_gate = GatedActivation(groups, name="horizontal_gate")
        if self.use_residual:
            self.residual = MaskedConv2D(f, 1, "B", groups, name="residual")
        self.skip = MaskedConv2D(self.num_skip_filters, 1, "B", groups, name="skip")
        if self.conditional:
            self.vertical_condition = ConditionProjection(2 * f, name="vertical_condition")
            self.horizontal_condition = ConditionProjection(2 * f, name="horizontal_condition")

    def call(self, vertical, horizontal, condition=None):
        vertical_pre = self.vertical_conv(vertical)
        if self.conditional:
            vertical_pre = vertical_pre + self.vertical_condition(condition)
        horizontal_pre = self.horizontal_conv(horizontal) + self.link(vertical_pre)
        if self.conditional:
            horizontal_pre = horizontal_pre + self.horizontal_condition(condition)
        gated = self.horizontal_gate(horizontal_pre)
        if self.use_residual:
            horizontal = horizontal + self.residual(gated)
        return self.vertical_gate(vertical_pre), horizontal, self.skip(gated)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_filters=self.num_filters,
            kernel_size=self.kernel_size,
            num_skip_filters=self.num_skip_filters,
            num_channel_groups=self.num_channel_groups,
            conditional=self.conditional,
            residual=self.use_residual,
        )
        return config

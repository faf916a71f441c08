"""PixelCNN++'s gated residual block (Salimans et al. 2017, arXiv:1701.05517)."""

import keras
import tensorflow as tf

from arzoo.arguments import fraction_below_one, int_at_least
from arzoo.layers.condition_projection import ConditionProjection
from arzoo.layers.shifted_conv2d import DownRightShiftedConv2D, DownShiftedConv2D

STREAMS = ("down", "down_right", "pixel", "full")


def concat_elu(x):
    """elu([x, -x]) along channels: both signs of every feature survive."""
    return tf.nn.elu(tf.concat([x, -x], axis=-1))


@keras.saving.register_keras_serializable(package="arzoo")
class GatedResNet(keras.layers.Layer):
    """x + a * sigmoid(b), [a, b] = conv2(dropout(concat_elu(c1))) + V h,
    c1 = conv1(concat_elu(x)) + nin(concat_elu(shortcut)).

    Both convolutions are shifted (`stream` "down": a down-shifted (kh, kw)
    kernel, rows above; "down_right": a down-right-shifted (2, kw // 2 + 1)
    kernel, rows above and pixels to the left) or 1x1 ("pixel": each position
    alone, PixelSNAIL's blocks around its attention; cached sampling calls it
    on the one position), so the block is as causal as its input. `shortcut`
    is what the block reads at its own position from elsewhere: the down
    stream for a down-right block, the partner of the way down for a block
    on the way up, the attention's output for PixelSNAIL's last 1x1 block.
    Stream "full" is an ordinary 'same'-padded (kh, kw) convolution, for a
    network whose input is masked instead (the multiscale PixelCNN's group
    network): it reads every neighbour.

    Cached sampling computes one row or one pixel at a time from stored maps,
    so the block offers its two halves separately: `hidden` (conv1 over a
    padded window of x, plus the shortcut) and `gate` (conv2 over a padded
    window of the stored hidden map, plus the condition, plus x).

    Args:
      num_filters: channels F of x and of the output; conv2 makes 2F.
      stream: "down", "down_right", "pixel" or "full".
      kernel_size: (kh, kw) of the down and full streams' kernels, kw odd;
        the down-right stream uses (2, kw // 2 + 1).
      dropout_p: dropout on the hidden features while training.
      shortcut: whether `call` takes a shortcut input.
      conditional: whether `call` takes an encoded condition.

    Call arguments:
      x: `[B, H, W, F]`; shortcut: `[B, H, W, D]` or None; condition:
      `[B, D]` or `[B, H, W, D]` or None; training: bool.
    """

    def __init__(
        self,
        num_filters,
        stream,
        kernel_size=(2, 3),
        dropout_p=0.0,
        shortcut=False,
        conditional=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if stream not in STREAMS:
            raise ValueError(f"Unknown stream {stream!r}; allowed: {', '.join(STREAMS)}.")
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.stream = stream
        self.kernel_size = tuple(int_at_least("kernel_size entries", k, 1) for k in kernel_size)
        self.dropout_p = fraction_below_one("dropout_p", dropout_p)
        self.use_shortcut = bool(shortcut)
        self.conditional = bool(conditional)
        f = self.num_filters
        if stream == "pixel":
            conv = lambda filters, name, **kw: keras.layers.Dense(filters, name=name, **kw)  # noqa: E731
        elif stream == "full":
            conv = lambda filters, name, **kw: keras.layers.Conv2D(  # noqa: E731
                filters, self.kernel_size, padding="same", name=name, **kw)
        elif stream == "down":
            conv = lambda filters, name, **kw: DownShiftedConv2D(filters, self.kernel_size, name=name, **kw)  # noqa: E731
        else:
            size = (2, self.kernel_size[1] // 2 + 1)
            conv = lambda filters, name, **kw: DownRightShiftedConv2D(filters, size, name=name, **kw)  # noqa: E731
        self.conv1 = conv(f, "conv1")
        # A small last layer keeps each block close to the identity at initialisation.
        self.conv2 = conv(
            2 * f, "conv2", kernel_initializer=keras.initializers.VarianceScaling(0.1)
        )
        if self.use_shortcut:
            self.shortcut_link = keras.layers.Dense(f, name="shortcut_link")
        if self.conditional:
            self.condition_projection = ConditionProjection(2 * f, name="condition_projection")
        self.dropout = keras.layers.Dropout(self.dropout_p, name="dropout")

    @property
    def window_size(self):
        """(kh, kw) of both convolutions."""
        return self.conv1.kernel_size

    def hidden(self, x_window, shortcut=None, full=False):
        """concat_elu(c1) at the window's output positions; `x_window` is a
        padded window of x (or, with `full`, the whole unpadded map)."""
        features = concat_elu(x_window)
        c1 = self.conv1(features) if full else self.conv1.call_on_window(features)
        if self.use_shortcut:
            c1 = c1 + self.shortcut_link(concat_elu(shortcut))
        return concat_elu(c1)

    def gate(self, x, hidden_window, condition=None, full=False, training=False):
        """x + a * sigmoid(b) from a padded window of the hidden map (or, with
        `full`, the whole unpadded map)."""
        if full:
            c2 = self.conv2(self.dropout(hidden_window, training=training))
        else:
            c2 = self.conv2.call_on_window(hidden_window)
        if self.conditional:
            c2 = c2 + self.condition_projection(condition)
        a, b = tf.split(c2, 2, axis=-1)
        return x + a * tf.sigmoid(b)

    def call(self, x, shortcut=None, condition=None, training=False):
        hidden = self.hidden(x, shortcut, full=True)
        return self.gate(x, hidden, condition, full=True, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_filters=self.num_filters,
            stream=self.stream,
            kernel_size=list(self.kernel_size),
            dropout_p=self.dropout_p,
            shortcut=self.use_shortcut,
            conditional=self.conditional,
        )
        return config

"""Dilated causal 1-D convolution (WaveNet), with a one-step form for queues."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="arzoo")
class CausalConv1D(keras.layers.Conv1D):
    """y_t = b + sum_k W_k x_{t - (K - 1 - k) d}: output t reads inputs <= t only.

    Keras's own `padding="causal"` (left zero padding of (K - 1) d) does the
    full-sequence pass; `call_on_window` computes one output from the K taps
    it reads, which is what cached generation keeps in per-layer queues of
    length (K - 1) d (Paine et al. 2016, arXiv:1611.09482).

    Args:
      filters: output channels.
      kernel_size: K (2 in WaveNet).
      dilation_rate: d.
      **kwargs: other `keras.layers.Conv1D` arguments (padding is 'causal').

    Example:
    >>> CausalConv1D(4, 2, dilation_rate=8)(np.zeros((1, 32, 1), "float32")).shape
    TensorShape([1, 32, 4])

    References:
      van den Oord et al. (2016). WaveNet: A Generative Model for Raw Audio.
      arXiv:1609.03499.
    """

    def __init__(self, filters, kernel_size=2, dilation_rate=1, **kwargs):
        padding = kwargs.pop("padding", "causal")
        if padding != "causal":
            raise ValueError(f"CausalConv1D pads causally; got padding={padding!r}.")
        super().__init__(filters, kernel_size, dilation_rate=dilation_rate, padding="causal", **kwargs)

    @property
    def receptive_field(self):
        """Inputs one output reads: (K - 1) d + 1."""
        return (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1

    def call_on_window(self, taps):
        """One output step from its K taps `[B, K, C]` (oldest first) -> `[B, 1, filters]`."""
        outputs = tf.nn.conv1d(taps, self.kernel, stride=1, padding="VALID")
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs if self.activation is None else self.activation(outputs)

"""Dilated causal convolution against a numpy reference, and its one-step form."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from arzoo.layers import CausalConv1D


def reference(x, kernel, bias, dilation):
    """y[t] = bias + sum_k kernel[k] . x[t - (K-1-k) d], zeros before the start."""
    batch, length, _ = x.shape
    taps = kernel.shape[0]
    y = np.zeros((batch, length, kernel.shape[-1])) + bias
    for t in range(length):
        for k in range(taps):
            source = t - (taps - 1 - k) * dilation
            if source >= 0:
                y[:, t] += x[:, source] @ kernel[k]
    return y


@pytest.mark.parametrize("taps,dilation", [(2, 1), (2, 4), (3, 2)])
def test_matches_numpy_reference(taps, dilation):
    layer = CausalConv1D(5, taps, dilation_rate=dilation)
    x = np.random.default_rng(0).normal(size=(2, 20, 3)).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = (w.numpy().astype(np.float64) for w in layer.weights)
    np.testing.assert_allclose(y, reference(x.astype(np.float64), kernel, bias, dilation), rtol=1e-5, atol=1e-5)
    assert layer.receptive_field == (taps - 1) * dilation + 1


def test_output_reads_no_future_input():
    layer = CausalConv1D(2, 2, dilation_rate=4)
    x = tf.random.normal([1, 16, 1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x)[0, 9])
    reads = np.nonzero(tape.gradient(y, x).numpy()[0, :, 0])[0].tolist()
    assert reads == [5, 9]


def test_one_step_form_equals_full_pass():
    layer = CausalConv1D(4, 2, dilation_rate=3)
    x = np.random.default_rng(1).normal(size=(2, 12, 3)).astype(np.float32)
    full = layer(x).numpy()
    padded = np.pad(x, ((0, 0), (3, 0), (0, 0)))
    for t in range(12):
        taps = padded[:, [t, t + 3]]  # inputs t - 3 and t
        np.testing.assert_allclose(layer.call_on_window(taps).numpy()[:, 0], full[:, t], rtol=1e-5, atol=1e-6)


def test_serialization_and_bad_padding():
    layer = CausalConv1D(3, 2, dilation_rate=8)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(revived, CausalConv1D) and revived.dilation_rate == (8,)
    with pytest.raises(ValueError, match="pads causally; got padding='same'"):
        CausalConv1D(3, 2, padding="same")

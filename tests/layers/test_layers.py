"""Layers: masks, shifts, gating, conditioning, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from arzoo.layers import (
    ConditionProjection,
    DownRightShiftedConv2D,
    DownShiftedConv2D,
    GatedActivation,
    GatedPixelCNNBlock,
    MaskedConv2D,
    channel_group_mask,
    down_shift,
    pixelcnn_kernel_mask,
    right_shift,
)


def test_mask_a_and_b_for_rgb():
    mask_a = pixelcnn_kernel_mask((3, 3), 3, 3, "A", 3)
    mask_b = pixelcnn_kernel_mask((3, 3), 3, 3, "B", 3)
    # Rows above and the pixel to the left are open for every channel pair.
    assert mask_a[0].all() and mask_a[1, 0].all()
    # Right of the centre and the row below are closed.
    assert not mask_a[1, 2].any() and not mask_a[2].any()
    # Centre: R<-nothing, G<-R, B<-R,G (A); and each also from itself (B).
    np.testing.assert_array_equal(mask_a[1, 1], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(mask_b[1, 1], [[1, 1, 1], [0, 1, 1], [0, 0, 1]])


def test_channel_groups_for_wider_layers():
    mask = channel_group_mask(6, 9, 3, "A")
    in_group = np.arange(6) // 2
    out_group = np.arange(9) // 3
    np.testing.assert_array_equal(mask, (in_group[:, None] < out_group[None]).astype(np.float32))
    with pytest.raises(ValueError, match="in_units=4 must be divisible"):
        channel_group_mask(4, 9, 3, "B")
    with pytest.raises(ValueError, match="mask_type must be one of"):
        channel_group_mask(3, 3, 3, "C")


def test_masked_conv_output_ignores_the_future():
    layer = MaskedConv2D(4, 5, mask_type="A", num_channel_groups=1)
    x = tf.random.normal([1, 6, 6, 1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x)[0, 3, 2])
    grad = tape.gradient(y, x)[0, ..., 0].numpy()
    assert not grad[3, 2:].any() and not grad[4:].any()
    assert grad[:3].any() and grad[3, :2].any()


def test_down_shifted_conv_matches_explicit_padding():
    layer = DownShiftedConv2D(2, (2, 3))
    x = tf.random.normal([1, 5, 5, 1])
    y = layer(x).numpy()
    kernel, bias = (w.numpy() for w in layer.weights)
    padded = np.pad(x.numpy()[0, ..., 0], ((1, 0), (1, 1)))
    for r in range(5):
        for c in range(5):
            patch = padded[r : r + 2, c : c + 3]
            expected = (patch[..., None] * kernel[..., 0, :]).sum((0, 1)) + bias
            np.testing.assert_allclose(y[0, r, c], expected, rtol=1e-5, atol=1e-5)


def test_down_right_shifted_conv_reads_left_and_above_only():
    layer = DownRightShiftedConv2D(3, (2, 2), mask_type="A")
    x = tf.random.normal([1, 5, 5, 1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x)[0, 2, 2])
    grad = tape.gradient(y, x)[0, ..., 0].numpy()
    read = {(int(r), int(c)) for r, c in zip(*np.nonzero(grad))}
    assert read == {(1, 1), (1, 2), (2, 1)}  # mask A closes (2, 2) itself


def test_shifts():
    x = tf.reshape(tf.range(9.0), [1, 3, 3, 1])
    np.testing.assert_array_equal(down_shift(x)[0, :, :, 0], [[0, 0, 0], [0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(right_shift(x)[0, :, :, 0], [[0, 0, 1], [0, 3, 4], [0, 6, 7]])


def test_gated_activation_keeps_channel_groups():
    x = np.random.default_rng(0).normal(size=(1, 1, 1, 12)).astype(np.float32)
    y = GatedActivation(3)(x).numpy()[0, 0, 0]
    blocks = x[0, 0, 0].reshape(3, 2, 2)
    expected = np.tanh(blocks[:, 0]) * (1 / (1 + np.exp(-blocks[:, 1])))
    np.testing.assert_allclose(y, expected.reshape(-1), rtol=1e-6)
    y1 = GatedActivation()(x).numpy()[0, 0, 0]
    np.testing.assert_allclose(y1, np.tanh(x[0, 0, 0, :6]) / (1 + np.exp(-x[0, 0, 0, 6:])), rtol=1e-6)


def test_condition_projection_vector_and_spatial():
    vector = ConditionProjection(4)
    out = vector(np.eye(3, dtype=np.float32))
    assert out.shape == (3, 1, 1, 4)
    np.testing.assert_allclose(out[:, 0, 0].numpy(), vector.kernel.numpy(), rtol=1e-6)
    spatial = ConditionProjection(4)
    assert spatial(np.ones((2, 5, 5, 3), np.float32)).shape == (2, 5, 5, 4)
    with pytest.raises(ValueError, match="got shape"):
        ConditionProjection(4)(np.ones((2, 3, 3), np.float32))


@pytest.mark.parametrize(
    "layer,shape",
    [
        (MaskedConv2D(6, 3, mask_type="A", num_channel_groups=3), (2, 4, 4, 3)),
        (DownShiftedConv2D(4, (2, 3)), (2, 4, 4, 3)),
        (DownRightShiftedConv2D(6, (1, 2), mask_type="B", num_channel_groups=3), (2, 4, 4, 3)),
        (GatedActivation(3), (2, 4, 4, 12)),
    ],
)
def test_layer_serialization_round_trip(layer, shape):
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    y = layer(x)
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x), y, rtol=1e-6)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(revived) is type(layer)


def test_gated_block_serialization():
    block = GatedPixelCNNBlock(6, 3, 6, num_channel_groups=3, conditional=True, residual=False)
    config = block.get_config()
    clone = GatedPixelCNNBlock.from_config(config)
    assert clone.get_config() == config and not hasattr(clone, "residual")


def test_bad_layer_arguments_are_named():
    with pytest.raises(ValueError, match="padding='valid'"):
        MaskedConv2D(4, 3, padding="valid")
    with pytest.raises(ValueError, match=r"odd kernel sizes, got kernel_size=\(2, 2\)"):
        MaskedConv2D(4, 2)
    with pytest.raises(ValueError, match="mask_type must be one of"):
        MaskedConv2D(4, 3, mask_type="C")


@pytest.mark.parametrize("layer, kwargs, name", [
    ("WaveNetBlock", dict(residual_channels=4, gate_channels=4, skip_channels=4, dilation_rate=1.5), "dilation_rate"),
    ("WaveNetBlock", dict(residual_channels="8", gate_channels=4, skip_channels=4, dilation_rate=1), "residual_channels"),
    ("WaveNetBlock", dict(residual_channels=4, gate_channels=4, skip_channels=4, dilation_rate=1, kernel_size=1), "kernel_size"),
    ("WaveNetBlock", dict(residual_channels=4, gate_channels=0, skip_channels=4, dilation_rate=1), "gate_channels"),
    ("MaskedDense", dict(units=2.5), "units"),
])
def test_layers_refuse_arguments_they_would_have_rounded(layer, kwargs, name):
    """A float or a string is an error naming the argument, never int()-ed in silence."""
    import arzoo.layers

    with pytest.raises(ValueError, match=f"{name} must be an integer"):
        getattr(arzoo.layers, layer)(**kwargs)

"""What is the Video Pixel Network's own: where its dependencies come from
(the contract suite, tests/models/test_contract.py, checks causality,
normalization, naive == cached and the round trips on every variant), its
explicit LSTM state, video continuation and its errors."""

import numpy as np
import pytest
import tensorflow as tf

from tests import test_case


def frame_gradients(model, frame):
    """|d params(frame) / d x| summed over examples, per input frame `[T]`."""
    x = tf.constant(test_case.soft_events(model, 4, seed=1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        params = model(x, test_case.random_event_condition(model, 4))[:, frame]
        scalar = tf.reduce_sum(params * tf.random.stateless_normal(params.shape, seed=[1, 2]))
    return np.abs(tape.gradient(scalar, x).numpy()).sum(axis=(0, 2, 3, 4))


def test_frames_read_the_past_frames_and_their_own_pixels():
    model = test_case.build_tiny("video_pixel_network", num_frames=3)
    reads = frame_gradients(model, 1)
    assert reads[0] > 0 and reads[1] > 0 and reads[2] == 0


def test_no_intra_frame_reads_only_earlier_frames():
    model = test_case.build_tiny("video_pixel_network", num_frames=3, intra_frame=False)
    reads = frame_gradients(model, 2)
    assert reads[0] > 0 and reads[1] > 0 and reads[2] == 0
    assert np.all(frame_gradients(model, 0) == 0)  # the first frame: nothing before it


def test_per_frame_model_ignores_earlier_frames():
    model = test_case.build_tiny("video_pixel_network", num_frames=3, temporal=False)
    reads = frame_gradients(model, 2)
    assert reads[0] == 0 and reads[1] == 0 and reads[2] > 0
    assert not any(v.path.startswith(("encoder", "lstm")) for v in model.trainable_variables)


def test_lstm_state_is_explicit_step_state():
    """The ConvLSTM state is in the step state, updated when a frame starts
    and carried unchanged through its pixels."""
    model = test_case.build_tiny("video_pixel_network")
    x = test_case.random_events(model, 2, seed=4)
    steps = model.to_steps(x)
    state = model.initial_state(2)
    assert set(state["lstm"]) == {"hidden", "cell"}
    previous = tf.zeros([2, model.values_per_step], tf.int32)
    seen = []
    for t in range(model.num_steps):
        _, state = model.step(previous, state)
        previous = steps[:, t]
        seen.append(state["lstm"]["hidden"].numpy())
    per_frame = model.steps_per_frame
    for t in range(model.num_steps):
        start = (t // per_frame) * per_frame
        np.testing.assert_array_equal(seen[t], seen[start], err_msg=f"step {t} changed the LSTM state")
    assert not np.array_equal(seen[0], seen[per_frame]), "the second frame did not step the LSTM"


def test_continuation_keeps_the_first_frames():
    model = test_case.build_tiny("video_pixel_network", num_frames=3)
    x = test_case.random_events(model, 2, seed=6)
    known = np.zeros_like(x)
    known[:, :2] = 1
    cached = model.complete(x, known, seed=1).numpy()
    np.testing.assert_array_equal(cached[:, :2], x[:, :2])
    np.testing.assert_array_equal(model.complete(x, known, seed=1, method="naive").numpy(), cached)


@pytest.mark.parametrize("shape,match", [
    ((2, 3, 2, 3, 1), "has 3 frames but the model has num_frames=2"),
    ((2, 2, 3, 3, 1), r"frames of shape \[3, 3, 1\] but the model has frame_shape=\[2, 3, 1\]"),
    ((2, 2, 3, 1), r"must be videos \[batch, frames, height, width, channels\]"),
])
def test_wrong_videos_are_named(shape, match):
    model = test_case.build_tiny("video_pixel_network")
    with pytest.raises(ValueError, match=match):
        model.log_prob(np.zeros(shape, np.int32))
    if len(shape) == 5:
        with pytest.raises(ValueError, match=match):
            model.complete(np.zeros(shape, np.int32), np.zeros(shape, bool))


def test_levels_out_of_range_are_named():
    model = test_case.build_tiny("video_pixel_network")
    x = np.zeros((1,) + model.event_shape, np.int32)
    x[0, 1, 0, 2, 0] = 5
    with pytest.raises(ValueError, match="5"):
        model.log_prob(x)


@pytest.mark.parametrize("overrides,match", [
    (dict(intra_frame=False, temporal=False), "nothing to depend on"),
    (dict(condition_shape=[4]), "class conditioning"),
    (dict(likelihood="logistic_mixture"), "categorical', 'bernoulli"),
    (dict(frame_shape=[4, 4]), "frame_shape must be"),
    (dict(num_frames=0), "num_frames"),
    (dict(intra_frame="yes"), "intra_frame must be true or false"),
    (dict(encoder_filters=3), "must be even"),
    (dict(image_shape=[4, 3, 1]), "take num_frames and frame_shape, not image_shape"),
])
def test_bad_arguments_are_named(overrides, match):
    with pytest.raises(ValueError, match=match):
        test_case.build_tiny("video_pixel_network", **overrides)


def test_sampling_order_lists_frames_then_raster_then_channels():
    model = test_case.build_tiny("video_pixel_network", frame_shape=[2, 2, 3], decoder_filters=6)
    order = model.sampling_order()
    assert order.shape == (model.num_steps, 4)
    np.testing.assert_array_equal(order[:4], [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 1, 0]])
    np.testing.assert_array_equal(order[12], [1, 0, 0, 0])
    index = model.video_step_index()
    assert index[1, 0, 0, 0] == 12 and index[0, 1, 1, 2] == 11

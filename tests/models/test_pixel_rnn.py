"""PixelRNN beyond the shared contract: the Row LSTM's triangular and the
Diagonal BiLSTM's full receptive field (the paper's figure 2), R -> G -> B
inside a pixel through the recurrent layers, the skew, the step's buffers
against the teacher-forced states, argument errors, and learning digits."""

import numpy as np
import pytest
import tensorflow as tf
import yaml

import arzoo
from arzoo.evaluation import audit_position
from arzoo.layers.diagonal_lstm import skew, unskew
from tests import test_case
from tests.models.test_receptive_fields import box, clip, minkowski

SHAPE = (9, 9)


def row_lstm_field(first_kernel, kernel, layers, height):
    """The Row LSTM's field composed from its parts: the mask-A input layer,
    then per layer the identity (the residual) or the LSTM, whose state at
    row 0 reads the 1 x k mask-B window of its own row and, through the
    state of the row above, the same field one row up widened by k // 2."""
    h0, h = first_kernel // 2, kernel // 2
    field = box(range(-h0, 0), range(-h0, h0 + 1)) | box([0], range(-h0, 0))
    lstm = set()
    for n in range(height):
        lstm |= box([-n], range(-n * h - h, n * h + 1))
    for _ in range(layers):
        field = field | minkowski(field, lstm)
    return field


def reads(family, position, image_shape=SHAPE + (1,), **overrides):
    model = test_case.build_tiny(family, image_shape=list(image_shape), num_levels=4, num_filters=6, **overrides)
    result = audit_position(model, *position)
    assert not result["reads_later"].any()
    return result


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_row_lstm_reads_the_papers_triangle(kernel_size):
    position = (6, 3)
    result = reads("row_lstm", position, kernel_size=kernel_size, num_layers=2)
    got = {(int(r) - position[0], int(c) - position[1]) for r, c in zip(*np.nonzero(result["map"][..., 0] > 0))}
    assert got == clip(row_lstm_field(3, kernel_size, 2, SHAPE[0]), position, SHAPE)
    # The triangle misses the far upper right of the context ...
    assert result["unread_earlier"][5, 8, 0]
    # ... but reaches the top row, unlike a convolution stack of this depth.
    assert result["reads_earlier"][0].any()


@pytest.mark.parametrize("position", [(0, 5), (4, 0), (4, 4), (8, 8), (5, 1)])
def test_diagonal_bilstm_reads_every_earlier_pixel(position):
    """One layer suffices: from the left the pixels above and to the left,
    from the right (shifted down a row) every pixel above and to the right."""
    result = reads("diagonal_bilstm", position, num_layers=1)
    assert not result["unread_earlier"].any(), np.argwhere(result["unread_earlier"][..., 0])


@pytest.mark.parametrize("family", ["row_lstm", "diagonal_bilstm"])
def test_rgb_channel_order_inside_a_pixel(family):
    model = test_case.build_tiny(family, image_shape=[3, 3, 3], num_levels=4)
    for channel in range(3):
        result = audit_position(model, 1, 1, channel=channel)
        here = result["map"][1, 1] > 0
        assert list(here) == [c < channel for c in range(3)], (family, channel, here)
        assert not result["reads_later"].any()


def test_skew_moves_row_i_right_by_i_and_unskew_inverts_it():
    x = tf.reshape(tf.range(1, 3 * 4 + 1, dtype=tf.float32), [1, 3, 4, 1])
    skewed = skew(x)[0, ..., 0].numpy()
    np.testing.assert_array_equal(skewed, [
        [1, 2, 3, 4, 0, 0],
        [0, 5, 6, 7, 8, 0],
        [0, 0, 9, 10, 11, 12],
    ])
    np.testing.assert_array_equal(unskew(skew(x), 4), x)


def feed(model, x, condition=None):
    """The state after the last step (whose pixel's states no value of its
    own changes: they read only earlier channels)."""
    state = model.initial_state(int(x.shape[0]), condition)
    previous = tf.zeros([int(x.shape[0]), model.values_per_step], tf.int32)
    for values in tf.unstack(model.to_steps(x), axis=1):
        _, state = model.step(previous, state, condition)
        previous = values
    return state


def test_row_lstm_step_buffers_hold_the_teacher_forced_last_row():
    model = test_case.build_tiny("row_lstm", **test_case.VARIANTS["rgb"])
    x = test_case.random_images(model, 2, seed=3)
    state = feed(model, x)
    features = model.input_conv(model.scale_levels(x))
    for layer, lstm in enumerate(model.recurrent_layers):
        hidden = lstm(features)
        np.testing.assert_allclose(state["hidden"][layer], hidden[:, -1], atol=1e-5)
        features = features + model.residual_convs[layer](hidden)


def test_diagonal_bilstm_step_buffers_hold_the_teacher_forced_states():
    """The left-to-right LSTM's last row, and the right-to-left LSTM's row
    above it, which the last row reads through the shift."""
    model = test_case.build_tiny("diagonal_bilstm", **test_case.VARIANTS["spatial"])
    x = test_case.random_images(model, 2, seed=4)
    condition = np.random.default_rng(4).normal(size=(2, 4, 4, 2)).astype(np.float32)
    state = feed(model, x, condition)
    inputs = model.scale_levels(x)
    features = model.input_conv(inputs)
    encoded = model.encode_condition(condition)
    for layer, (from_left, from_right) in enumerate(model.recurrent_layers):
        left_gates, right_gates = model.condition_gates(layer, encoded)
        forward = from_left(features, left_gates)
        if layer == 0:
            right_gates = right_gates + model.image_from_right(inputs)
        backward = tf.reverse(from_right(tf.reverse(features, [2]), tf.reverse(right_gates, [2])), [2])
        np.testing.assert_allclose(state["hidden"][layer][:, 1:], forward[:, -1], atol=1e-5)
        np.testing.assert_allclose(state["from_right"][layer], backward[:, -2], atol=1e-5)
        recurrent = model.recurrent(layer, features, model.condition_gates(layer, encoded), inputs)
        features = features + model.residual_convs[layer](recurrent)


@pytest.mark.parametrize("family", ["row_lstm", "diagonal_bilstm"])
def test_argument_errors_name_the_value(family):
    cls = arzoo.models.get_model_class(family)
    with pytest.raises(ValueError, match="logistic_mixture"):
        cls(image_shape=[4, 4, 1], num_levels=4, likelihood="logistic_mixture")
    with pytest.raises(ValueError, match="first_kernel_size=4"):
        cls(image_shape=[4, 4, 1], num_levels=4, first_kernel_size=4)
    with pytest.raises(ValueError, match="num_filters=4 must be divisible"):
        cls(image_shape=[4, 4, 3], num_levels=4, num_filters=4)
    with pytest.raises(ValueError, match="num_mixtures"):
        arzoo.build_model({"family": family, "image_shape": [4, 4, 1], "num_mixtures": 3})


def test_row_lstm_kernel_must_be_odd():
    with pytest.raises(ValueError, match="kernel_size=4"):
        arzoo.models.RowLSTMPixelRNN(image_shape=[4, 4, 1], num_levels=4, kernel_size=4)


def test_config_and_the_state_per_layer():
    model = test_case.build_tiny("row_lstm", num_layers=3, num_filters=4, kernel_size=5)
    config = model.get_config()
    assert (config["num_layers"], config["num_filters"], config["kernel_size"]) == (3, 4, 5)
    assert "num_mixtures" not in config
    assert type(model).from_config(config).count_params() == model.count_params()
    state = model.initial_state(2)
    assert len(state["hidden"]) == 3 and state["hidden"][0].shape == (2, 4, 4)
    assert state["recurrent_gates"][2].shape == (2, 4, 16)
    assert state["row_inputs"][1].shape == (2, 1, 4 + 4, 8)  # the row, padded by k // 2 each side
    model = test_case.build_tiny("diagonal_bilstm", num_layers=2, num_filters=4)
    state = model.initial_state(2)
    assert state["hidden"][1].shape == (2, 5, 4) and state["from_right"][0].shape == (2, 4, 4)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["row_lstm", "diagonal_bilstm"])
def test_the_embedded_server_streams_step_with_the_lstm_states(family, tmp_path):
    """Served class-conditional PixelRNN: every LSTM state travels as a state
    tensor, one `step` request per pixel, and the streamed image is the
    served `sample` and the Keras model's, for the same seeds."""
    from arzoo.serving import Client, Server, export_model
    from arzoo.serving.client import row_seeds

    model = test_case.build_tiny(family, seed=4, **test_case.VARIANTS["class"])
    export_model(model, str(tmp_path), "rnn", max_batch_size=4)
    server = Server.from_flags(model_name="rnn", model_base_path=str(tmp_path / "rnn")).start()
    try:
        seeds, labels = row_seeds(3, 3), np.array([2, 0, 1], np.int32)
        with Client(server.address, "rnn", timeout=60.0) as client:
            state = client.initial_state(seeds, condition=labels)
            hidden = sorted(name for name in state if name.startswith("state_hidden__"))
            assert len(hidden) == model.num_layers, sorted(state)
            streamed = client.stream_images(seeds, 0.8, condition=labels)
            served = client.sample(seeds, 0.8, condition=labels)
        np.testing.assert_array_equal(streamed, served)
        np.testing.assert_array_equal(served, model.sample(seeds=seeds, temperature=0.8, condition=labels).numpy())
    finally:
        server.stop()


@pytest.mark.extras
@pytest.mark.parametrize("family", ["row_lstm", "diagonal_bilstm"])
def test_training_on_digits_beats_the_independent_pixel_baseline(family, tmp_path, monkeypatch):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / f"{family}_digits.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"family": family, "image_shape": [8, 8, 1], "num_levels": 17, "num_layers": 2,
                  "num_filters": 16, "first_kernel_size": 3, "num_output_filters": 64},
        "data": {"dataset": "digits", "batch_size": 32},
        "training": {"steps": 300, "learning_rate": 0.003, "log_every": 100, "checkpoint_every": 300},
    }))
    test_case.check_digits_training_beats_the_independent_pixel_baseline(arzoo.load_config(path), tmp_path / "run")

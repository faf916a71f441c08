"""PixelSNAIL beyond the shared contract: the attention reads the whole past
(and only the past), its key/value buffers are the teacher-forced keys,
argument errors, dropout, and learning real digits."""

import numpy as np
import pytest
import tensorflow as tf
import yaml

import arzoo
from arzoo.layers import causal_attention
from arzoo.layers.causal_attention import strictly_causal_mask
from tests import test_case


def test_every_pixel_reads_every_earlier_pixel():
    """The 2 x 2 down-right convolutions alone reach only a window above and
    to the left (pixel (1, 0) cannot see (0, 3)); with the attention every
    pixel's parameters depend on every earlier pixel and on no later one."""
    model = test_case.build_tiny("pixelsnail", image_shape=[4, 5, 1], num_levels=3)
    x = tf.constant(np.random.default_rng(0).uniform(0, 2, size=(1, 4, 5, 1)).astype(np.float32))
    height, width = 4, 5
    for pixel in range(height * width):
        with tf.GradientTape() as tape:
            tape.watch(x)
            params = model(x)[0, pixel // width, pixel % width]
            scalar = tf.reduce_sum(params * tf.random.stateless_normal(params.shape, seed=[pixel, 1]))
        reads = np.abs(tape.gradient(scalar, x).numpy()).reshape(-1)
        assert np.all(reads[pixel:] == 0), f"pixel {pixel} reads itself or later pixels"
        assert np.all(reads[:pixel] > 0), f"pixel {pixel} misses earlier pixels {np.flatnonzero(reads[:pixel] == 0)}"


def test_attention_weights_only_strictly_earlier_keys():
    rng = np.random.default_rng(1)
    batch, size, heads, key_size, value_size = 2, 5, 2, 3, 4
    query = rng.normal(size=(batch, size, heads * key_size)).astype(np.float32)
    keys = rng.normal(size=(batch, size, heads * key_size)).astype(np.float32)
    values = rng.normal(size=(batch, size, heads * value_size)).astype(np.float32)
    got = causal_attention(query, keys, values, strictly_causal_mask(size), heads).numpy()
    np.testing.assert_array_equal(got[:, 0], 0.0)  # the first position has nothing to read
    q = query.reshape(batch, size, heads, key_size)
    k = keys.reshape(batch, size, heads, key_size)
    v = values.reshape(batch, size, heads, value_size)
    for i in range(1, size):
        logits = np.einsum("bhd,bnhd->bhn", q[:, i], k[:, :i]) / np.sqrt(key_size)
        weights = np.exp(logits - logits.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        expected = np.einsum("bhn,bnhd->bhd", weights, v[:, :i]).reshape(batch, -1)
        np.testing.assert_allclose(got[:, i], expected, rtol=1e-5, atol=1e-6)


def test_the_step_buffers_hold_the_teacher_forced_keys_and_values():
    """After every pixel is fed, block b's key/value buffers equal the keys
    and values the teacher-forced pass computes (the last pixel's key is
    never needed and is written by no step)."""
    model = test_case.build_tiny("pixelsnail", **test_case.VARIANTS["class"])
    x = test_case.random_images(model, 2, seed=5)
    labels = np.array([0, 2], np.int32)
    state = model.initial_state(2, labels)
    previous = tf.zeros([2, model.values_per_step], tf.int32)
    for values in tf.unstack(model.to_steps(x), axis=1):
        _, state = model.step(previous, state, labels)
        previous = values
    inputs, condition = model.scale_levels(x), model.encode_condition(labels)
    height, width, _ = model.image_shape
    grid = model.coordinates(tf.range(height)[:, None], tf.range(width)[None, :])
    coordinates = tf.broadcast_to(grid[None], [2, height, width, 2])
    features = model._down_right_input(model._network_input(inputs))
    for b, (resnets, attention) in enumerate(model._blocks()):
        for resnet in resnets:
            features = resnet(features, None, condition)
        keys, values = attention.keys_values(inputs, features, coordinates, condition)
        keys = tf.reshape(keys, [2, height * width, -1])[:, :-1]
        values = tf.reshape(values, [2, height * width, -1])[:, :-1]
        np.testing.assert_allclose(state["keys"][f"block{b}"][:, :-1], keys, atol=1e-5)
        np.testing.assert_allclose(state["values"][f"block{b}"][:, :-1], values, atol=1e-5)
        features = attention(inputs, features, coordinates, condition)


def test_config_names_and_shapes_of_the_state():
    model = test_case.build_tiny("pixelsnail", num_blocks=3, num_resnet=2, key_size=4, value_size=5,
                                 num_heads=2, num_logistic_mix=3, dropout_p=0.25)
    config = model.get_config()
    for key, value in dict(num_blocks=3, num_resnet=2, key_size=4, value_size=5, num_heads=2,
                           num_logistic_mix=3, dropout_p=0.25).items():
        assert config[key] == value, key
    assert "num_mixtures" not in config
    assert type(model).from_config(config).count_params() == model.count_params()
    state = model.initial_state(2)
    assert sorted(state["keys"]) == ["block0", "block1", "block2"]
    assert state["keys"]["block0"].shape == (2, 16, 8) and state["values"]["block2"].shape == (2, 16, 10)
    assert len(model.resnets) == 6 and len(model.attention) == 3


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(num_blocks=0), "num_blocks"),
        (dict(num_resnet=0), "num_resnet"),
        (dict(key_size=0), "key_size"),
        (dict(value_size=-1), "value_size"),
        (dict(num_heads=0), "num_heads"),
        (dict(dropout_p=1.0), "dropout_p must be in"),
        (dict(num_logistic_mix=0), "num_logistic_mix"),
        (dict(condition_shape=[2, 2, 3]), "image's height and width"),
        (dict(image_shape=[4, 4, 3], likelihood="categorical", num_filters=7), "num_filters=7"),
    ],
)
def test_bad_arguments_name_the_value(overrides, message):
    with pytest.raises(ValueError, match=message):
        test_case.build_tiny("pixelsnail", **overrides)


def test_dropout_is_active_only_while_training():
    model = test_case.build_tiny("pixelsnail", dropout_p=0.5)
    x = test_case.random_images(model, 4)
    a = model.teacher_forced_log_probs(x, training=False).numpy()
    np.testing.assert_array_equal(a, model.teacher_forced_log_probs(x, training=False).numpy())
    assert not np.allclose(a, model.teacher_forced_log_probs(x, training=True).numpy())


@pytest.mark.slow
def test_the_embedded_server_streams_step_with_the_key_value_buffers(tmp_path):
    """Served class-conditional PixelSNAIL: the key/value buffers travel as
    state tensors, one `step` request per pixel, and the streamed image is
    the served `sample` and the Keras model's, for the same seeds."""
    from arzoo.serving import Client, Server, export_model
    from arzoo.serving.client import row_seeds

    model = test_case.build_tiny("pixelsnail", seed=4, **test_case.VARIANTS["class"])
    export_model(model, str(tmp_path), "snail", max_batch_size=4)
    server = Server.from_flags(model_name="snail", model_base_path=str(tmp_path / "snail")).start()
    try:
        seeds, labels = row_seeds(3, 3), np.array([2, 0, 1], np.int32)
        with Client(server.address, "snail", timeout=60.0) as client:
            state = client.initial_state(seeds, condition=labels)
            assert {"state_keys__block0", "state_values__block1"} <= set(state), sorted(state)
            assert state["state_keys__block0"].shape == (3, 16, 4)
            streamed = client.stream_images(seeds, 0.8, condition=labels)
            served = client.sample(seeds, 0.8, condition=labels)
        np.testing.assert_array_equal(streamed, served)
        np.testing.assert_array_equal(served, model.sample(seeds=seeds, temperature=0.8, condition=labels).numpy())
    finally:
        server.stop()


@pytest.mark.extras  # 40 s of training: `make test-extras`
def test_training_on_digits_beats_the_independent_pixel_baseline(tmp_path, monkeypatch):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "pixelsnail_digits.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"family": "pixelsnail", "image_shape": [8, 8, 1], "num_levels": 17, "num_logistic_mix": 3,
                  "num_blocks": 2, "num_resnet": 1, "num_filters": 16, "key_size": 8, "value_size": 16,
                  "dropout_p": 0.0},
        "data": {"dataset": "digits", "batch_size": 32},
        "training": {"steps": 300, "learning_rate": 0.003, "log_every": 100, "checkpoint_every": 300},
    }))
    test_case.check_digits_training_beats_the_independent_pixel_baseline(arzoo.load_config(path), tmp_path / "run")

"""PixelCNN++ beyond the shared contract: tfp's argument names, the
architecture's shape, argument errors, dropout, and learning the channel
coupling on real colour patches."""

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.data import load_dataset
from arzoo.evaluation.likelihood import independent_pixel_baseline
from arzoo.layers import DownRightShiftedConv2DTranspose, DownShiftedConv2DTranspose
from arzoo.training import train
from tests import test_case


def test_tfp_argument_names_round_trip_through_the_config():
    model = test_case.build_tiny("pixelcnn_pp", num_resnet=2, num_hierarchies=1, num_filters=4,
                                 num_logistic_mix=3, receptive_field_dims=[3, 5], dropout_p=0.25)
    config = model.get_config()
    for key, value in dict(num_resnet=2, num_hierarchies=1, num_filters=4, num_logistic_mix=3,
                           receptive_field_dims=[3, 5], dropout_p=0.25).items():
        assert config[key] == value, key
    assert "num_mixtures" not in config
    assert type(model).from_config(config).count_params() == model.count_params()
    with pytest.raises(arzoo.config.ConfigError, match="num_mixtures"):
        arzoo.build_model(dict(test_case.tiny_config("pixelcnn_pp")["model"], num_mixtures=3))


def test_the_papers_shape_blocks_per_resolution_and_shortcuts():
    model = test_case.build_tiny("pixelcnn_pp", image_shape=[8, 8, 1], num_resnet=2, num_hierarchies=3)
    kinds = [(op.kind, op.stream, op.level) for op in model.plan]
    for stream in ("down", "down_right"):
        resnets = [level for kind, s, level in kinds if kind == "resnet" and s == stream]
        # Down: num_resnet per resolution; up: num_resnet at the lowest, one more above it.
        assert resnets == [0, 0, 1, 1, 2, 2] + [2, 2, 1, 1, 1, 0, 0, 0]
        assert [level for kind, s, level in kinds if kind == "downsample" and s == stream] == [1, 2]
        assert [level for kind, s, level in kinds if kind == "upsample" and s == stream] == [1, 0]
    # The shortcuts are the paper's stack: every map of a stream's way down is
    # pushed, the way up starts from the last one and each up block pops the
    # next (last in, first out), at its own resolution, until none is left.
    stream_of = {op.output: op.stream for op in model.plan}
    levels = {op.output: op.level for op in model.plan}
    up_blocks = {}
    for stream in ("down", "down_right"):
        ops = [op for op in model.plan if op.stream == stream]
        own = [[name for name in op.inputs[1:] if stream_of[name] == stream] for op in ops]
        first_up = next(i for i, names in enumerate(own) if names)
        pushed = [op.output for op in ops[:first_up]]
        assert ops[first_up].inputs[0] == pushed[-1]
        up = [(op, names) for op, names in zip(ops[first_up:], own[first_up:]) if op.kind == "resnet"]
        assert all(len(names) == 1 for _, names in up)
        assert [names[0] for _, names in up] == pushed[-2::-1]
        assert all(levels[names[0]] == op.level for op, names in up)
        up_blocks[stream] = [op for op, _ in up]
    # Each down-right block also reads the down block computed just before it.
    down_right_resnets = [op for op in model.plan if op.stream == "down_right" and op.kind == "resnet"]
    down_resnets = [op.output for op in model.plan if op.stream == "down" and op.kind == "resnet"]
    assert [op.inputs[1] for op in down_right_resnets] == down_resnets
    assert len(up_blocks["down"]) == len(up_blocks["down_right"]) == 8
    sizes = model.level_sizes
    assert sizes == ((8, 8), (4, 4), (2, 2))


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(receptive_field_dims=[3, 4]), "cols must be odd"),
        (dict(receptive_field_dims=[1, 3]), "receptive_field_dims entries"),
        (dict(dropout_p=1.0), "dropout_p must be in"),
        (dict(num_resnet=0), "num_resnet"),
        (dict(num_logistic_mix=0), "num_logistic_mix"),
        (dict(condition_shape=[2, 2, 3]), "image's height and width"),
        (dict(image_shape=[4, 4, 3], likelihood="categorical", num_filters=7), "num_filters=7"),
    ],
)
def test_bad_arguments_name_the_value(overrides, message):
    with pytest.raises(ValueError, match=message):
        test_case.build_tiny("pixelcnn_pp", **overrides)


def test_dropout_is_active_only_while_training():
    model = test_case.build_tiny("pixelcnn_pp", dropout_p=0.5)
    x = test_case.random_images(model, 4)
    a = model.teacher_forced_log_probs(x, training=False).numpy()
    np.testing.assert_array_equal(a, model.teacher_forced_log_probs(x, training=False).numpy())
    assert not np.allclose(a, model.teacher_forced_log_probs(x, training=True).numpy())


def test_transposed_layers_read_only_their_row_and_earlier_columns():
    x = tf.random.normal([1, 3, 3, 2])
    for layer, later_columns_open in ((DownShiftedConv2DTranspose(4, (2, 3)), True),
                                      (DownRightShiftedConv2DTranspose(4, (2, 2)), False)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.reduce_sum(layer(x)[0, 3, 3])  # output row 3 <- input row 1 only
        grad = np.abs(tape.gradient(out, x).numpy()[0]).sum(-1)
        assert grad[[0, 2]].sum() == 0 and grad[1].sum() > 0
        # Column 3: the centred kernel reads input columns 1 and 2, the right-shifted one column 1.
        assert (grad[1, 2] > 0) == later_columns_open and grad[1, 1] > 0 and grad[1, 0] == 0


@pytest.mark.extras  # a minute of training: `make test-extras`
def test_learns_channel_coupling_on_real_colour_patches(tmp_path):
    data_dir = str(tmp_path / "tfds")
    data = dict(dataset="photo_patches", image_size=[8, 8], batch_size=32, data_dir=data_dir)
    config = {
        "model": {"family": "pixelcnn_pp", "image_shape": [8, 8, 3], "num_levels": 16,
                  "num_logistic_mix": 3, "num_resnet": 1, "num_hierarchies": 2, "num_filters": 16,
                  "dropout_p": 0.0},
        "data": data,
        "training": {"steps": 300, "learning_rate": 0.003, "log_every": 100, "checkpoint_every": 300},
    }
    model = train(config, str(tmp_path / "run"), progress=False).model
    splits = [load_dataset("photo_patches", s, 16, data_dir=data_dir, image_size=(8, 8)) for s in ("train", "test")]
    baseline = independent_pixel_baseline(*splits, image_shape=(8, 8, 3), num_levels=16)
    x = np.stack([e["image"] for e in splits[1].as_numpy_iterator()])
    bits = model.bits_per_dim(x).numpy().mean()
    assert bits < baseline.bits_per_dim - 0.5, (bits, baseline.bits_per_dim)
    # Given red, green and blue are far more predictable than red itself.
    per_channel = -model.conditional_log_probs(x).numpy().mean(axis=(0, 1, 2)) / np.log(2.0)
    assert per_channel[1] < per_channel[0] - 0.25 and per_channel[2] < per_channel[0] - 0.25, per_channel

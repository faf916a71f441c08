"""WaveNet behind the embedded TF Serving gRPC server, through `Client`.

Two tiny exports: `wave` (unconditional, max_length 64) and `wave_cond`
(speaker + features upsampled by a transposed convolution, the default max
length). Every answer is compared with the Keras model in this process,
which samples under XLA while the export runs the portable loop.
"""

import types

import grpc
import numpy as np
import pytest

from arzoo.serving import export_model
from arzoo.serving.client import Client, ServingError, row_seeds
from arzoo.serving.server import ModelEntry, Server
from tests.serving.compat_helpers import build_tiny_audio, decode_audio

MAX_BATCH = 4
MAX_LENGTH = 64
TIMEOUT = 60.0
INVALID = grpc.StatusCode.INVALID_ARGUMENT
LENGTH = 16  # four frames of the tiny config's hop_length 4


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    base = tmp_path_factory.mktemp("audio_exports")
    plain = build_tiny_audio(seed=0)
    both = build_tiny_audio(seed=1, num_speakers=2, local_channels=3, upsampling="transposed")
    export_model(plain, base, "wave", max_batch_size=MAX_BATCH, max_length=MAX_LENGTH)
    export_model(both, base, "wave_cond", max_batch_size=MAX_BATCH)
    return types.SimpleNamespace(base=base, plain=plain, both=both)


@pytest.fixture(scope="module")
def server(models):
    entries = [
        ModelEntry("wave", str(models.base / "wave")),
        ModelEntry("wave_cond", str(models.base / "wave_cond")),
    ]
    server = Server(entries, poll_wait_seconds=60.0, max_workers=4).start()
    yield server
    server.stop()


def client_for(server, name):
    return Client(server.address, name, timeout=TIMEOUT)


def audio(model, batch, length=LENGTH, seed=0):
    return np.random.default_rng(seed).integers(0, model.num_levels, (batch, length)).astype(np.int32)


def conditioning(model, batch, length=LENGTH, seed=0):
    rng = np.random.default_rng(seed + 1)
    frames = -(-length // model.hop_length)
    return {
        "speaker": rng.integers(0, model.num_speakers, batch).astype(np.int32),
        "features": rng.normal(size=(batch, frames, model.local_channels)).astype(np.float32),
    }


def assert_status(call, code, *words):
    with pytest.raises(ServingError) as info:
        call()
    assert info.value.code == code, str(info.value)
    for word in words:
        assert word in info.value.details, info.value.details
    return info.value


# ----- answers equal the Keras model ------------------------------------------


@pytest.mark.parametrize("length", [LENGTH, 24])
def test_log_prob_matches_keras_at_any_length(server, models, length):
    x = audio(models.plain, 3, length, seed=length)
    with client_for(server, "wave") as client:
        got = client.log_prob(x)
        default = client.predict("serving_default", {"x": x})
    np.testing.assert_allclose(got["log_prob"], models.plain.log_prob(x).numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        got["bits_per_sample"], models.plain.bits_per_sample(x).numpy(), atol=1e-6, rtol=0
    )
    np.testing.assert_array_equal(default["log_prob"], got["log_prob"])

    cond = conditioning(models.both, 3, length)
    x = audio(models.both, 3, length, seed=length)
    with client_for(server, "wave_cond") as client:
        got = client.log_prob(x, **cond)
    np.testing.assert_allclose(got["log_prob"], models.both.log_prob(x, cond).numpy(), atol=1e-5, rtol=0)


def test_both_conditions_reach_the_export(server, models):
    x = audio(models.both, 2, seed=9)
    cond = conditioning(models.both, 2, seed=9)
    changed = {
        "speaker": dict(cond, speaker=1 - cond["speaker"]),
        "features": dict(cond, features=cond["features"] + 1.0),
    }
    with client_for(server, "wave_cond") as client:
        base = client.log_prob(x, **cond)["log_prob"]
        for name, other in changed.items():
            got = client.log_prob(x, **other)["log_prob"]
            assert np.abs(got - base).min() > 1e-3, name
            np.testing.assert_allclose(got, models.both.log_prob(x, other).numpy(), atol=1e-5, rtol=0)
        # The step signature reads them too: the first step's parameters.
        seeds = row_seeds(2, 2)
        first = {}
        for name, c in dict(changed, base=cond).items():
            state = client.initial_state(seeds, **c)
            first[name], _, _ = client.step(np.zeros([2, 1], np.int32), state, seeds, **c)
            expected, _ = models.both.step(np.zeros([2, 1], np.int32), models.both.initial_state(2), c)
            np.testing.assert_allclose(first[name], expected.numpy(), atol=1e-5, rtol=0)
    for name in changed:
        assert np.abs(first[name] - first["base"]).max() > 1e-3, name


def test_sample_audio_matches_keras(server, models):
    seeds = row_seeds(7, 3)
    temperature = np.array([1.0, 0.6, 1.4], np.float32)
    with client_for(server, "wave") as client:
        levels, decoded = client.sample_audio(seeds, temperature, length=20)
        default_levels, _ = client.sample_audio(seeds)  # the model's sample_length
    expected = models.plain.sample(seeds=seeds, temperature=temperature, length=20).numpy()
    np.testing.assert_array_equal(levels, expected)
    assert levels.dtype == np.int32 and decoded.dtype == np.float32 and levels.shape == (3, 20)
    np.testing.assert_allclose(decoded, decode_audio(models.plain, levels), atol=1e-6, rtol=0)
    assert len(np.unique(levels)) > 1
    np.testing.assert_array_equal(default_levels, models.plain.sample(seeds=seeds).numpy())
    assert default_levels.shape == (3, models.plain.sample_length)

    cond = conditioning(models.both, 3)
    with client_for(server, "wave_cond") as client:
        levels, _ = client.sample_audio(seeds, 0.8, **cond)
    np.testing.assert_array_equal(
        levels, models.both.sample(seeds=seeds, temperature=0.8, condition=cond).numpy()
    )
    assert levels.shape == (3, LENGTH)  # frames x hop_length


def test_a_row_does_not_change_with_its_batch(server, models):
    seeds = row_seeds(3, 4)
    with client_for(server, "wave") as client:
        together, _ = client.sample_audio(seeds, length=LENGTH)
        alone, _ = client.sample_audio(seeds[2:3], length=LENGTH)
    np.testing.assert_array_equal(alone, together[2:3])


def test_complete_audio_continues_a_prefix(server, models):
    seeds = row_seeds(5, 2)
    cond = conditioning(models.both, 2, seed=2)
    x = audio(models.both, 2, seed=2)
    known = np.zeros_like(x)
    known[:, :6] = 1
    with client_for(server, "wave_cond") as client:
        levels, decoded = client.complete_audio(x, known, seeds, 1.0, **cond)
    np.testing.assert_array_equal(levels[:, :6], x[:, :6])
    np.testing.assert_array_equal(
        levels, models.both.complete(x, known, seeds=seeds, condition=cond).numpy()
    )
    np.testing.assert_allclose(decoded, decode_audio(models.both, levels), atol=1e-6, rtol=0)


def test_streaming_reproduces_sample_audio(server, models):
    seeds = row_seeds(11, 2)
    with client_for(server, "wave") as client:
        streamed = np.stack(list(client.stream_audio(seeds, 0.9, length=LENGTH)), 1)
        sampled, _ = client.sample_audio(seeds, 0.9, length=LENGTH)
    np.testing.assert_array_equal(streamed, sampled)
    cond = conditioning(models.both, 2, seed=4)
    with client_for(server, "wave_cond") as client:
        streamed = np.stack(list(client.stream_audio(seeds, **cond)), 1)
        sampled, _ = client.sample_audio(seeds, **cond)
    assert streamed.shape == (2, LENGTH)
    np.testing.assert_array_equal(streamed, sampled)


def test_model_info(server, models):
    with client_for(server, "wave") as client:
        info = client.model_info()
    model = models.plain
    assert info == {
        "modality": "audio", "num_levels": model.num_levels, "sample_rate": model.sample_rate,
        "hop_length": model.hop_length, "sample_length": model.sample_length,
        "max_length": MAX_LENGTH, "max_batch_size": MAX_BATCH, "num_speakers": 0,
        "local_channels": 0, "receptive_field": model.receptive_field,
    }
    with client_for(server, "wave_cond") as client:
        info = client.model_info()
        summary = client.metadata()
    assert (info["num_speakers"], info["local_channels"], info["max_length"]) == (2, 3, 10 * model.sample_rate)
    assert summary["sample"]["inputs"] == {
        "seed": ("int32", [-1, 2]), "temperature": ("float32", [-1]),
        "speaker": ("int32", [-1]), "features": ("float32", [-1, -1, 3]),
    }
    assert summary["log_prob"]["outputs"] == {
        "log_prob": ("float32", [-1]), "bits_per_sample": ("float32", [-1]),
    }


# ----- bad input: INVALID_ARGUMENT naming it, and the server goes on --------------

SEEDS = row_seeds(0, 2)


def _cond(model, **changes):
    return dict(conditioning(model, 2), **changes)


# case: (model name, the call, words the message holds)
BAD_CALLS = {
    "level too high": (
        "wave", lambda c, m: c.log_prob(np.full([2, LENGTH], m.plain.num_levels, np.int32)), ["'x'", "num_levels"],
    ),
    "negative level": ("wave", lambda c, m: c.log_prob(-np.ones([2, LENGTH], np.int32)), ["'x'"]),
    "unknown speaker": (
        "wave_cond",
        lambda c, m: c.sample_audio(SEEDS, **_cond(m.both, speaker=np.array([0, 2], np.int32))),
        ["'speaker'", "num_speakers=2"],
    ),
    "too-short features": (
        "wave_cond",
        lambda c, m: c.log_prob(audio(m.both, 2), **_cond(m.both, features=np.zeros([2, 3, 3], np.float32))),
        ["'features'", "too short"],
    ),
    "features not finite": (
        "wave_cond",
        lambda c, m: c.sample_audio(SEEDS, **_cond(m.both, features=np.full([2, 2, 3], np.inf, np.float32))),
        ["'features'", "finite"],
    ),
    "oversize length": (
        "wave", lambda c, m: c.sample_audio(SEEDS, length=MAX_LENGTH + 1), ["'length'", f"max_length={MAX_LENGTH}"],
    ),
    "oversize log_prob": (
        "wave", lambda c, m: c.log_prob(np.zeros([1, MAX_LENGTH + 1], np.int32)), ["'x'", "max_length"],
    ),
    "zero length": ("wave", lambda c, m: c.sample_audio(SEEDS, length=0), ["'length'"]),
    "mismatched lengths": (
        "wave",
        lambda c, m: c.predict("sample", {
            "seed": SEEDS, "temperature": np.ones([2], np.float32), "length": np.array([8, 9], np.int32),
        }),
        ["'length'", "same in every row"],
    ),
    "oversize batch": (
        "wave", lambda c, m: c.sample_audio(row_seeds(0, MAX_BATCH + 1), length=4), ["batch size"],
    ),
    "zero temperature": ("wave", lambda c, m: c.sample_audio(SEEDS, 0.0, length=4), ["'temperature'"]),
    "known_mask shape": (
        "wave",
        lambda c, m: c.complete_audio(audio(m.plain, 2), np.ones([2, LENGTH - 1], np.int32), SEEDS),
        ["'known_mask'"],
    ),
    "ragged positions": (
        "wave",
        lambda c, m: c.step(
            np.zeros([2, 1], np.int32),
            dict(c.initial_state(SEEDS), state_position=np.array([0, 1], np.int32)), SEEDS,
        ),
        ["state_position", "same in every row"],
    ),
    "step past max_length": (
        "wave",
        lambda c, m: c.step(
            np.zeros([2, 1], np.int32),
            dict(c.initial_state(SEEDS), state_position=np.full([2], MAX_LENGTH, np.int32)), SEEDS,
        ),
        ["state_position", f"max_length={MAX_LENGTH}"],
    ),
    "speaker for an unconditional model": (
        "wave", lambda c, m: c.log_prob(audio(m.plain, 2), speaker=[0, 1]), ["speaker"],
    ),
    "missing features": (
        "wave_cond", lambda c, m: c.log_prob(audio(m.both, 2), speaker=[0, 1]), ["features"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_is_invalid_argument_and_server_goes_on(server, models, case):
    name, call, words = BAD_CALLS[case]
    with client_for(server, name) as client:
        assert_status(lambda: call(client, models), INVALID, *words)
    x = audio(models.plain, 1)
    with client_for(server, "wave") as client:
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], models.plain.log_prob(x).numpy(), atol=1e-5, rtol=0
        )


def test_client_refuses_a_length_the_features_do_not_give(server, models):
    with client_for(server, "wave_cond") as client:
        with pytest.raises(ValueError, match=r"4 frames x hop_length=4 = 16 samples, but length=20"):
            client.sample_audio(SEEDS, length=20, **conditioning(models.both, 2))


def test_export_arguments_are_checked_before_any_folder(models, tmp_path):
    from tests import test_case

    image_model = test_case.build_tiny("pixelcnn", **test_case.VARIANTS["grey"])
    with pytest.raises(ValueError, match="max_length applies to sequence models only; PixelCNN is an image model"):
        export_model(image_model, tmp_path, "img", max_length=100)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="max_length must be an integer >= 1"):
            export_model(models.plain, tmp_path, "wave", max_length=bad)
    with pytest.raises(ValueError, match="max_batch_size"):
        export_model(models.plain, tmp_path, "wave", max_batch_size=0)
    assert list(tmp_path.iterdir()) == []

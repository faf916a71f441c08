"""The embedded TF Serving gRPC server and the client, against the Keras models.

One server per module over tiny exports: `tiny` versions 1 and 2 (different
weights), a class-conditional `cls`, and `polled`, whose versions appear while
the server runs.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from concurrent import futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.python.saved_model import loader_impl
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from arzoo import cli
from arzoo.serving import export_model
from arzoo.serving.client import Client, ServingError, row_seeds
from arzoo.serving.config_files import read_model_config
from arzoo.serving.server import ModelEntry, Servable, Server, entries_from_config
from tests import test_case

MAX_BATCH = 8
POLL_SECONDS = 0.2
TIMEOUT = 60.0
SIGNATURES = {"serving_default", "log_prob", "sample", "complete", "initial_state", "step", "metadata"}
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def _config_text(base, polled):
    return f"""
model_config_list {{
  config {{
    name: "tiny"
    base_path: "{os.path.join(base, 'tiny')}"
    model_platform: "tensorflow"
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
  config {{ name: "cls" base_path: "{os.path.join(base, 'cls')}" }}
  config {{ name: "polled" base_path: "{polled}" }}
}}
"""


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("exports"))
    v1 = test_case.build_tiny("gated_pixelcnn", seed=0, **test_case.VARIANTS["grey"])
    v2 = test_case.build_tiny("gated_pixelcnn", seed=1, **test_case.VARIANTS["grey"])
    cls = test_case.build_tiny("gated_pixelcnn", seed=2, **test_case.VARIANTS["class"])
    export_model(v1, base, "tiny", max_batch_size=MAX_BATCH)
    export_model(v2, base, "tiny", max_batch_size=MAX_BATCH)
    export_model(cls, base, "cls", max_batch_size=MAX_BATCH)
    polled = os.path.join(base, "polled")  # absent until test_new_version_is_picked_up
    config = os.path.join(base, "models.config")
    with open(config, "w") as f:
        f.write(_config_text(base, polled))
    return types.SimpleNamespace(base=base, polled=polled, config=config, v1=v1, v2=v2, cls=cls)


@pytest.fixture(scope="module")
def server(exports):
    server = Server.from_flags(
        model_config_file=exports.config, poll_wait_seconds=POLL_SECONDS, max_workers=8
    ).start()
    yield server
    server.stop()


def client_for(server, name="tiny", version=None):
    return Client(server.address, name, version, timeout=TIMEOUT)


def images(model, batch, seed=0):
    return test_case.random_images(model, batch, seed)


def assert_status(call, code, *words):
    with pytest.raises(ServingError) as info:
        call()
    assert info.value.code == code, str(info.value)
    for word in words:
        assert word in info.value.details, info.value.details
    return info.value


# ----- results equal the Keras models ---------------------------------------


@pytest.mark.parametrize("version", [1, 2, None, "stable", "canary"])
def test_log_prob_matches_keras(server, exports, version):
    model = {1: exports.v1, "stable": exports.v1}.get(version, exports.v2)
    x = images(model, 3, seed=5)
    with client_for(server, version=version) as client:
        got = client.log_prob(x)
        default = client.predict("serving_default", {"x": x})
    np.testing.assert_allclose(got["log_prob"], model.log_prob(x).numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(got["bits_per_dim"], model.bits_per_dim(x).numpy(), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(default["log_prob"], got["log_prob"])


def test_versions_are_different_models(exports):
    x = images(exports.v1, 3, seed=5)
    assert np.abs(exports.v1.log_prob(x).numpy() - exports.v2.log_prob(x).numpy()).max() > 1e-3


def test_response_model_spec_is_filled_like_tf_serving(server):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tiny"
    request.model_spec.signature_name = "log_prob"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.zeros([1, 4, 4, 1], np.int32)))
    request.output_filter.append("bits_per_dim")
    with grpc.insecure_channel(server.address) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, timeout=TIMEOUT
        )
    assert response.model_spec.name == "tiny"
    assert response.model_spec.version.value == 2  # the latest
    assert response.model_spec.signature_name == "log_prob"
    assert list(response.outputs) == ["bits_per_dim"]


def test_sample_and_complete_match_keras(server, exports):
    seeds = row_seeds(7, 4)
    temperature = np.array([1.0, 0.5, 2.0, 1.0], np.float32)
    with client_for(server) as client:
        samples = client.sample(seeds, temperature)
        x = images(exports.v2, 4, seed=1)
        mask = (np.arange(16).reshape(1, 4, 4, 1) < 6).astype(np.int32).repeat(4, 0)
        completed = client.complete(x, mask, seeds, 0.8)
    expected = exports.v2.sample(seeds=seeds, temperature=temperature).numpy()
    np.testing.assert_array_equal(samples, expected)
    np.testing.assert_array_equal(
        completed, exports.v2.complete(x, mask, seeds=seeds, temperature=0.8).numpy()
    )
    np.testing.assert_array_equal(completed[mask == 1], x[mask == 1])
    assert samples.dtype == np.int32 and samples.shape == (4, 4, 4, 1)


def test_class_conditional_sample_and_log_prob(server, exports):
    seeds = row_seeds(3, 3)
    labels = np.array([0, 2, 1], np.int32)
    x = images(exports.cls, 3)
    with client_for(server, "cls") as client:
        samples = client.sample(seeds, 1.0, condition=labels)
        log_prob = client.log_prob(x, condition=labels)["log_prob"]
    np.testing.assert_array_equal(
        samples, exports.cls.sample(seeds=seeds, condition=labels).numpy()
    )
    np.testing.assert_allclose(log_prob, exports.cls.log_prob(x, labels).numpy(), atol=1e-5, rtol=0)


def test_stream_reproduces_sample(server, exports):
    seeds = row_seeds(11, 3)
    with client_for(server) as client:
        _, num_steps, values_per_step = client.sampling_layout()
        steps = list(client.stream(seeds, temperature=0.7))
        sampled = client.sample(seeds, 0.7)
    assert len(steps) == num_steps == exports.v2.num_steps
    assert all(s.shape == (3, values_per_step) for s in steps)
    np.testing.assert_array_equal(np.stack(steps, 1).reshape(sampled.shape), sampled)
    with client_for(server, "cls") as client:
        labels = np.array([1, 0, 2], np.int32)
        np.testing.assert_array_equal(
            client.stream_images(seeds, condition=labels), client.sample(seeds, condition=labels)
        )


def test_step_rejects_a_finished_image(server):
    with client_for(server) as client:
        seeds = row_seeds(0, 1)
        state = client.initial_state(seeds)
        state["state_position"] = np.array([16], np.int32)
        assert_status(
            lambda: client.step(np.zeros([1, 1], np.int32), state, seeds), INVALID, "state_position"
        )


# ----- metadata and status --------------------------------------------------


def test_metadata_lists_every_signature(server, exports):
    with client_for(server, version=1) as client:
        summary = client.metadata()
        raw = client.signature_defs()
    assert set(summary) == SIGNATURES
    assert set(summary["log_prob"]["inputs"]) == {"x"}
    assert summary["log_prob"]["inputs"]["x"] == ("int32", [-1, 4, 4, 1])
    assert set(summary["log_prob"]["outputs"]) == {"log_prob", "bits_per_dim"}
    assert set(summary["sample"]["inputs"]) == {"seed", "temperature"}
    assert set(summary["complete"]["inputs"]) == {"x", "known_mask", "seed", "temperature"}
    assert set(summary["initial_state"]["inputs"]) == {"seed"}
    states = {k for k in summary["initial_state"]["outputs"]}
    assert "state_position" in states
    assert set(summary["step"]["inputs"]) == {"inputs_t", "seed", "temperature"} | states
    assert set(summary["step"]["outputs"]) == {"params", "values"} | states
    # Exactly the SavedModel's own SignatureDefs, as TF Serving returns them.
    saved = loader_impl.parse_saved_model(os.path.join(exports.base, "tiny", "1"))
    assert raw == dict(saved.meta_graphs[0].signature_def)
    with client_for(server, "cls") as client:
        assert client.metadata()["sample"]["inputs"]["condition"] == ("int32", [-1])
    assert summary["metadata"]["inputs"] == {"seed": ("int32", [-1, 2])}


def test_model_info_from_the_metadata_signature(server, exports):
    with client_for(server) as client:
        info = client.model_info()
        assert info == {
            "modality": "image", "num_levels": exports.v2.num_levels, "image_shape": [4, 4, 1],
            "num_steps": exports.v2.num_steps, "max_batch_size": MAX_BATCH,
        }
        # One row per seed, like every signature.
        rows = client.predict("metadata", {"seed": np.zeros([3, 2], np.int32)})
        np.testing.assert_array_equal(rows["image_shape"], [[4, 4, 1]] * 3)
        assert_status(
            lambda: client.predict("metadata", {"seed": np.zeros([BIG, 2], np.int32)}), INVALID, "batch size"
        )
    # An export from before `metadata` existed: what the signatures show.
    with client_for(server) as old:
        old._signature_defs = {k: v for k, v in old.signature_defs().items() if k != "metadata"}
        assert old.model_info() == {"modality": "image", "num_levels": None, "image_shape": [4, 4, 1]}


def test_metadata_errors(server):
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "tiny"
    request.metadata_field.append("graph")
    with grpc.insecure_channel(server.address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.GetModelMetadata(request, timeout=TIMEOUT)
    assert info.value.code() == INVALID
    assert "graph" in info.value.details()


def test_model_status(server):
    with client_for(server) as client:
        assert client.status()[2] == "AVAILABLE"
    with client_for(server, "cls") as client:
        assert client.status() == {1: "AVAILABLE"}
    with client_for(server, "nope") as client:
        assert_status(client.status, NOT_FOUND, "nope")
    with client_for(server, version=9) as client:
        assert_status(client.status, NOT_FOUND, "9")


def test_config_policies():
    config = read_model_config(os.devnull)
    entry = config.model_config_list.config.add(name="m", base_path="/m")
    entry.model_version_policy.latest.num_versions = 2
    latest = entries_from_config(config)[0]
    assert latest.servable_versions([1, 3, 4]) == [3, 4]
    assert latest.eager_versions([1, 3, 4]) == [3, 4]
    assert not latest.allows_on_demand(1, [1, 3, 4])
    entry.model_version_policy.specific.versions.extend([1, 5])
    specific = entries_from_config(config)[0]
    assert specific.servable_versions([1, 3, 4]) == [1]
    default = ModelEntry("m", "/m")
    assert default.servable_versions([1, 3]) == [1, 3]
    assert default.eager_versions([1, 3]) == [3]
    assert default.allows_on_demand(1, [1, 3]) and not default.allows_on_demand(2, [1, 3])
    config.model_config_list.config.add(name="m", base_path="/n")
    with pytest.raises(ValueError, match="unique"):
        entries_from_config(config)


# ----- versions appear while serving ----------------------------------------


def wait_for(predicate, seconds=30.0, step=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_new_version_is_picked_up(server, exports):
    x = images(exports.v1, 2)
    with client_for(server, "polled") as client:
        assert_status(lambda: client.log_prob(x), NOT_FOUND, "polled")
        # The exporter's temporary folder (not an integer) is ignored ...
        incomplete = os.path.join(exports.polled, ".incomplete-1-test")
        shutil.copytree(os.path.join(exports.base, "tiny", "1"), incomplete)
        time.sleep(4 * POLL_SECONDS)
        assert_status(lambda: client.log_prob(x), NOT_FOUND)
        # ... until it is renamed to its version.
        os.rename(incomplete, os.path.join(exports.polled, "1"))
        assert wait_for(lambda: _available(client, 1)), "version 1 was not loaded"
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], exports.v1.log_prob(x).numpy(), atol=1e-5, rtol=0
        )
        # Written as exporters write (a temporary folder, then a rename): a
        # folder copied in place can be polled half-written, fail, and (as in
        # TF Serving) stay failed.
        staging = os.path.join(exports.polled, ".incomplete-2-test")
        shutil.copytree(os.path.join(exports.base, "tiny", "2"), staging)
        os.rename(staging, os.path.join(exports.polled, "2"))
        assert wait_for(lambda: _available(client, 2)), "version 2 was not loaded"
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], exports.v2.log_prob(x).numpy(), atol=1e-5, rtol=0
        )
        # A version whose folder disappears is unloaded.
        shutil.rmtree(os.path.join(exports.polled, "2"))
        assert wait_for(lambda: 2 not in client.status()), "version 2 was not unloaded"
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], exports.v1.log_prob(x).numpy(), atol=1e-5, rtol=0
        )
        # A version that fails to load is reported, and the last good one serves on.
        os.makedirs(os.path.join(exports.polled, "3"))
        assert wait_for(lambda: client.status().get(3) == "END"), "version 3 was not tried"
        assert client.status()[1] == "AVAILABLE"
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], exports.v1.log_prob(x).numpy(), atol=1e-5, rtol=0
        )
        # Copied in place (`cp -r`) and polled half-way, it fails; once its
        # files are complete it is retried and served (it stayed failed before).
        source = os.path.join(exports.base, "tiny", "2")
        shutil.copy(os.path.join(source, "saved_model.pb"), os.path.join(exports.polled, "3"))
        time.sleep(4 * POLL_SECONDS)
        assert client.status().get(3) == "END"
        for entry in os.listdir(source):
            if entry != "saved_model.pb":
                copy = shutil.copytree if os.path.isdir(os.path.join(source, entry)) else shutil.copy
                copy(os.path.join(source, entry), os.path.join(exports.polled, "3", entry))
        assert wait_for(lambda: _available(client, 3)), "version 3 was not retried once complete"
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], exports.v2.log_prob(x).numpy(), atol=1e-5, rtol=0
        )


def _available(client, version):
    try:
        return client.status().get(version) == "AVAILABLE"
    except ServingError:
        return False


# ----- malformed requests ---------------------------------------------------

X = np.zeros([2, 4, 4, 1], np.int32)
SEEDS = np.zeros([2, 2], np.int32)
ONES = np.ones([2], np.float32)

BIG = MAX_BATCH + 1

# case: (model, version, signature, inputs, status code, a word the message has)
BAD_REQUESTS = {
    "unknown model": ("nope", None, "log_prob", {"x": X}, NOT_FOUND, "nope"),
    "unknown version": ("tiny", 7, "log_prob", {"x": X}, NOT_FOUND, "7"),
    "unknown label": ("tiny", "beta", "log_prob", {"x": X}, INVALID, "beta"),
    # TF Serving answers an unknown signature key with FAILED_PRECONDITION.
    "unknown signature": (
        "tiny", None, "decode", {"x": X}, grpc.StatusCode.FAILED_PRECONDITION, "decode"
    ),
    "missing input": ("tiny", None, "sample", {"seed": SEEDS}, INVALID, "temperature"),
    "unknown input": ("tiny", None, "log_prob", {"image": X}, INVALID, "image"),
    "extra input": ("tiny", None, "log_prob", {"x": X, "condition": ONES}, INVALID, "condition"),
    "wrong dtype": ("tiny", None, "log_prob", {"x": X.astype(np.float32)}, INVALID, "'x'"),
    "wrong rank": ("tiny", None, "log_prob", {"x": X[..., 0]}, INVALID, "'x'"),
    "wrong image size": ("tiny", None, "log_prob", {"x": np.zeros([2, 5, 4, 1], np.int32)}, INVALID, "'x'"),
    "level too high": ("tiny", None, "log_prob", {"x": X + 3}, INVALID, "'x'"),
    "negative level": ("tiny", None, "log_prob", {"x": X - 1}, INVALID, "'x'"),
    "oversize batch": (
        "tiny", None, "sample",
        {"seed": np.zeros([BIG, 2], np.int32), "temperature": np.ones([BIG], np.float32)},
        INVALID, "batch size",
    ),
    "empty batch": ("tiny", None, "log_prob", {"x": X[:0]}, INVALID, "empty"),
    "mismatched batches": (
        "tiny", None, "sample", {"seed": SEEDS, "temperature": np.ones([3], np.float32)},
        INVALID, "'temperature'",
    ),
    "zero temperature": (
        "tiny", None, "sample", {"seed": SEEDS, "temperature": 0 * ONES}, INVALID, "'temperature'"
    ),
    "label out of range": (
        "cls", None, "sample",
        {"seed": SEEDS, "temperature": ONES, "condition": np.array([0, 3], np.int32)},
        INVALID, "'condition'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_malformed_request_is_rejected_and_server_goes_on(server, exports, case):
    name, version, signature, inputs, code, word = BAD_REQUESTS[case]
    with client_for(server, name, version) as bad:
        assert_status(lambda: bad.predict(signature, inputs), code, word)
    x = images(exports.v2, 1)
    with client_for(server) as good:
        np.testing.assert_allclose(
            good.log_prob(x)["log_prob"], exports.v2.log_prob(x).numpy(), atol=1e-5, rtol=0
        )


def _declared_only(shape, value=1):
    """An int32 TensorProto declaring `shape` with one int_val: 18 bytes on the
    wire, `prod(shape)` values once decoded."""
    proto = tf.make_tensor_proto(np.int32(value))
    proto.tensor_shape.Clear()
    for size in shape:
        proto.tensor_shape.dim.add(size=size)
    return proto


@pytest.mark.parametrize("shape, code, words", [
    ([2**26, 2], grpc.StatusCode.RESOURCE_EXHAUSTED, ("[67108864, 2]", "536870912 bytes", "--max_request_bytes")),
    ([BIG, 2], INVALID, ("batch size 9", "max_batch_size 8")),
    ([2, 3], INVALID, ("'seed'", "[None, 2]")),
    ([-1, 2], INVALID, ("'seed'", ">= 0")),
])
def test_declared_shape_is_refused_before_decoding(server, shape, code, words, monkeypatch):
    """A tiny request that declares a huge tensor is refused from its shape,
    without decoding it (decoding allocated 1.5 GB before the refusal): the
    server (in this process) never calls make_ndarray on it."""
    from arzoo.serving import requests

    decoded = []
    real_make_ndarray = tf.make_ndarray

    def make_ndarray(proto):
        decoded.append([d.size for d in proto.tensor_shape.dim])
        return real_make_ndarray(proto)

    monkeypatch.setattr(requests.tf, "make_ndarray", make_ndarray)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tiny"
    request.model_spec.signature_name = "sample"
    request.inputs["seed"].CopyFrom(_declared_only(shape))
    request.inputs["temperature"].CopyFrom(tf.make_tensor_proto(np.ones([2], np.float32)))
    with grpc.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.RpcError) as info:
            prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=TIMEOUT)
    assert info.value.code() == code, info.value.details()
    for word in words:
        assert word in info.value.details(), info.value.details()
    assert shape not in decoded, f"the {request.ByteSize()}-byte request's seed was decoded: {decoded}"


def test_unexpected_failure_is_internal_and_server_goes_on(server, exports, monkeypatch):
    def broken(self, signature_name, inputs, aliases):
        raise RuntimeError("disk on fire")

    x = images(exports.v2, 1)
    with client_for(server) as client:
        with monkeypatch.context() as patch:
            patch.setattr(Servable, "run", broken)
            assert_status(lambda: client.log_prob(x), grpc.StatusCode.INTERNAL, "disk on fire")
        np.testing.assert_allclose(
            client.log_prob(x)["log_prob"], exports.v2.log_prob(x).numpy(), atol=1e-5, rtol=0
        )


def test_unknown_output_filter(server):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tiny"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(X))
    request.output_filter.append("nats")
    with grpc.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.RpcError) as info:
            prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=TIMEOUT)
    assert info.value.code() == INVALID and "nats" in info.value.details()


# ----- concurrency ----------------------------------------------------------


def test_concurrent_clients_get_sequential_answers(server, exports):
    requests = []
    for i in range(10):
        if i % 3 == 0:
            requests.append(("sample", row_seeds(100 + i, 1 + i % 2)))
        else:
            requests.append(("log_prob", images(exports.v2, 1 + i % 2, seed=i)))
    with client_for(server) as client:
        expected = [_ask(client, kind, arg) for kind, arg in requests]

    def worker(index):
        order = np.random.default_rng(index).permutation(20) % len(requests)
        with client_for(server) as own:
            return [(int(k), _ask(own, *requests[k])) for k in order]

    with futures.ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(worker, i) for i in range(8)]
        answers = [job.result(timeout=120) for job in jobs]
    assert sum(len(a) for a in answers) == 160
    for answer in answers:
        for k, got in answer:
            if requests[k][0] == "sample":
                np.testing.assert_array_equal(got, expected[k])
            else:
                np.testing.assert_allclose(got, expected[k], atol=1e-6, rtol=0)


def _ask(client, kind, arg):
    if kind == "sample":
        return client.sample(arg)
    return client.log_prob(arg)["log_prob"]


# ----- the CLI against a server in a subprocess ------------------------------


def _read_lines(stream, lines):
    for line in stream:
        lines.put(line)


@pytest.mark.slow
def test_cli_client_sample_against_serve_subprocess(exports, tmp_path, capsys):
    command = [
        sys.executable, "-m", "arzoo.cli", "serve",
        "--model_name", "tiny", "--model_base_path", os.path.join(exports.base, "tiny"),
        "--port", "0", "--file_system_poll_wait_seconds", "0.5", "--rest_api_port", "0", "--enable_batching",
    ]
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    lines = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        address = rest = None
        deadline = time.monotonic() + 120
        while address is None and time.monotonic() < deadline and process.poll() is None:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                continue
            match = re.search(r"listening on (\S+:\d+) \(gRPC, REST on (http://\S+:\d+), batching;", line)
            address, rest = match.groups() if match else (None, None)
        assert address, f"no address printed; log: {(tmp_path / 'serve.log').read_text()[-2000:]}"

        png = tmp_path / "grid.png"
        code = cli.main([
            "client", "sample", "--target", address, "--model", "tiny", "--n", "12",
            "--seed", "4", "--num-levels", "3", "--batch-size", "5", "--out", str(png),
        ])
        assert code == 0
        samples = np.load(tmp_path / "grid.npy")
        np.testing.assert_array_equal(samples, exports.v2.sample(12, seed=4).numpy())
        with Image.open(png) as image:
            assert image.format == "PNG" and image.width > 4 and image.height > 4

        capsys.readouterr()
        code = cli.main([
            "client", "log-prob", "--target", address, "--model", "tiny", "--version", "1",
            "--npy", str(tmp_path / "grid.npy"), "--batch-size", "8",
        ])
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        np.testing.assert_allclose(report["log_prob"], exports.v1.log_prob(samples).numpy(), atol=1e-5)

        code = cli.main(["client", "sample", "--target", address, "--model", "nope", "--out", str(png)])
        assert code == 2
        assert "NOT_FOUND" in capsys.readouterr().err

        # The same draws over REST, through the server's batcher.
        code = cli.main([
            "client", "sample", "--target", rest, "--model", "tiny", "--n", "12",
            "--seed", "4", "--num-levels", "3", "--batch-size", "5", "--out", str(tmp_path / "rest.png"),
        ])
        assert code == 0
        np.testing.assert_array_equal(np.load(tmp_path / "rest.npy"), samples)
        code = cli.main(["client", "sample", "--target", rest, "--model", "nope", "--out", str(png)])
        assert code == 2
        assert "NOT_FOUND (HTTP 404)" in capsys.readouterr().err
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise
        log.close()
    assert returncode == 0, (tmp_path / "serve.log").read_text()[-2000:]

"""TF Serving's REST API beside gRPC: driven with a plain HTTP client
(`http.client`), the same numbers as gRPC, the same errors with TF Serving's
HTTP codes, and the request-size limit on both front ends."""

import http.client
import json
import os
import types
import urllib.parse

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from arzoo.serving import export_model
from arzoo.serving.client import Client, ServingError, row_seeds
from arzoo.serving.rest import HTTP_STATUS
from arzoo.serving.server import ModelEntry, Server
from tests import test_case
from tests.serving.test_grpc import BAD_REQUESTS, MAX_BATCH

TIMEOUT = 60.0
MAX_REQUEST_BYTES = 32 * 1024


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("exports"))
    tiny = test_case.build_tiny("gated_pixelcnn", seed=1, **test_case.VARIANTS["grey"])
    cls = test_case.build_tiny("gated_pixelcnn", seed=2, **test_case.VARIANTS["class"])
    export_model(tiny, base, "tiny", max_batch_size=MAX_BATCH)
    export_model(cls, base, "cls", max_batch_size=MAX_BATCH)
    return types.SimpleNamespace(base=base, tiny=tiny, cls=cls)


@pytest.fixture(scope="module")
def server(exports):
    models = [
        ModelEntry("tiny", os.path.join(exports.base, "tiny"), labels={"stable": 1}),
        ModelEntry("cls", os.path.join(exports.base, "cls")),
    ]
    server = Server(models, rest_api_port=0, max_request_bytes=MAX_REQUEST_BYTES, max_workers=4).start()
    yield server
    server.stop()


def http_call(server, method, path, body=None, headers=None, connection=None):
    """(status, parsed JSON) over a plain HTTP connection (a new one unless given)."""
    own = connection is None
    if own:
        parts = urllib.parse.urlsplit(server.rest_address)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    try:
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.getheader("Content-Type") == "application/json"
        return response.status, answer
    finally:
        if own:
            connection.close()


# ----- the same numbers as gRPC ---------------------------------------------


def test_status_and_metadata_equal_grpc(server):
    status, answer = http_call(server, "GET", "/v1/models/tiny")
    assert status == 200
    assert answer == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]}
    assert http_call(server, "GET", "/v1/models/tiny/versions/1")[1] == answer
    assert http_call(server, "GET", "/v1/models/tiny/labels/stable")[1] == answer
    status, metadata = http_call(server, "GET", "/v1/models/tiny/metadata")
    assert status == 200
    assert metadata["model_spec"] == {"name": "tiny", "signature_name": "", "version": "1"}
    with Client(server.address, "tiny") as over_grpc, Client(server.rest_address, "tiny") as over_rest:
        assert over_rest.protocol == "rest" and over_grpc.protocol == "grpc"
        assert over_rest.signature_defs() == over_grpc.signature_defs()
        assert over_rest.status() == over_grpc.status() == {1: "AVAILABLE"}
        assert over_rest.model_info() == over_grpc.model_info()
    assert set(metadata["metadata"]["signature_def"]["signature_def"]) >= {"sample", "log_prob", "step"}


def test_predict_row_and_columnar_formats_equal_grpc(server, exports):
    x = test_case.random_images(exports.tiny, 3, seed=4)
    with Client(server.address, "tiny") as client:
        expected = client.log_prob(x)
    status, rows = http_call(server, "POST", "/v1/models/tiny:predict", {"instances": x.tolist()})
    assert status == 200
    assert [sorted(row) for row in rows["predictions"]] == [["bits_per_dim", "log_prob"]] * 3
    np.testing.assert_array_equal(
        np.float32([row["log_prob"] for row in rows["predictions"]]), expected["log_prob"]
    )
    status, columns = http_call(
        server, "POST", "/v1/models/tiny/versions/1:predict",
        {"signature_name": "log_prob", "inputs": {"x": x.tolist()}},
    )
    assert status == 200
    np.testing.assert_array_equal(np.float32(columns["outputs"]["bits_per_dim"]), expected["bits_per_dim"])
    np.testing.assert_allclose(expected["log_prob"], exports.tiny.log_prob(x).numpy(), atol=1e-5, rtol=0)


def test_sample_over_rest_equals_grpc_and_keras(server, exports):
    seeds = np.asarray(row_seeds(9, 4))
    temperature = [1.0, 0.5, 2.0, 1.0]
    instances = [{"seed": s.tolist(), "temperature": t} for s, t in zip(seeds, temperature)]
    status, answer = http_call(
        server, "POST", "/v1/models/tiny/labels/stable:predict", {"signature_name": "sample", "instances": instances}
    )
    assert status == 200
    expected = exports.tiny.sample(seeds=seeds, temperature=np.float32(temperature)).numpy()
    np.testing.assert_array_equal(np.asarray(answer["predictions"]), expected)
    labels = np.array([2, 0, 1, 1], np.int32)
    with Client(server.rest_address, "cls") as over_rest, Client(server.address, "cls") as over_grpc:
        got = over_rest.sample(seeds, condition=labels)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, over_grpc.sample(seeds, condition=labels))
        np.testing.assert_array_equal(
            over_rest.stream_images(seeds[:2], condition=labels[:2]), got[:2]
        )
        x = test_case.random_images(exports.cls, 4)
        np.testing.assert_array_equal(
            over_rest.log_prob(x, condition=labels)["log_prob"], over_grpc.log_prob(x, condition=labels)["log_prob"]
        )


# ----- errors: TF Serving's HTTP codes, a message naming the value ------------

X = np.zeros([2, 4, 4, 1], np.int32).tolist()
SEEDS = [[0, 0], [1, 1]]

# case: (method, path, body, HTTP status, a word the error has)
BAD_HTTP_REQUESTS = {
    "not JSON": ("POST", "/v1/models/tiny:predict", b"{instances: [", 400, "JSON"),
    "not an object": ("POST", "/v1/models/tiny:predict", [1, 2], 400, "object"),
    "both formats": ("POST", "/v1/models/tiny:predict", {"instances": X, "inputs": X}, 400, "exactly one"),
    "neither format": ("POST", "/v1/models/tiny:predict", {"signature_name": "log_prob"}, 400, "neither"),
    "mistyped key": ("POST", "/v1/models/tiny:predict", {"instance": X}, 400, "instance"),
    "signature not a string": ("POST", "/v1/models/tiny:predict", {"signature_name": 3, "inputs": X}, 400, "3"),
    "fractional level": ("POST", "/v1/models/tiny:predict", {"instances": [[[[0.5]] * 4] * 4]}, 400, "integers"),
    "ragged rows": ("POST", "/v1/models/tiny:predict", {"inputs": [[[[0]] * 4] * 4, [[0]]]}, 400, "rectangular"),
    "strings": ("POST", "/v1/models/tiny:predict", {"inputs": {"x": "cat"}}, 400, "strings"),
    "level beyond int32": ("POST", "/v1/models/tiny:predict", {"instances": [[[[2**40]] * 4] * 4]}, 400, "int32"),
    "b64 object": ("POST", "/v1/models/tiny:predict", {"inputs": {"x": {"b64": "AAAA"}}}, 400, "b64"),
    "empty instances": ("POST", "/v1/models/tiny:predict", {"instances": []}, 400, "non-empty"),
    "mixed instances": (
        "POST", "/v1/models/tiny:predict", {"signature_name": "sample", "instances": [{"seed": [0, 0]}, 1]}, 400, "mixes"
    ),
    "instances name different inputs": (
        "POST", "/v1/models/tiny:predict",
        {"signature_name": "sample", "instances": [{"seed": [0, 0], "temperature": 1.0}, {"seed": [1, 1]}]},
        400, "instance 1",
    ),
    "bare values for a two-input signature": (
        "POST", "/v1/models/tiny:predict", {"signature_name": "sample", "inputs": SEEDS}, 400, "temperature"
    ),
    "batches differ": (
        "POST", "/v1/models/tiny:predict",
        {"signature_name": "sample", "inputs": {"seed": SEEDS, "temperature": [1.0]}}, 400, "differ",
    ),
    "negative temperature": (
        "POST", "/v1/models/tiny:predict",
        {"signature_name": "sample", "inputs": {"seed": SEEDS, "temperature": [1.0, -1.0]}}, 400, "temperature",
    ),
    "unknown model": ("POST", "/v1/models/nope:predict", {"instances": X}, 404, "nope"),
    "unknown version": ("GET", "/v1/models/tiny/versions/7", None, 404, "7"),
    "unknown label": ("GET", "/v1/models/tiny/labels/beta/metadata", None, 400, "beta"),
    "unknown signature": ("POST", "/v1/models/tiny:predict", {"signature_name": "decode", "instances": X}, 400, "decode"),
    "classify": ("POST", "/v1/models/tiny:classify", {"instances": X}, 501, "predict"),
    "malformed path": ("GET", "/v1/modelz/tiny", None, 400, "/v1/modelz/tiny"),
    "POST without a method": ("POST", "/v1/models/tiny", {"instances": X}, 400, "Malformed"),
}


@pytest.mark.parametrize("case", sorted(BAD_HTTP_REQUESTS))
def test_bad_http_request_is_answered_and_server_goes_on(server, exports, case):
    method, path, body, want, word = BAD_HTTP_REQUESTS[case]
    status, answer = http_call(server, method, path, body)
    assert status == want, answer
    assert set(answer) == {"error"} and word in answer["error"], answer
    good, answer = http_call(server, "POST", "/v1/models/tiny:predict", {"instances": X})
    assert good == 200 and len(answer["predictions"]) == 2


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_grpc_bad_requests_have_the_same_meaning_over_rest(server, case):
    """The gRPC suite's table of malformed requests, sent by the client over REST."""
    name, version, signature, inputs, code, word = BAD_REQUESTS[case]
    with Client(server.rest_address, name, version, timeout=TIMEOUT) as client:
        with pytest.raises(ServingError) as info:
            client.predict(signature, inputs)
    assert info.value.http_status == HTTP_STATUS[code], str(info.value)
    assert word in info.value.details, info.value.details


def test_keep_alive_connection_survives_errors(server):
    parts = urllib.parse.urlsplit(server.rest_address)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        for body, want in [({"instances": X}, 200), (b"nonsense", 400), ({"inputs": {"x": X}}, 200)]:
            status, _ = http_call(server, "POST", "/v1/models/tiny:predict", body, connection=connection)
            assert status == want
    finally:
        connection.close()


# ----- the request-size limit -----------------------------------------------


def test_oversize_rest_body_is_413_before_it_is_read(server):
    parts = urllib.parse.urlsplit(server.rest_address)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        # Announce a gigabyte and send none of it: the answer must not wait for the body.
        connection.putrequest("POST", "/v1/models/tiny:predict")
        connection.putheader("Content-Length", str(2**30))
        connection.endheaders()
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 413
    assert str(2**30) in answer["error"] and str(MAX_REQUEST_BYTES) in answer["error"]
    status, answer = http_call(server, "POST", "/v1/models/tiny:predict", b'{"instances": []}', headers={"Transfer-Encoding": "chunked"})
    assert status == 411 and "Content-Length" in answer["error"]
    with Client(server.rest_address, "tiny") as client:
        big = np.zeros([MAX_BATCH, 4, 4, 1], np.int32) + 2  # its JSON is small: within the limit
        assert client.log_prob(big)["log_prob"].shape == (MAX_BATCH,)


def test_oversize_grpc_message_is_resource_exhausted_before_decoding(server):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tiny"
    # More bytes than the limit (and far over the batch bound, which would be INVALID_ARGUMENT if decoded).
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.zeros([1000, 4, 4, 1], np.int32)))
    assert request.ByteSize() > MAX_REQUEST_BYTES
    with grpc.insecure_channel(server.address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Predict(request, timeout=TIMEOUT)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert str(MAX_REQUEST_BYTES) in info.value.details(), info.value.details()
    with Client(server.address, "tiny") as client:
        assert client.status() == {1: "AVAILABLE"}


def test_rest_arguments_are_checked():
    entry = [ModelEntry("tiny", "/nonexistent")]
    with pytest.raises(ValueError, match="rest_api_port must be an integer in 0..65535.*70000"):
        Server(entry, rest_api_port=70000)
    with pytest.raises(ValueError, match="max_request_bytes must be an integer >= 1, got 0"):
        Server(entry, max_request_bytes=0)
    with pytest.raises(ValueError, match="target 'grpc://x:1'"):
        Client("grpc://x:1", "tiny")
    with pytest.raises(ValueError, match="without a path"):
        Client("http://localhost:8501/v1/models/tiny", "tiny")


def test_no_server_is_unavailable():
    with Client("http://127.0.0.1:1", "tiny", timeout=5) as client:
        with pytest.raises(ServingError) as info:
            client.status()
    assert info.value.code == grpc.StatusCode.UNAVAILABLE and "127.0.0.1:1" in info.value.details

"""The edges a reliability probe found in `arzoo serve` (issue 28): REST
requests in flight are answered through a stop, a body that never arrives is
408 after --rest_api_timeout_in_ms, a version past int64 and JSON nested too
deep are 4xx with a message, a client that leaves costs one log line, and
models added to or removed from the config file are picked up by polling."""

import http.client
import json
import logging
import os
import shutil
import socket
import threading
import time
import types
import urllib.parse

import numpy as np
import pytest

from arzoo.serving import export_model
from arzoo.serving.client import Client, ServingError
from arzoo.serving.server import ModelEntry, Servable, Server
from tests import test_case
from tests.serving.test_grpc import wait_for

TIMEOUT = 30.0
REST_TIMEOUT_MS = 600


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    model = test_case.build_tiny("gated_pixelcnn", seed=1, **test_case.VARIANTS["grey"])
    export_model(model, str(base), "tiny", max_batch_size=4)
    return types.SimpleNamespace(base=base, model=model, x=test_case.random_images(model, 2))


def _server(exports, **kwargs):
    return Server([ModelEntry("tiny", str(exports.base / "tiny"))], rest_api_port=0,
                  rest_api_timeout_ms=REST_TIMEOUT_MS, **kwargs).start()


def _connection(server):
    parts = urllib.parse.urlsplit(server.rest_address)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)


def _post(server, path, body):
    connection = _connection(server)
    try:
        connection.request("POST", path, body=body if isinstance(body, bytes) else json.dumps(body).encode())
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _slow_run(seconds, finished=None):
    """Servable.run, `seconds` slower; appends the time each run ends to `finished`."""
    original = Servable.run

    def slow(self, *args, **kwargs):
        time.sleep(seconds)
        try:
            return original(self, *args, **kwargs)
        finally:
            if finished is not None:
                finished.append(time.monotonic())

    return slow


def test_stop_answers_rest_requests_in_flight(exports, monkeypatch):
    """SIGTERM (`arzoo serve` calls stop, then exits) dropped REST requests
    in flight, while gRPC's finished within the grace period: stop now
    returns only once both are answered."""
    server = _server(exports)
    finished = []
    monkeypatch.setattr(Servable, "run", _slow_run(1.5, finished))
    answers = {}

    def rest():
        answers["rest"] = _post(server, "/v1/models/tiny:predict", {"inputs": {"x": exports.x.tolist()}})

    def grpc_call():
        with Client(server.address, "tiny", timeout=TIMEOUT) as client:
            answers["grpc"] = client.log_prob(exports.x)["log_prob"]

    threads = [threading.Thread(target=rest), threading.Thread(target=grpc_call)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # both requests are running
    server.stop(grace=10.0)
    stopped = time.monotonic()
    assert len(finished) == 2 and max(finished) <= stopped, (finished, stopped)
    for thread in threads:
        thread.join(TIMEOUT)
    status, body = answers["rest"]
    assert status == 200, body
    expected = exports.model.log_prob(exports.x).numpy()
    np.testing.assert_allclose(body["outputs"]["log_prob"], expected, atol=1e-5)
    np.testing.assert_allclose(answers["grpc"], expected, atol=1e-5)


@pytest.fixture(scope="module")
def server(exports):
    server = _server(exports)
    yield server
    server.stop()


def test_a_body_that_never_arrives_is_408(server):
    parts = urllib.parse.urlsplit(server.rest_address)
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as raw:
        raw.sendall(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inp")
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = raw.recv(4096)
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"--rest_api_timeout_in_ms" in answer
    assert REST_TIMEOUT_MS / 1000 * 0.8 < waited < 10.0, waited


@pytest.mark.parametrize("path, status, words", [
    ("/v1/models/tiny/versions/99999999999999999999:predict", 404, "int64"),
    ("/v1/models/tiny/versions/9223372036854775808:predict", 404, "int64"),
    ("/v1/models/tiny/versions/9223372036854775807:predict", 404, "Specific(tiny, 9223372036854775807)"),
])
def test_a_version_past_int64_is_not_found(server, exports, path, status, words):
    code, body = _post(server, path, {"inputs": {"x": exports.x.tolist()}})
    assert code == status and words in body["error"], (code, body)


@pytest.mark.parametrize("depth", [100_000, 2_000, 70])
def test_json_nested_too_deep_is_400(server, depth):
    body = b'{"inputs": {"x": ' + b"[" * depth + b"0" + b"]" * depth + b"}}"
    code, answer = _post(server, "/v1/models/tiny:predict", body)
    assert code == 400, answer
    assert "nested too deeply" in answer["error"] or "'x'" in answer["error"], answer
    assert _post(server, "/v1/models/tiny:predict", {"inputs": {"x": np.zeros([1, 4, 4, 1], int).tolist()}})[0] == 200


class _Records(logging.Handler):
    """Collects the records of a logger (whatever handlers and propagation
    earlier tests, or `arzoo serve`, gave it)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_a_client_that_leaves_early_is_one_log_line(exports, monkeypatch):
    log = logging.getLogger("arzoo.serving")
    records = _Records()
    log.addHandler(records)
    level = log.level
    log.setLevel(logging.INFO)  # setLevel, not the attribute: it clears the logger's cache
    server = _server(exports)
    monkeypatch.setattr(Servable, "run", _slow_run(1.0))
    parts = urllib.parse.urlsplit(server.rest_address)
    body = json.dumps({"inputs": {"x": exports.x.tolist()}}).encode()
    try:
        for _ in range(3):  # the first write after a reset may still succeed; the next fail
            with socket.create_connection((parts.hostname, parts.port)) as raw:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                raw.sendall(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: x\r\nContent-Length: "
                            + str(len(body)).encode() + b"\r\n\r\n" + body)
                time.sleep(0.2)
        assert wait_for(lambda: any("left before its answer" in r.getMessage() for r in records.records), 10), [(r.name, r.getMessage()) for r in records.records]
    finally:
        server.stop()
        log.removeHandler(records)
        log.setLevel(level)
    tracebacks = [r.getMessage() for r in records.records if r.exc_info]
    assert not tracebacks, tracebacks


def test_models_added_to_the_config_file_are_served(exports, tmp_path):
    """`--model_config_file` was read once: new versions were picked up, new models not."""
    shutil.copytree(exports.base / "tiny", tmp_path / "second")
    config = tmp_path / "models.config"

    def write(*names):
        entries = "".join(f'config {{ name: "{n}" base_path: "{exports.base / "tiny" if n == "first" else tmp_path / n}" }}\n'
                          for n in names)
        config.write_text(f"model_config_list {{\n{entries}}}\n")
        stamp = time.time() + len(names)  # a new mtime even within the file system's resolution
        os.utime(config, (stamp, stamp))

    write("first")
    server = Server.from_flags(model_config_file=str(config), poll_wait_seconds=0.1,
                               model_config_file_poll_wait_seconds=0.1).start()

    def serves(name):
        try:
            with Client(server.address, name, timeout=TIMEOUT) as client:
                client.log_prob(exports.x)
            return True
        except ServingError as err:
            assert err.code.name == "NOT_FOUND", err
            return False

    try:
        assert serves("first") and not serves("second")
        write("first", "second")
        assert wait_for(lambda: serves("second")), "a model added to the config was not served"
        write("second")
        assert wait_for(lambda: not serves("first")), "a model removed from the config was still served"
        config.write_text("model_config_list { config { name: ")  # broken: logged, the models serve on
        time.sleep(0.5)
        assert serves("second")
    finally:
        server.stop()

"""TF Serving's REST API (HTTP/JSON, port 8501 by convention) beside the gRPC
one, over the same loaded models (`Server(rest_api_port=...)`).

Routes, as tensorflow_model_server answers them:

- `GET /v1/models/NAME[/versions/N | /labels/L]`: the model's version
  statuses, GetModelStatusResponse as JSON.
- `GET /v1/models/NAME[/versions/N | /labels/L]/metadata`:
  `{"model_spec": ..., "metadata": {"signature_def": SignatureDefMap}}`.
- `POST /v1/models/NAME[/versions/N | /labels/L]:predict` with a JSON body
  `{"signature_name": ..., "instances": [...]}` (row format: one entry per
  row, an object naming every input or, for a one-input signature, the
  value itself) or `{"signature_name": ..., "inputs": ...}` (columnar: an
  object of batched inputs, or the one input's value). The answer is
  `{"predictions": [...]}` (rows; an object per row when there are several
  outputs) or `{"outputs": ...}` (columnar) respectively.

JSON numbers become the dtype the signature declares (integers are required
for integer inputs). Errors are `{"error": "..."}` with TF Serving's HTTP
code for the gRPC status (INVALID_ARGUMENT and FAILED_PRECONDITION 400,
NOT_FOUND 404, RESOURCE_EXHAUSTED 429, ...). A body over the server's
`max_request_bytes` is 413 before it is read; one without Content-Length
411; one whose body does not arrive within the server's
`rest_api_timeout_ms` 408. On stop, requests in flight get the same grace
period as gRPC's; a client that leaves early costs one log line. Built on
the standard library's `ThreadingHTTPServer` (a thread per connection,
HTTP/1.1 keep-alive); at most `max_workers` requests run at once.
"""

import contextlib
import http
import json
import logging
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2

from arzoo.serving.protocol import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD
from arzoo.serving.requests import (
    RequestError,
    array_from_json,
    as_request_error,
    check_aliases,
    invalid,
)

_LOG = logging.getLogger("arzoo.serving")

# TF Serving's HTTP codes for gRPC statuses (model_servers/http_server.cc).
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

_MODEL = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
_PREDICT_PATH = re.compile(_MODEL + r":(?P<method>predict|classify|regress)", re.IGNORECASE)
_STATUS_PATH = re.compile(_MODEL + r"(?P<metadata>/metadata)?", re.IGNORECASE)
_BODY_KEYS = ("signature_name", "instances", "inputs")


class _HttpError(RequestError):
    """A request refused at the HTTP level (its own status, not the gRPC map's)."""

    def __init__(self, http_status, code, message):
        super().__init__(code, message)
        self.http_status = http_status


_INT64_MAX = 2**63 - 1


def _model_spec(match):
    spec = model_pb2.ModelSpec(name=urllib.parse.unquote(match["name"]))
    if match["version"] is not None:
        version = int(match["version"])
        if version > _INT64_MAX:  # a version is an int64: no such version can exist
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"Servable not found for request: Specific({spec.name}, {match['version']}): versions are "
                f"int64, at most {_INT64_MAX}.",
            )
        spec.version.value = version
    elif match["label"] is not None:
        spec.version_label = urllib.parse.unquote(match["label"])
    return spec


def _to_json(message):
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


# ----- the JSON formats ----------------------------------------------------


def parse_predict_body(body):
    """The request's JSON -> (signature_name, "row" or "columnar", raw inputs)."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise invalid(f"JSON Parse error: {err}") from None
    except RecursionError:
        raise invalid("JSON Parse error: the body is nested too deeply (an input is at most a few "
                      "dimensions of numbers).") from None
    if not isinstance(request, dict):
        raise invalid(f"The request body must be a JSON object with 'instances' or 'inputs', got {type(request).__name__}.")
    unknown = sorted(set(request) - set(_BODY_KEYS))
    if unknown:
        raise invalid(f"Unknown keys in the request body: {unknown}; allowed: {list(_BODY_KEYS)}.")
    if ("instances" in request) == ("inputs" in request):
        raise invalid(
            "Not formatted correctly: expecting exactly one of 'inputs' or 'instances' keys, got "
            f"{sorted(k for k in request if k != 'signature_name') or 'neither'}."
        )
    signature_name = request.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(signature_name, str):
        raise invalid(f"'signature_name' must be a string, got {signature_name!r}.")
    if "instances" in request:
        return signature_name, "row", request["instances"]
    return signature_name, "columnar", request["inputs"]


def _named_values(signature, form, raw):
    """{alias: JSON value batched along dimension 0} of either format."""
    aliases = sorted(signature.inputs)
    if form == "columnar":
        if isinstance(raw, dict):
            return raw
        if len(aliases) != 1:
            raise invalid(f"'inputs' must be an object naming the signature's inputs {aliases}.")
        return {aliases[0]: raw}
    if not isinstance(raw, list) or not raw:
        raise invalid("'instances' must be a non-empty list, one entry per row.")
    objects = [isinstance(row, dict) for row in raw]
    if all(objects):
        names = set(raw[0])
        for number, row in enumerate(raw):
            if set(row) != names:
                raise invalid(
                    f"instance {number} names inputs {sorted(row)} but instance 0 names {sorted(names)}: "
                    "every instance must name the same inputs."
                )
        return {name: [row[name] for row in raw] for name in names}
    if any(objects):
        raise invalid("'instances' mixes objects and bare values; use one form for every row.")
    if len(aliases) != 1:
        raise invalid(f"Each instance must be an object naming the signature's inputs {aliases}.")
    return {aliases[0]: raw}


def input_arrays(signature, form, raw, max_rows=None):
    """Either JSON format -> {alias: array}, checked against the signature
    (and dimension 0 against `max_rows`, the export's max_batch_size)."""
    values = _named_values(signature, form, raw)
    check_aliases(signature, values)
    arrays = {alias: array_from_json(alias, values[alias], signature.inputs[alias], max_rows)
              for alias in sorted(values)}
    rows = {alias: len(array) for alias, array in arrays.items()}
    if len(set(rows.values())) > 1:
        raise invalid(f"The inputs' first dimensions (the batch) differ: {rows}.")
    return arrays


def predict_answer(form, outputs):
    """Outputs {alias: array [B, ...]} -> the JSON answer of the request's format."""
    if form == "columnar":
        if len(outputs) == 1:
            return {"outputs": next(iter(outputs.values())).tolist()}
        return {"outputs": {alias: value.tolist() for alias, value in outputs.items()}}
    if len(outputs) == 1:
        return {"predictions": next(iter(outputs.values())).tolist()}
    rows = {len(value) for value in outputs.values()}
    if len(rows) != 1:
        raise invalid(f"The outputs' batch sizes differ ({sorted(rows)}); ask with 'inputs' (columnar).")
    columns = {alias: value.tolist() for alias, value in outputs.items()}
    return {"predictions": [{alias: column[i] for alias, column in columns.items()} for i in range(rows.pop())]}


# ----- the HTTP server -----------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """One log line for a client that went away; a traceback otherwise."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            _LOG.info("REST client %s left before its answer was sent (%s)", client_address[0], type(error).__name__)
        else:
            _LOG.exception("REST connection from %s failed", client_address[0])


class RestServer:
    """The REST front end of `server` on host:port (0: a free port).

    Args:
      server: the `Server` whose models it answers for.
      host, port: where to listen.
      timeout_seconds: how long a connection may take to send a request's
        bytes (TF Serving's --rest_api_timeout_in_ms): a body that never
        arrives is answered 408 and the connection closed.
    """

    def __init__(self, server, host, port, timeout_seconds=30.0):
        self.server = server
        self._running = threading.BoundedSemaphore(server.max_workers)
        self._in_flight = 0
        self._idle = threading.Condition()
        self.stopping = False
        handler = type("Handler", (_Handler,), {"rest": self, "timeout": timeout_seconds})
        try:
            self._http = _HttpServer((host, port), handler)
        except OSError as err:
            raise OSError(f"Could not listen on {host}:{port} for the REST API: {err}") from None
        self.port = self._http.server_address[1]
        self.timeout_seconds = timeout_seconds
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._http.serve_forever, name="arzoo-rest", daemon=True)
        self._thread.start()
        return self

    def stop(self, grace=2.0):
        """Take no new requests; those in flight get `grace` seconds to be answered."""
        self.stopping = True
        self._http.shutdown()  # no new connections
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=grace)
            left = self._in_flight
        if left:
            _LOG.warning("REST: %d request(s) still running after the %.1f s grace period", left, grace)
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=30.0)

    @contextlib.contextmanager
    def in_flight(self):
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def answer(self, method, path, read_body):
        """(HTTP status, JSON-able answer) of one request."""
        try:
            return 200, self._answer(method, path, read_body)
        except Exception as err:
            if not isinstance(err, RequestError):
                _LOG.exception("unexpected error answering a REST request")
            failure = as_request_error(err)
            status = getattr(failure, "http_status", None) or HTTP_STATUS.get(failure.code, 500)
            return status, {"error": failure.message}

    def _answer(self, method, path, read_body):
        if method == "POST":
            body = read_body()  # first, so a keep-alive connection never holds an unread body
            match = _PREDICT_PATH.fullmatch(path)
            if match is None:
                raise invalid(f"Malformed request: POST {path} (predict with POST /v1/models/NAME:predict)")
            if match["method"].lower() != "predict":
                raise RequestError(
                    grpc.StatusCode.UNIMPLEMENTED,
                    f":{match['method']} is not served: arzoo's exports have predict signatures only (use :predict).",
                )
            return self._predict(_model_spec(match), body)
        match = _STATUS_PATH.fullmatch(path)
        if match is None:
            raise invalid(f"Malformed request: GET {path} (status: GET /v1/models/NAME, metadata: .../metadata)")
        spec = _model_spec(match)
        if match["metadata"]:
            request = get_model_metadata_pb2.GetModelMetadataRequest(model_spec=spec)
            request.metadata_field.append(SIGNATURE_DEF_FIELD)
            response = self.server.model_metadata(request)
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
            return {
                "model_spec": _to_json(response.model_spec),
                "metadata": {SIGNATURE_DEF_FIELD: _to_json(signature_map)},
            }
        request = get_model_status_pb2.GetModelStatusRequest(model_spec=spec)
        return _to_json(self.server.model_status(request))

    def _predict(self, spec, body):
        signature_name, form, raw = parse_predict_body(body)
        servable = self.server.servable(spec)
        signature = servable.signature(signature_name)
        arrays = input_arrays(signature, form, raw, servable.max_batch_size)
        with self._running:
            outputs = servable.run(signature_name, arrays, sorted(signature.outputs))
        return predict_answer(form, outputs)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, hands it to `rest.answer`, writes its JSON."""

    protocol_version = "HTTP/1.1"  # keep-alive: a client may send many requests per connection
    server_version = "arzoo-serve"
    # TCP_NODELAY: the headers and the body go out as two writes, and Nagle's
    # algorithm would hold the body until the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    rest = None  # the RestServer, set on the subclass RestServer makes

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _read_body(self):
        limit = self.rest.server.max_request_bytes
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise _HttpError(http.HTTPStatus.LENGTH_REQUIRED, grpc.StatusCode.INVALID_ARGUMENT,
                             "A POST needs a Content-Length header (chunked bodies are not read).")
        try:
            length = int(length)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise invalid(f"Content-Length {self.headers.get('Content-Length')!r} is not a byte count.")
        if length > limit:
            self.close_connection = True  # the body is left unread
            raise _HttpError(
                http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"The request body is {length} bytes, over the server's limit of {limit} bytes "
                "(--max_request_bytes): send fewer rows per request.",
            )
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = None
        if body is None or len(body) < length:
            self.close_connection = True
            raise _HttpError(
                http.HTTPStatus.REQUEST_TIMEOUT, grpc.StatusCode.DEADLINE_EXCEEDED,
                f"The request body ({length} bytes by its Content-Length) did not arrive within "
                f"{self.rest.timeout_seconds:g} s (--rest_api_timeout_in_ms).",
            )
        return body

    def _dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        with self.rest.in_flight():
            if self.rest.stopping:
                self.close_connection = True
                status, answer = 503, {"error": "The server is stopping."}
            else:
                status, answer = self.rest.answer(method, path, self._read_body)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
            except (ConnectionError, TimeoutError) as err:  # the client left before its answer
                self.close_connection = True
                _LOG.info("REST client %s left before its answer to %s %s was sent (%s)",
                          self.client_address[0], method, path, type(err).__name__)

    def log_message(self, format, *args):  # noqa: A002  (BaseHTTPRequestHandler's name)
        _LOG.debug("REST %s: " + format, self.address_string(), *args)

"""How `Client` reaches a server: TF Serving's gRPC API (a "host:port"
target) or its REST API (an "http://host:port" target). Both take and give
the same things: a ModelSpec proto naming the model and version, numpy
arrays in and out, SignatureDefs and GetModelStatusResponse protos; failures
are `ServingError`s with the gRPC status (REST's HTTP codes mapped back).
"""

import http.client
import json
import socket
import threading
import urllib.parse

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from arzoo.serving.protocol import DEFAULT_SIGNATURE, SIGNATURE_DEF_FIELD
from arzoo.serving.xla import XLA_DISABLED_MESSAGE, XLA_FLAG

_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
]

# The gRPC status a REST error stands for (TF Serving's map, inverted where
# two codes share an HTTP code: 400 is INVALID_ARGUMENT; 413 is this server's
# request-size refusal).
_CODE_BY_HTTP_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ABORTED,
    411: grpc.StatusCode.INVALID_ARGUMENT,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    500: grpc.StatusCode.INTERNAL,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


class ServingError(Exception):
    """A request the server answered with a status other than OK.

    Attributes:
      code: the `grpc.StatusCode` (over REST: the one TF Serving maps to the
        HTTP status).
      details: the server's message.
      http_status: the HTTP status over REST, else None.
    """

    def __init__(self, code, details, method="", http_status=None):
        self.code = code
        self.details = details or ""
        self.method = method
        self.http_status = http_status
        where = f" ({method})" if method else ""
        shown = f"{code.name} (HTTP {http_status})" if http_status else code.name
        hint = ""
        if XLA_DISABLED_MESSAGE in self.details and XLA_FLAG not in self.details:
            # tensorflow_model_server's own answer (INTERNAL) to an XLA export's
            # signature when it runs without the flag.
            hint = f" (the export is XLA-compiled: start tensorflow_model_server with {XLA_FLAG}=true)"
        super().__init__(f"{shown}{where}: {self.details}{hint}")


def transport_for(target, timeout):
    """GrpcTransport for "host:port", RestTransport for "http(s)://host:port"."""
    if target.startswith(("http://", "https://")):
        return RestTransport(target, timeout)
    if "://" in target:
        raise ValueError(f"target {target!r}: give host:port (gRPC) or http://host:port (REST).")
    return GrpcTransport(target, timeout)


class GrpcTransport:
    protocol = "grpc"

    def __init__(self, target, timeout):
        self.target = target
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self._predictions = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def close(self):
        self._channel.close()

    def _call(self, name, request):
        stub = self._models if name == "GetModelStatus" else self._predictions
        try:
            return getattr(stub, name)(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise ServingError(err.code(), err.details(), name) from None

    def predict(self, spec, inputs, output_filter=()):
        request = predict_pb2.PredictRequest()
        request.model_spec.CopyFrom(spec)
        for alias, value in inputs.items():
            request.inputs[alias].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
        request.output_filter.extend(output_filter)
        response = self._call("Predict", request)
        return {alias: tf.make_ndarray(proto) for alias, proto in response.outputs.items()}

    def signature_defs(self, spec):
        request = get_model_metadata_pb2.GetModelMetadataRequest()
        request.model_spec.CopyFrom(spec)
        request.metadata_field.append(SIGNATURE_DEF_FIELD)
        response = self._call("GetModelMetadata", request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
        return dict(signature_map.signature_def)

    def status(self, spec):
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.CopyFrom(spec)
        return self._call("GetModelStatus", request)


class RestTransport:
    """TF Serving's REST API with the standard library's HTTP client (a
    keep-alive connection per calling thread, so one Client may be shared
    by threads, as a gRPC one can); arrays
    go out in the columnar format (`{"inputs": {...}}`) and come back as the
    dtypes the signature declares, so the numbers equal gRPC's."""

    protocol = "rest"

    def __init__(self, target, timeout):
        parts = urllib.parse.urlsplit(target)
        if parts.path not in ("", "/") or not parts.hostname:
            raise ValueError(f"target {target!r}: give http://host:port, without a path.")
        self.target = target.rstrip("/")
        self.timeout = timeout
        self._parts = parts
        self._local = threading.local()  # one keep-alive connection per calling thread
        self._outputs = {}  # (model path, signature) -> {alias: numpy dtype}

    def close(self):
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            connection = kind(self._parts.hostname, self._parts.port, timeout=self.timeout)
            self._local.connection = connection
        return connection

    @staticmethod
    def _model_path(spec):
        path = f"/v1/models/{urllib.parse.quote(spec.name, safe='')}"
        choice = spec.WhichOneof("version_choice")
        if choice == "version":
            path += f"/versions/{spec.version.value}"
        elif choice == "version_label":
            path += f"/labels/{urllib.parse.quote(spec.version_label, safe='')}"
        return path

    def _exchange(self, method, path, data):
        """(status, body bytes); a kept-alive connection the server closed is reopened once."""
        for attempt in (0, 1):
            connection = self._connection()
            try:
                connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, body

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        where = f"{method} {path}"
        try:
            status, text = self._exchange(method, path, data)
        except (socket.timeout, TimeoutError):
            self.close()
            raise ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout} s", where) from None
        except (OSError, http.client.HTTPException) as err:
            self.close()
            raise ServingError(grpc.StatusCode.UNAVAILABLE, f"{self.target}: {err}", where) from None
        if status == 200:
            return json.loads(text)
        text = text.decode(errors="replace")
        try:
            details = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            details = text
        code = _CODE_BY_HTTP_STATUS.get(status, grpc.StatusCode.UNKNOWN)
        raise ServingError(code, details, where, http_status=status)

    def predict(self, spec, inputs, output_filter=()):
        path = self._model_path(spec)
        signature_name = spec.signature_name or DEFAULT_SIGNATURE
        body = {"signature_name": signature_name,
                "inputs": {alias: np.asarray(value).tolist() for alias, value in inputs.items()}}
        answer = self._call("POST", path + ":predict", body)["outputs"]
        dtypes = self._output_dtypes(spec, path, signature_name)
        if not isinstance(answer, dict):  # one output comes back bare
            answer = {next(iter(dtypes)): answer}
        aliases = list(output_filter) or sorted(answer)
        missing = [alias for alias in aliases if alias not in answer]
        if missing:
            raise ServingError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"output tensor alias not found in signature: {', '.join(missing)} Outputs expected to be in "
                f"the set {{{','.join(sorted(answer))}}}.",
                f"POST {path}:predict",
            )
        return {alias: np.asarray(answer[alias], dtypes[alias]) for alias in aliases}

    def _output_dtypes(self, spec, path, signature_name):
        key = (path, signature_name)
        if key not in self._outputs:
            signature = self.signature_defs(spec)[signature_name]
            self._outputs[key] = {
                alias: tf.dtypes.as_dtype(info.dtype).as_numpy_dtype
                for alias, info in sorted(signature.outputs.items())
            }
        return self._outputs[key]

    def signature_defs(self, spec):
        answer = self._call("GET", self._model_path(spec) + "/metadata")
        signature_map = json_format.ParseDict(
            answer["metadata"][SIGNATURE_DEF_FIELD], get_model_metadata_pb2.SignatureDefMap()
        )
        return dict(signature_map.signature_def)

    def status(self, spec):
        answer = self._call("GET", self._model_path(spec))
        return json_format.ParseDict(answer, get_model_status_pb2.GetModelStatusResponse())

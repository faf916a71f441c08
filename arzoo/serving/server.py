"""An embedded TensorFlow Serving server over arzoo's export folders: the
gRPC API and, with `rest_api_port`, the REST API (arzoo/serving/rest.py).

It speaks the public TF Serving API (`tensorflow_serving.apis`), so a client
written for it (`arzoo.serving.client.Client`, or any TF Serving client) works
unchanged against the real `tensorflow_model_server`:

- `PredictionService.Predict`: `model_spec.name`, `model_spec.version` or
  `version_label`, `signature_name` (default `serving_default`), inputs by
  alias, `output_filter`; the response's `model_spec` carries the name, the
  version served and the signature name.
- `PredictionService.GetModelMetadata` with `metadata_field: "signature_def"`:
  the SavedModel's own `meta_graphs[0].signature_def`, packed as a
  `SignatureDefMap` in an `Any`, as TF Serving returns it.
- `ModelService.GetModelStatus`.

Status codes follow TF Serving: an unknown model or version is NOT_FOUND, an
unknown signature FAILED_PRECONDITION (TF Serving's `Serving signature key
"..." not found.`), an unknown version label, a missing or unknown input alias,
a wrong dtype or shape (checked against the signature before running), a
batch over the export's `max_batch_size` and any failed in-graph check are
INVALID_ARGUMENT with a message that names the input; anything unexpected is
INTERNAL. A failed request never stops the server.

Versions. `<base_path>/<integer>/` folders are versions; other names (the
exporter's `.incomplete-*` folders) are ignored. A background thread polls the
base paths every `poll_wait_seconds` and loads new versions. With a
`model_version_policy` in the config (`latest {num_versions: N}`, `all {}`,
`specific {versions: ...}`) exactly those versions are loaded and served, as
in TF Serving. Without one, the highest version is loaded and serves requests
that name no version, and any other version present on disk is loaded on its
first explicit request and kept until its folder disappears. (Real TF
Serving's default, `latest 1`, answers NOT_FOUND for such a request: write
`model_version_policy { all {} }` to get the same answers from both.)
Version labels come from the config's `version_labels`.

Loaded SavedModels are shared by the server's worker threads (concrete
functions are thread-safe); requests run concurrently on a thread pool.

Limits: a request over `max_request_bytes` (default 64 MiB) is refused before
it is decoded (gRPC RESOURCE_EXHAUSTED, REST 413); a batch over the export's
`max_batch_size` is INVALID_ARGUMENT; a gRPC deadline ends the call for the
client. With `batching` (TF Serving's --enable_batching), concurrent requests
for one signature are merged along dimension 0 (arzoo/serving/batching.py).

Example:

    server = Server.from_flags(model_name="tiny", model_base_path="exports/tiny", rest_api_port=0)
    server.start()              # loads, binds 127.0.0.1, starts polling
    print(server.address)       # 127.0.0.1:<port>, for gRPC clients
    print(server.rest_address)  # http://127.0.0.1:<port>, for REST clients
    server.stop()
"""

import dataclasses
import logging
import os
import threading
import time
from concurrent import futures

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import error_codes_pb2
from tensorflow.python.saved_model import loader_impl
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from arzoo.serving.batching import Batcher
from arzoo.serving.config_files import read_model_config
from arzoo.serving.protocol import DEFAULT_SIGNATURE, METADATA_SIGNATURE, SIGNATURE_DEF_FIELD
from arzoo.serving.requests import (
    RequestError,
    arrays_from_tensor_protos,
    as_request_error,
    output_aliases,
)
from arzoo.serving.warmup import WARMUP_PATH, WarmupError, read_warmup_records
from arzoo.serving.xla import XLA_FLAG, xla_disabled_message, xla_signatures

DEFAULT_POLL_WAIT_SECONDS = 2.0
DEFAULT_MAX_WORKERS = 16
# The largest request either front end reads (a 64-row batch of 256x256x3
# int32 images is 50 MiB); a larger one is refused before it is decoded.
DEFAULT_MAX_REQUEST_BYTES = 64 * 2**20
# How long the REST API waits for a request's bytes (TF Serving's
# --rest_api_timeout_in_ms default).
DEFAULT_REST_API_TIMEOUT_MS = 30_000

_LOG = logging.getLogger("arzoo.serving")
_State = get_model_status_pb2.ModelVersionStatus.State


# ----- configuration -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One served model: TF Serving's `ModelConfig`, the parts we honour.

    Args:
      name: the model name requests use.
      base_path: the folder holding the integer version folders.
      policy: None (highest version, others on request), ("latest", N),
        ("all",) or ("specific", (v1, v2, ...)).
      labels: {version label: version}.
    """

    name: str
    base_path: str
    policy: tuple = None
    labels: dict = dataclasses.field(default_factory=dict)

    def servable_versions(self, present):
        """The versions of `present` (sorted) the policy serves."""
        if self.policy is None or self.policy[0] == "all":
            return list(present)
        if self.policy[0] == "latest":
            return list(present)[-self.policy[1]:]
        return [v for v in present if v in self.policy[1]]

    def eager_versions(self, present):
        """The versions loaded as soon as they appear."""
        servable = self.servable_versions(present)
        return servable[-1:] if self.policy is None else servable

    def allows_on_demand(self, version, present):
        return self.policy is None and version in present


def entries_from_config(config, config_dir="."):
    """`ModelServerConfig` proto -> [ModelEntry]; relative base paths are
    resolved against `config_dir`."""
    if config.WhichOneof("config") == "custom_model_config":
        raise ValueError("custom_model_config is not supported: use model_config_list.")
    entries = []
    for model in config.model_config_list.config:
        if not model.name or not model.base_path:
            raise ValueError(f"Every model config needs a name and a base_path, got {model}.")
        if model.model_platform not in ("", "tensorflow"):
            raise ValueError(
                f"Model {model.name!r}: model_platform {model.model_platform!r} is not "
                "supported; only 'tensorflow'."
            )
        entries.append(
            ModelEntry(
                name=model.name,
                base_path=os.path.join(config_dir, model.base_path),
                policy=_policy(model),
                labels=dict(model.version_labels),
            )
        )
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"Model names must be unique in the config, repeated: {duplicates}.")
    return entries


def _policy(model):
    if not model.HasField("model_version_policy"):
        return None
    policy = model.model_version_policy
    choice = policy.WhichOneof("policy_choice")
    if choice == "latest":
        count = policy.latest.num_versions or 1
        return ("latest", int(count))
    if choice == "specific":
        if not policy.specific.versions:
            raise ValueError(f"Model {model.name!r}: specific version policy lists no versions.")
        return ("specific", tuple(int(v) for v in policy.specific.versions))
    if choice == "all":
        return ("all",)
    return None


def entries_from_flags(model_config_file=None, model_name=None, model_base_path=None):
    """The models named by `tensorflow_model_server`'s flags."""
    entries = []
    if model_config_file:
        if not os.path.exists(model_config_file):
            raise FileNotFoundError(f"--model_config_file {model_config_file} does not exist.")
        config = read_model_config(model_config_file)
        config_dir = os.path.dirname(os.path.abspath(model_config_file))
        entries += entries_from_config(config, config_dir)
    if model_base_path:
        # A missing folder given on the command line is a mistake (a config's
        # base path may appear later, as for TF Serving, and is polled).
        if not os.path.isdir(model_base_path):
            raise FileNotFoundError(
                f"--model_base_path {model_base_path!r} is not a folder (it should hold the integer "
                "version folders `arzoo export` writes)."
            )
        entries.append(ModelEntry(name=model_name or "default", base_path=model_base_path))
    elif model_name:
        raise ValueError("--model_name needs --model_base_path.")
    if not entries:
        raise ValueError("Nothing to serve: give --model_config_file or --model_base_path.")
    return entries


# ----- loaded versions -----------------------------------------------------


def folder_fingerprint(path):
    """What changes when a folder's files change: (relative path, size,
    mtime) of every file, sorted. A version whose load failed is retried
    once this changes (a folder copied with `cp -r` is read before it is
    complete; TF Serving retries failed loads too)."""
    rows = []
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            try:
                stat = os.stat(full)
            except OSError:
                continue
            rows.append((os.path.relpath(full, path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(rows))


def _file_stamp(path):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def integer_versions(base_path):
    """Integer version folders under `base_path`, sorted (others ignored)."""
    try:
        names = os.listdir(base_path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        int(n) for n in names if n.isdigit() and os.path.isdir(os.path.join(base_path, n))
    )


class Servable:
    """One loaded version: its SignatureDefs and its concrete functions.

    Args:
      name, version, path: the served model's name, its version, its folder.
      batcher: a started `Batcher` to merge concurrent runs through, or None.
      xla_enabled: whether signatures that need XLA may run (TF Serving's
        --xla_cpu_compilation_enabled); refused with FAILED_PRECONDITION if not.
      warmup: replay the version's warmup records before it is served.
    """

    def __init__(self, name, version, path, batcher=None, xla_enabled=False, warmup=True):
        self.name = name
        self.version = version
        self.path = path
        self.batcher = batcher
        self.xla_enabled = xla_enabled
        saved_model = loader_impl.parse_saved_model(path)
        meta_graph = saved_model.meta_graphs[0]
        self.signature_defs = meta_graph.signature_def
        self.xla_signatures = xla_signatures(meta_graph)
        self._loaded = tf.saved_model.load(path)
        self.functions = dict(self._loaded.signatures)
        self.max_batch_size = self._exported_max_batch_size()
        self.warmup_seconds = self.replay_warmup() if warmup else None

    def _exported_max_batch_size(self):
        """The export's max_batch_size from its `metadata` signature (None
        for an export without it, whose graphs still check the batch)."""
        function = self.functions.get(METADATA_SIGNATURE)
        if function is None or "max_batch_size" not in self.signature_defs[METADATA_SIGNATURE].outputs:
            return None
        return int(function(seed=tf.zeros([1, 2], tf.int32))["max_batch_size"].numpy()[0])

    def replay_warmup(self):
        """Run the version's warmup records (`arzoo.serving.warmup`), as TF
        Serving does before a version is AVAILABLE; seconds taken (None
        without a warmup file). A record that cannot be read or run is a
        WarmupError naming the file and the record. Without XLA, records of
        XLA signatures are skipped (their requests are refused)."""
        logs = read_warmup_records(self.path)
        if not logs:
            return None
        path = os.path.join(self.path, WARMUP_PATH)
        start = time.perf_counter()
        skipped = 0
        for index, log in enumerate(logs):
            request = log.predict_log.request
            name = request.model_spec.signature_name or DEFAULT_SIGNATURE
            if name in self.xla_signatures and not self.xla_enabled:
                skipped += 1
                continue
            try:
                signature = self.signature(name)
                inputs = arrays_from_tensor_protos(signature, request.inputs, max_rows=self.max_batch_size)
                self.run(name, inputs, sorted(signature.outputs), batched=False)
            except RequestError as err:
                raise WarmupError(f"{path}: record {index} (signature {name!r}) failed: {err.message}") from None
        seconds = time.perf_counter() - start
        _LOG.info("warmed up %s version %d: %d warmup records in %.1f s", self.name, self.version,
                  len(logs) - skipped, seconds)
        if skipped:
            _LOG.warning("%s version %d: skipped %d warmup records of XLA signatures (%s): this server runs "
                         "without %s=true", self.name, self.version, skipped,
                         ", ".join(sorted(self.xla_signatures)), XLA_FLAG)
        return seconds

    def signature(self, signature_name):
        """The SignatureDef of `signature_name` (FAILED_PRECONDITION if none,
        or if it needs XLA and the server runs without it)."""
        signature = self.signature_defs.get(signature_name)
        if signature is None or signature_name not in self.functions:
            raise RequestError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f'Serving signature key "{signature_name}" not found.',
            )
        if signature_name in self.xla_signatures and not self.xla_enabled:
            raise RequestError(grpc.StatusCode.FAILED_PRECONDITION, xla_disabled_message(signature_name))
        return signature

    def run(self, signature_name, inputs, aliases, batched=True):
        """Run a signature on inputs already checked against it ({alias:
        array}); the outputs named by `aliases` as numpy arrays (merged with
        concurrent requests by the batcher, if any and `batched`)."""
        function = self.functions[signature_name]

        def call(arrays):
            try:
                outputs = function(**{k: tf.constant(v) for k, v in arrays.items()})
            except tf.errors.OpError as err:
                raise as_request_error(err) from None
            return {alias: value.numpy() for alias, value in outputs.items()}

        if self.batcher is None or not batched:
            outputs = call(inputs)
        else:
            key = (id(self), signature_name) + tuple(
                (alias, array.dtype.str, array.shape[1:]) for alias, array in sorted(inputs.items())
            )
            outputs = self.batcher.run(key, call, inputs)
        return {alias: outputs[alias] for alias in aliases}


class _Model:
    """The versions of one served model: loaded, failed, and load locks."""

    def __init__(self, entry):
        self.entry = entry
        self.loaded = {}  # version -> Servable
        self.failed = {}  # version -> (error message, the folder's fingerprint when it was read)
        self.loading = set()  # versions being loaded (and warmed up) now
        self.present = None  # integer versions on disk at the last poll
        self.load_locks = {}


# ----- the server ----------------------------------------------------------


def _check_port(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"{name} must be an integer in 0..65535 (0: any free port), got {value!r}.")


class Server:
    """TF Serving's gRPC PredictionService and ModelService (and, when asked,
    its REST API) over export folders.

    Args:
      models: [ModelEntry].
      host: address to bind (default 127.0.0.1: this machine only).
      port: gRPC TCP port; 0 picks a free one (read `port` after `start`).
      rest_api_port: REST (HTTP/JSON) port, None for no REST API; 0 picks a
        free one (read `rest_api_port` after `start`).
      poll_wait_seconds: how often the base paths are scanned for versions.
      max_workers: threads answering requests concurrently (per front end).
      max_request_bytes: the largest request read: a larger gRPC message is
        RESOURCE_EXHAUSTED, a larger REST body HTTP 413, before decoding.
      batching: `BatchingParameters` to merge concurrent requests with (TF
        Serving's --enable_batching), or None.
      xla_cpu_compilation_enabled: run signatures that need XLA (an
        `arzoo export --xla` export's sampling loops); without it (the
        default, as TF Serving's) they are refused with FAILED_PRECONDITION.
      enable_model_warmup: replay each version's warmup records before it is
        served (TF Serving's flag, default true).
    """

    def __init__(
        self,
        models,
        host="127.0.0.1",
        port=0,
        rest_api_port=None,
        poll_wait_seconds=DEFAULT_POLL_WAIT_SECONDS,
        max_workers=DEFAULT_MAX_WORKERS,
        max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
        batching=None,
        rest_api_timeout_ms=DEFAULT_REST_API_TIMEOUT_MS,
        model_config_file=None,
        model_config_file_poll_wait_seconds=0.0,
        xla_cpu_compilation_enabled=False,
        enable_model_warmup=True,
    ):
        if not models:
            raise ValueError("Server needs at least one model.")
        if poll_wait_seconds <= 0:
            raise ValueError(f"poll_wait_seconds must be > 0, got {poll_wait_seconds}.")
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}.")
        _check_port("port", port)
        if rest_api_port is not None:
            _check_port("rest_api_port", rest_api_port)
        if isinstance(max_request_bytes, bool) or not isinstance(max_request_bytes, int) or max_request_bytes < 1:
            raise ValueError(f"max_request_bytes must be an integer >= 1, got {max_request_bytes!r}.")
        for flag, value in (("xla_cpu_compilation_enabled", xla_cpu_compilation_enabled),
                            ("enable_model_warmup", enable_model_warmup)):
            if not isinstance(value, bool):
                raise ValueError(f"{flag} must be True or False, got {value!r}.")
        self.xla_cpu_compilation_enabled = xla_cpu_compilation_enabled
        self.enable_model_warmup = enable_model_warmup
        self._models = {entry.name: _Model(entry) for entry in models}
        self.host = host
        self.port = int(port)
        self.rest_api_port = rest_api_port
        self.poll_wait_seconds = float(poll_wait_seconds)
        self.max_workers = int(max_workers)
        self.max_request_bytes = int(max_request_bytes)
        self.batcher = None if batching is None else Batcher(batching)
        if isinstance(rest_api_timeout_ms, bool) or not isinstance(rest_api_timeout_ms, int) or rest_api_timeout_ms < 1:
            raise ValueError(f"rest_api_timeout_ms must be an integer >= 1, got {rest_api_timeout_ms!r}.")
        self.rest_api_timeout_ms = rest_api_timeout_ms
        if model_config_file_poll_wait_seconds < 0:
            raise ValueError(
                f"model_config_file_poll_wait_seconds must be >= 0 (0: never), got {model_config_file_poll_wait_seconds}."
            )
        self.model_config_file = model_config_file
        self.model_config_file_poll_wait_seconds = float(model_config_file_poll_wait_seconds if model_config_file else 0)
        self._config_stamp = _file_stamp(model_config_file) if model_config_file else None
        self._config_names = (
            {e.name for e in entries_from_flags(model_config_file)} if model_config_file else set()
        )
        self._config_checked = 0.0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller = None
        self._grpc = None
        self._rest = None

    @classmethod
    def from_flags(cls, model_config_file=None, model_name=None, model_base_path=None, **kwargs):
        """A server configured like `tensorflow_model_server`'s flags (with
        `model_config_file_poll_wait_seconds` > 0 the config file is read
        again when it changes)."""
        entries = entries_from_flags(model_config_file, model_name, model_base_path)
        return cls(entries, model_config_file=model_config_file, **kwargs)

    @property
    def address(self):
        """"host:port" of the gRPC API to give a client (IPv6 hosts in brackets)."""
        return f"{self._bracketed_host}:{self.port}"

    @property
    def rest_address(self):
        """"http://host:port" of the REST API (None without one)."""
        if self.rest_api_port is None:
            return None
        return f"http://{self._bracketed_host}:{self.rest_api_port}"

    @property
    def _bracketed_host(self):
        return f"[{self.host}]" if ":" in self.host else self.host

    # ----- lifecycle ---------------------------------------------------------

    def start(self):
        """Load the current versions, bind, serve, and start polling."""
        if self._grpc is not None:
            raise RuntimeError("The server is already started.")
        if self.batcher is not None:
            self.batcher.start()
        self._stopping.clear()
        try:
            self.poll()
            self._start_grpc()
            if self.rest_api_port is not None:
                from arzoo.serving.rest import RestServer

                self._rest = RestServer(self, self.host, self.rest_api_port, self.rest_api_timeout_ms / 1000.0).start()
                self.rest_api_port = self._rest.port
        except BaseException:
            self.stop(grace=0.0)
            raise
        self._poller = threading.Thread(target=self._poll_loop, name="arzoo-serve-poll", daemon=True)
        self._poller.start()
        return self

    def _start_grpc(self):
        server = grpc.server(
            futures.ThreadPoolExecutor(self.max_workers, thread_name_prefix="arzoo-serve"),
            options=[
                ("grpc.max_send_message_length", -1),
                # gRPC refuses a larger message itself, RESOURCE_EXHAUSTED, before parsing it.
                ("grpc.max_receive_message_length", self.max_request_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionService(self), server
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelService(self), server)
        try:
            port = server.add_insecure_port(self.address)
        except RuntimeError as err:
            raise OSError(f"Could not listen on {self.address}: {err}") from None
        if port == 0:
            raise OSError(f"Could not listen on {self.address} (in use?).")
        self.port = port
        server.start()
        self._grpc = server

    def stop(self, grace=2.0):
        """Stop polling and serving; requests in flight get `grace` seconds."""
        self._stopping.set()
        # Both front ends stop taking requests, then the ones in flight get
        # `grace` seconds to finish (gRPC's own stop does both).
        stopped = self._grpc.stop(grace) if self._grpc is not None else None
        if self._rest is not None:
            self._rest.stop(grace)
            self._rest = None
        if stopped is not None:
            stopped.wait(timeout=grace + 5.0)
            self._grpc = None
        if self.batcher is not None:
            self.batcher.stop()
        if self._poller is not None:
            self._poller.join(timeout=60.0)
            self._poller = None

    def __enter__(self):
        return self.start() if self._grpc is None else self

    def __exit__(self, *exc):
        self.stop()

    def _poll_loop(self):
        while not self._stopping.wait(self.poll_wait_seconds):
            try:
                self._maybe_reload_config()
                self.poll()
            except Exception:  # a bad poll must not end polling
                _LOG.exception("polling the model base paths failed")

    # ----- the model config file ---------------------------------------------

    def _maybe_reload_config(self):
        wait = self.model_config_file_poll_wait_seconds
        if not wait or time.monotonic() - self._config_checked < wait:
            return
        self._config_checked = time.monotonic()
        self.reload_config()

    def reload_config(self):
        """Read the model config file again if it changed: serve the models
        it adds, stop serving those it drops, take new base paths, policies
        and labels. A file that cannot be read is logged and the models
        served as before (as TF Serving does). Returns whether it changed."""
        stamp = _file_stamp(self.model_config_file)
        if stamp == self._config_stamp:
            return False
        self._config_stamp = stamp
        try:
            entries = entries_from_flags(self.model_config_file)
        except Exception as err:
            _LOG.error("the model config %s could not be read (%s); serving the models as before",
                       self.model_config_file, str(err).splitlines()[0] if str(err) else type(err).__name__)
            return False
        clashes = sorted(e.name for e in entries if e.name in self._models and e.name not in self._config_names)
        if clashes:
            _LOG.error("the model config %s names %s, already served from --model_base_path; serving the "
                       "models as before", self.model_config_file, clashes)
            return False
        names = {e.name for e in entries}
        with self._lock:
            for name in sorted(self._config_names - names):
                del self._models[name]
                _LOG.info("no longer serving %s (gone from %s)", name, self.model_config_file)
            for entry in entries:
                model = self._models.get(entry.name)
                if model is None or model.entry.base_path != entry.base_path:
                    self._models[entry.name] = _Model(entry)
                    _LOG.info("serving %s from %s", entry.name, entry.base_path)
                else:
                    model.entry = entry
            self._config_names = names
        return True

    # ----- versions ----------------------------------------------------------

    def poll(self):
        """Scan every base path once: load new versions, unload gone ones."""
        for model in list(self._models.values()):
            present = integer_versions(model.entry.base_path)
            if not present and model.present is None:
                _LOG.warning("no versions of %s yet under %s", model.entry.name, model.entry.base_path)
            model.present = present
            servable = set(model.entry.servable_versions(present))
            with self._lock:
                for version in [v for v in model.loaded if v not in servable]:
                    del model.loaded[version]
                    _LOG.info("unloaded %s version %d", model.entry.name, version)
                for version in [v for v in model.failed if v not in present]:
                    del model.failed[version]  # a folder written again is retried
            for version in model.entry.eager_versions(present):
                if self._stopping.is_set():
                    return
                self._load(model, version)

    def _load(self, model, version):
        """The Servable of `version`, loading it once (None if it failed)."""
        path = os.path.join(model.entry.base_path, str(version))
        with self._lock:
            if version in model.loaded:
                return model.loaded[version]
            failed = model.failed.get(version)
        if failed is not None:
            if folder_fingerprint(path) == failed[1]:
                return None  # unchanged since it failed
            _LOG.info("retrying %s version %d: its folder changed since it failed to load", model.entry.name, version)
        with self._lock:
            lock = model.load_locks.setdefault(version, threading.Lock())
        with lock:
            with self._lock:
                if version in model.loaded:
                    return model.loaded[version]
            fingerprint = folder_fingerprint(path)  # before reading: a change during the load is seen later
            with self._lock:
                model.loading.add(version)
            try:
                servable = Servable(model.entry.name, version, path, self.batcher,
                                    xla_enabled=self.xla_cpu_compilation_enabled, warmup=self.enable_model_warmup)
            except Exception as err:
                _LOG.error("loading %s version %d from %s failed: %s", model.entry.name, version, path,
                           str(err).splitlines()[0] if str(err) else type(err).__name__)
                with self._lock:
                    model.loading.discard(version)
                    model.failed[version] = (f"{type(err).__name__}: {err}", fingerprint)
                return None
            with self._lock:
                model.loading.discard(version)
                model.loaded[version] = servable
                model.failed.pop(version, None)
            _LOG.info("loaded %s version %d from %s", model.entry.name, version, path)
            return servable

    def _model(self, name):
        model = self._models.get(name)
        if model is None:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({name})"
            )
        return model

    def _requested_version(self, model, model_spec):
        """The explicit version a ModelSpec asks for, or None for the latest."""
        choice = model_spec.WhichOneof("version_choice")
        if choice == "version":
            return int(model_spec.version.value)
        if choice == "version_label":
            label = model_spec.version_label
            if label not in model.entry.labels:
                raise RequestError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Unrecognized servable version label: {label}",
                )
            return int(model.entry.labels[label])
        return None

    def servable(self, model_spec):
        """The loaded Servable a ModelSpec names (loading it on demand)."""
        model = self._model(model_spec.name)
        version = self._requested_version(model, model_spec)
        name = model.entry.name
        if version is None:
            with self._lock:
                if model.loaded:
                    return model.loaded[max(model.loaded)]
            raise RequestError(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({name})")
        with self._lock:
            if version in model.loaded:
                return model.loaded[version]
        if model.entry.allows_on_demand(version, integer_versions(model.entry.base_path)):
            servable = self._load(model, version)
            if servable is not None:
                return servable
        raise RequestError(
            grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Specific({name}, {version})"
        )

    def version_statuses(self, model_spec):
        """[(version, state, error message)] for GetModelStatus."""
        model = self._model(model_spec.name)
        version = self._requested_version(model, model_spec)
        with self._lock:
            loaded, failed, loading = sorted(model.loaded), dict(model.failed), sorted(model.loading)
        rows = [(v, _State.AVAILABLE, "") for v in loaded]
        rows += [(v, _State.LOADING, "") for v in loading if v not in loaded]
        rows += [(v, _State.END, message) for v, (message, _) in sorted(failed.items())]
        if version is None:
            if not rows:
                raise RequestError(
                    grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {model.entry.name}"
                )
            return rows
        rows = [row for row in rows if row[0] == version]
        if not rows and model.entry.allows_on_demand(version, integer_versions(model.entry.base_path)):
            rows = [(version, _State.START, "")]  # loaded on its first request
        if not rows:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"Could not find version {version} of model {model.entry.name}",
            )
        return rows


    # ----- answers both front ends give --------------------------------------

    def model_metadata(self, request):
        """GetModelMetadataRequest -> GetModelMetadataResponse (signature_def only)."""
        fields = list(request.metadata_field)
        if not fields:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "GetModelMetadataRequest must specify at least one metadata_field",
            )
        for field in fields:
            if field != SIGNATURE_DEF_FIELD:
                raise RequestError(
                    grpc.StatusCode.INVALID_ARGUMENT, f"Metadata field {field} is not supported"
                )
        servable = self.servable(request.model_spec)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature in servable.signature_defs.items():
            signature_map.signature_def[key].CopyFrom(signature)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        fill_spec(response.model_spec, request.model_spec.name, servable.version)
        response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
        return response

    def model_status(self, request):
        """GetModelStatusRequest -> GetModelStatusResponse; every row has a
        status (OK, or INTERNAL with the load error), as TF Serving's."""
        response = get_model_status_pb2.GetModelStatusResponse()
        for version, state, message in self.version_statuses(request.model_spec):
            row = response.model_version_status.add()
            row.version = version
            row.state = state
            row.status.SetInParent()
            if message:
                row.status.error_code = error_codes_pb2.INTERNAL
                row.status.error_message = message
        return response


# ----- gRPC services -------------------------------------------------------


def _answer(context, method, request):
    """Run `method(request)`, turning failures into gRPC statuses."""
    try:
        return method(request)
    except Exception as err:
        if not isinstance(err, (RequestError, tf.errors.OpError)):
            _LOG.exception("unexpected error answering a request")
        failure = as_request_error(err)
    context.abort(failure.code, failure.message)


def fill_spec(spec, name, version, signature_name=None):
    spec.name = name
    spec.version.value = version
    if signature_name is not None:
        spec.signature_name = signature_name


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, server):
        self._server = server

    def Predict(self, request, context):
        return _answer(context, self._predict, request)

    def GetModelMetadata(self, request, context):
        return _answer(context, self._server.model_metadata, request)

    def _predict(self, request):
        servable = self._server.servable(request.model_spec)
        signature_name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        signature = servable.signature(signature_name)
        inputs = arrays_from_tensor_protos(
            signature, request.inputs, max_bytes=self._server.max_request_bytes, max_rows=servable.max_batch_size
        )
        outputs = servable.run(signature_name, inputs, output_aliases(signature, request.output_filter))
        response = predict_pb2.PredictResponse()
        fill_spec(response.model_spec, request.model_spec.name, servable.version, signature_name)
        for alias, array in outputs.items():
            response.outputs[alias].CopyFrom(tf.make_tensor_proto(np.asarray(array)))
        return response


class _ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, server):
        self._server = server

    def GetModelStatus(self, request, context):
        return _answer(context, self._server.model_status, request)


def serve(model_config_file=None, model_name=None, model_base_path=None, **kwargs):
    """Start a `Server` configured like `tensorflow_model_server` (keyword
    arguments as `Server`'s); returns it serving (call `stop()` when done)."""
    return Server.from_flags(model_config_file, model_name, model_base_path, **kwargs).start()

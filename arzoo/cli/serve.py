"""`arzoo serve`: an embedded TensorFlow Serving server (gRPC, and REST when
--rest_api_port is given) over `arzoo export` folders, until Ctrl-C or
SIGTERM. Flags are tensorflow_model_server's (dashes accepted too)."""

import os
import sys

from arzoo.cli.common import flag_bool, int_in, non_negative_float, positive_float

# Where `arzoo export` (default --base exports) lists what it wrote.
DEFAULT_MODEL_CONFIG = os.path.join("exports", "models.config")


def add_parser(sub, parents):
    p = sub.add_parser(
        "serve", parents=parents,
        help="serve exported models over TF Serving's gRPC API (Predict, GetModelMetadata, "
        "GetModelStatus) and, with --rest_api_port, its REST API",
        description="An embedded TensorFlow Serving server over `arzoo export` folders. "
        "Serves the highest integer version of each model (another version present on disk "
        "when a request names it), picks up new versions by polling, runs until Ctrl-C or "
        "SIGTERM and prints the address it listens on.",
    )
    p.add_argument("--model_config_file", "--model-config-file", dest="model_config_file",
                   help="TF Serving models.config (model_config_list) text proto (default "
                   f"{DEFAULT_MODEL_CONFIG} when no --model_base_path is given)")
    p.add_argument("--model_name", "--model-name", dest="model_name",
                   help="name of the single model served from --model_base_path (default 'default')")
    p.add_argument("--model_base_path", "--model-base-path", dest="model_base_path",
                   help="folder holding the model's integer version folders")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; 0.0.0.0 for all)")
    p.add_argument("--port", type=int_in(0, 65535), default=8500, help="gRPC port (default 8500; 0 picks a free one)")
    p.add_argument("--rest_api_port", "--rest-api-port", dest="rest_api_port", type=int_in(0, 65535),
                   help="REST (HTTP/JSON) port, off unless given (8501 by convention; 0 picks a free one)")
    p.add_argument("--max_request_bytes", "--max-request-bytes", dest="max_request_bytes", type=int_in(1),
                   default=64 * 2**20, help="largest request read, in bytes (default 64 MiB): a larger one is "
                   "RESOURCE_EXHAUSTED over gRPC, HTTP 413 over REST")
    p.add_argument("--enable_batching", "--enable-batching", dest="enable_batching", action="store_true",
                   help="merge concurrent requests for one signature into one run, as TF Serving does")
    p.add_argument("--batching_parameters_file", "--batching-parameters-file", dest="batching_parameters_file",
                   help="TF Serving BatchingParameters text proto (max_batch_size, batch_timeout_micros, "
                   "num_batch_threads, allowed_batch_sizes, max_enqueued_batches); implies --enable_batching")
    p.add_argument("--file_system_poll_wait_seconds", "--file-system-poll-wait-seconds",
                   dest="file_system_poll_wait_seconds", type=positive_float, default=2.0,
                   help="seconds between scans for new versions (default 2)")
    p.add_argument("--model_config_file_poll_wait_seconds", "--model-config-file-poll-wait-seconds",
                   dest="model_config_file_poll_wait_seconds", type=non_negative_float, default=2.0,
                   help="seconds between reads of --model_config_file, so models added to it are served and "
                   "models removed stop (default 2; 0: read it once, TF Serving's default)")
    p.add_argument("--rest_api_timeout_in_ms", "--rest-api-timeout-in-ms", dest="rest_api_timeout_in_ms",
                   type=int_in(1), default=30_000,
                   help="how long the REST API waits for a request's bytes before answering 408 (default 30000)")
    p.add_argument("--xla_cpu_compilation_enabled", "--xla-cpu-compilation-enabled",
                   dest="xla_cpu_compilation_enabled", type=flag_bool, nargs="?", const=True, default=False,
                   metavar="true|false",
                   help="run the XLA-compiled signatures of `arzoo export --xla` exports (default false, as "
                   "TF Serving: their requests are refused with FAILED_PRECONDITION naming this flag)")
    p.add_argument("--enable_model_warmup", "--enable-model-warmup", dest="enable_model_warmup", type=flag_bool,
                   nargs="?", const=True, default=True, metavar="true|false",
                   help="replay a version's assets.extra/tf_serving_warmup_requests before serving it "
                   "(default true, as TF Serving)")
    p.add_argument("--max-workers", type=int_in(1), default=16, help="request threads (default 16)")
    p.set_defaults(func=run)


def _serving_log():
    import logging

    class CurrentStderr(logging.StreamHandler):
        """Writes to sys.stderr as it is when a line is logged (not as it was
        when the handler was made: a later redirection, or a test's capture,
        would leave it writing to a closed stream)."""

        @property
        def stream(self):
            return sys.stderr

        @stream.setter
        def stream(self, value):
            pass

    log = logging.getLogger("arzoo.serving")
    if not log.handlers:
        handler = CurrentStderr()
        handler.setFormatter(logging.Formatter("arzoo serve: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def run(args):
    import signal
    import threading

    from arzoo.serving.batching import BatchingParameters
    from arzoo.serving.server import Server

    _serving_log()
    batching = None
    if args.batching_parameters_file:
        batching = BatchingParameters.from_file(args.batching_parameters_file)
    elif args.enable_batching:
        batching = BatchingParameters()
    config_file = args.model_config_file
    if config_file is None and args.model_base_path is None and args.model_name is None:
        config_file = DEFAULT_MODEL_CONFIG
    server = Server.from_flags(
        config_file,
        args.model_name,
        args.model_base_path,
        host=args.host,
        port=args.port,
        rest_api_port=args.rest_api_port,
        max_request_bytes=args.max_request_bytes,
        batching=batching,
        poll_wait_seconds=args.file_system_poll_wait_seconds,
        max_workers=args.max_workers,
        rest_api_timeout_ms=args.rest_api_timeout_in_ms,
        model_config_file_poll_wait_seconds=args.model_config_file_poll_wait_seconds,
        xla_cpu_compilation_enabled=args.xla_cpu_compilation_enabled,
        enable_model_warmup=args.enable_model_warmup,
    )
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except OSError as err:
            print(f"arzoo serve: error: {err}", file=sys.stderr)
            return 2
        rest = f", REST on {server.rest_address}" if server.rest_address else ""
        batched = (", batching" if batching else "") + (", XLA" if args.xla_cpu_compilation_enabled else "")
        print(f"arzoo serve: listening on {server.address} (gRPC{rest}{batched}; Ctrl-C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
        print("arzoo serve: stopping", file=sys.stderr, flush=True)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0

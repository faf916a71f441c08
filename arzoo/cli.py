"""The `arzoo` command line: train, eval, sample, audit, export, serve, client, demo.

Each subcommand has `--help`. Heavy imports happen inside the commands so
that `arzoo --help` answers at once.
"""

import argparse
import json
import os
import sys
import time


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _print_json(obj):
    print(json.dumps(obj, indent=2, default=float))


# ----- train --------------------------------------------------------------


def cmd_train(args):
    import arzoo
    from arzoo.runs import save_run_config
    from arzoo.training import train

    config = arzoo.load_config(args.config, args.set)
    output = args.output or os.path.join(
        "runs", os.path.splitext(os.path.basename(args.config))[0]
    )
    os.makedirs(output, exist_ok=True)
    save_run_config(output, config)
    result = train(config, output, progress=not args.no_progress)
    summary = result.summary()
    summary["model"] = os.path.join(output, "model.keras")
    _print_json(summary)


# ----- eval ---------------------------------------------------------------


def cmd_eval(args):
    from arzoo.evaluation.run import evaluate
    from arzoo.runs import open_run

    run = open_run(args.run, args.set)
    # Each event space takes its own options and refuses the others when given.
    _print_json(evaluate(
        run, args.split, args.max_examples, args.batch_size, not args.no_baselines,
        ensemble=args.ensemble, speaker_id=args.speaker_id,
    ))


# ----- sample -------------------------------------------------------------


def cmd_sample(args):
    from arzoo.events import event_space
    from arzoo.runs import open_run

    run = open_run(args.run)
    _print_json(event_space(run.model).sample_command(args, run))


# ----- audit --------------------------------------------------------------


def cmd_audit(args):
    from arzoo.evaluation import audit_position
    from arzoo.figures import dependency_figure, save_png, text_map
    from arzoo.runs import open_run

    model = open_run(args.run, args.set).model
    height, width, _ = model.image_shape
    row = height // 2 if args.row is None else args.row
    col = width // 2 if args.col is None else args.col
    result = audit_position(model, row, col, args.channel)
    print(
        f"{type(model).__name__}: sampling step {result['step']} = pixel ({row}, {col}), "
        f"channel {args.channel}"
    )
    print("X audited  # read  . earlier but unread (blind spot / outside field)  - later  ! later but read (violation)")
    print(text_map(result, args.channel))
    summary = {
        "reads_earlier": int(result["reads_earlier"].sum()),
        "unread_earlier": int(result["unread_earlier"].sum()),
        "reads_later": int(result["reads_later"].sum()),
        "causal": not result["reads_later"].any(),
    }
    if args.out:
        save_png(args.out, dependency_figure(result, model.image_shape))
        summary["png"] = args.out
    _print_json(summary)
    return 0 if summary["causal"] else 1


# ----- export -------------------------------------------------------------


def cmd_export(args):
    from arzoo.runs import open_run
    from arzoo.serving import export_model
    from arzoo.serving.config_files import update_model_config, write_batching_config

    run = open_run(args.run)
    if args.checkpoint:
        from arzoo.training.checkpoints import restore_weights

        restore_weights(run.model, args.checkpoint)
    name = args.name or run.model.family
    path = export_model(run.model, args.base, name, args.version, args.max_batch_size)
    update_model_config(args.model_config_file, name, os.path.join(args.base, name))
    write_batching_config(args.batching_config_file, args.max_batch_size)
    _print_json(
        {
            "export": path,
            "keras": os.path.join(path, "model.keras"),
            "model_config_file": args.model_config_file,
            "batching_config_file": args.batching_config_file,
        }
    )


# ----- demo ---------------------------------------------------------------


def cmd_demo(args):
    from arzoo.demo import run_demo

    run_demo(args.output, steps=args.steps, max_test_examples=args.max_test_examples)


# ----- serve / client -------------------------------------------------------

DEFAULT_MODEL_CONFIG = os.path.join("serving", "models.config")


def _serving_log():
    import logging

    log = logging.getLogger("arzoo.serving")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("arzoo serve: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def cmd_serve(args):
    import signal
    import threading

    from arzoo.serving.server import Server

    _serving_log()
    config_file = args.model_config_file
    if config_file is None and args.model_base_path is None and args.model_name is None:
        config_file = DEFAULT_MODEL_CONFIG
    server = Server.from_flags(
        config_file,
        args.model_name,
        args.model_base_path,
        host=args.host,
        port=args.port,
        poll_wait_seconds=args.file_system_poll_wait_seconds,
        max_workers=args.max_workers,
    )
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        try:
            server.start()
        except OSError as err:
            print(f"arzoo serve: error: {err}", file=sys.stderr)
            return 2
        print(f"arzoo serve: listening on {server.address} (gRPC; Ctrl-C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
        print("arzoo serve: stopping", file=sys.stderr, flush=True)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _served_version(text):
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def _served_condition(signature, label, count):
    import numpy as np
    from tensorflow.core.framework import types_pb2

    if "condition" not in signature.inputs:
        if label is not None:
            raise ValueError("--label was given but the served model takes no condition.")
        return None
    if signature.inputs["condition"].dtype != types_pb2.DT_INT32:  # int32 = class labels
        raise ValueError(
            "The served model takes a real-valued condition; call it from Python with "
            "arzoo.serving.client.Client(...).sample(seeds, condition=...)."
        )
    if label is None:
        raise ValueError("The served model is class-conditional: give --label K.")
    return np.full(count, label, np.int32)


def _in_batches(count, batch_size):
    if batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {batch_size}.")
    return [slice(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


def _client_sample(client, args):
    import numpy as np

    from arzoo.figures import save_grid
    from arzoo.files import atomic_path
    from arzoo.serving.client import row_seeds

    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}.")
    signature = client.signature_defs()["sample"]
    condition = _served_condition(signature, args.label, args.n)
    seeds = row_seeds(args.seed, args.n)
    start = time.time()
    samples = np.concatenate([
        client.sample(seeds[rows], args.temperature, None if condition is None else condition[rows])
        for rows in _in_batches(args.n, args.batch_size)
    ])
    elapsed = time.time() - start
    if samples.max() >= args.num_levels:
        raise ValueError(
            f"The samples reach level {samples.max()} but --num-levels is {args.num_levels}: "
            "give the model's num_levels."
        )
    save_grid(args.out, samples, args.num_levels)
    npy = os.path.splitext(args.out)[0] + ".npy"
    with atomic_path(npy) as temporary:
        np.save(temporary, samples)
    _print_json({"grid": args.out, "samples": npy, "num_samples": args.n, "seconds": elapsed})


def _client_log_prob(client, args):
    import numpy as np

    images = np.load(args.npy)
    signature = client.signature_defs()["log_prob"]
    if images.ndim == len(signature.inputs["x"].tensor_shape.dim) - 1:
        images = images[None]
    condition = _served_condition(signature, args.label, len(images))
    parts = [
        client.log_prob(images[rows], None if condition is None else condition[rows])
        for rows in _in_batches(len(images), args.batch_size)
    ]
    log_prob = np.concatenate([p["log_prob"] for p in parts])
    bits = np.concatenate([p["bits_per_dim"] for p in parts])
    _print_json({
        "num_images": len(images),
        "mean_log_prob": float(log_prob.mean()),
        "mean_bits_per_dim": float(bits.mean()),
        "log_prob": log_prob.tolist(),
        "bits_per_dim": bits.tolist(),
    })


def cmd_client(args):
    from arzoo.serving.client import Client, ServingError

    actions = {
        "sample": _client_sample,
        "log-prob": _client_log_prob,
        "metadata": lambda client, _: _print_json(client.metadata()),
    }
    try:
        with Client(args.target, args.model, _served_version(args.version), args.timeout) as client:
            actions[args.client_command](client, args)
    except ServingError as err:
        print(f"arzoo client: error: {err}", file=sys.stderr)
        return 2


def _add_serve_parser(sub):
    p = sub.add_parser(
        "serve",
        help="serve exported models over TF Serving's gRPC API (Predict, GetModelMetadata, "
        "GetModelStatus)",
        description="An embedded TensorFlow Serving gRPC server over `arzoo export` folders. "
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
    p.add_argument("--port", type=int, default=8500, help="gRPC port (default 8500; 0 picks a free one)")
    p.add_argument("--file_system_poll_wait_seconds", "--file-system-poll-wait-seconds",
                   dest="file_system_poll_wait_seconds", type=float, default=2.0,
                   help="seconds between scans for new versions (default 2)")
    p.add_argument("--max-workers", type=int, default=16, help="request threads (default 16)")
    p.set_defaults(func=cmd_serve)


def _add_client_parser(sub):
    p = sub.add_parser("client", help="call a served model over TF Serving's gRPC API",
                       description="Works against `arzoo serve` and tensorflow_model_server alike.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--target", default="localhost:8500", help="host:port (default localhost:8500)")
    common.add_argument("--model", required=True, help="served model name")
    common.add_argument("--version", help="integer version or version label (default: the latest)")
    common.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default 120)")
    csub = p.add_subparsers(dest="client_command", required=True)

    c = csub.add_parser("sample", parents=[common], help="draw samples into a PNG grid (and a .npy)")
    c.add_argument("--n", type=int, default=16, help="number of samples (default 16)")
    c.add_argument("--seed", type=int, default=0,
                   help="row i uses fold_in(seed, i), as `arzoo sample --seed` (default 0)")
    c.add_argument("--temperature", type=float, default=1.0)
    c.add_argument("--label", type=int, help="class label for a class-conditional model (required there)")
    c.add_argument("--num-levels", type=int, default=256,
                   help="the model's num_levels, to scale levels to grey values (default 256; "
                   "the server does not report it, so give it for models with fewer levels)")
    c.add_argument("--batch-size", type=int, default=64,
                   help="rows per request, at most the export's max batch size (default 64)")
    c.add_argument("--out", default="samples.png", help="PNG path (default samples.png)")

    c = csub.add_parser("log-prob", parents=[common],
                        help="log-likelihood (nats) and bits/dim of the images in a .npy")
    c.add_argument("--npy", required=True, help="int levels, [B, H, W, C] or one [H, W, C] image")
    c.add_argument("--label", type=int, help="class label for every image (class-conditional models)")
    c.add_argument("--batch-size", type=int, default=64,
                   help="images per request, at most the export's max batch size (default 64)")

    csub.add_parser("metadata", parents=[common], help="the served signatures: inputs and outputs")
    p.set_defaults(func=cmd_client)


# ----- parser -------------------------------------------------------------


def _add_data_parser(sub):
    p = sub.add_parser("data", help="make offline datasets")
    dsub = p.add_subparsers(dest="dataset", required=True)
    c = dsub.add_parser(
        "speech-corpus",
        help="synthesise the multi-speaker speech corpus with festival and espeak-ng "
        "(the offline default of the WaveNet configs)",
    )
    c.add_argument("--out", required=True, help="corpus folder: <out>/<speaker>/<nnn>.wav + .txt")
    c.add_argument("--sample-rate", type=int, default=16000, help="Hz (default 16000)")
    c.add_argument("--voices", nargs="*", help="speaker names (default: every installed voice)")
    c.add_argument("--max-sentences", type=int, help="use the first N sentences only")
    c.add_argument("--no-progress", action="store_true")
    c.set_defaults(func=cmd_data)


def _add_sample_arguments(p):
    """The audio and text options of `arzoo sample`."""
    p.add_argument("--seconds", type=float, help="audio models: length of each sample "
                   "(default: the model's sample_length, or the --features-from file)")
    p.add_argument("--speaker", type=int, help="audio models: speaker id (default: cycle through them)")
    p.add_argument("--features-from", help="vocoders: a WAV whose log-mel features condition the samples")
    p.add_argument("--continue-from", help="audio models: a WAV whose start is continued")
    p.add_argument("--prefix-seconds", type=float, default=0.5,
                   help="with --continue-from: how much of the file to keep (default 0.5)")
    p.add_argument("--prompt", help="text models: continue this text")
    p.add_argument("--length", type=int, help="text models: characters to draw (default the model's sample_length)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="arzoo",
        description="Deep autoregressive generative models: train, evaluate, sample, audit.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model from a zoo config")
    p.add_argument("config", help="a YAML file, e.g. zoo_configs/digits/gated_pixelcnn.yaml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value, e.g. --set training.steps=100 (repeatable)")
    p.add_argument("--output", help="output folder (default runs/<config name>); an existing "
                   "one with checkpoints is resumed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="test NLL (nats, bits/dim, bits/sample, bits/character) of a "
                       "trained run with baselines")
    p.add_argument("run", help="a run folder written by `arzoo train`")
    p.add_argument("--split", help="TFDS split (default: the config's test split)")
    p.add_argument("--max-examples", type=int, help="evaluate only the first N examples")
    p.add_argument("--batch-size", type=int, help="examples per batch (default: 256 images, 16 clips, 64 text windows)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    p.add_argument("--ensemble", type=int, metavar="K",
                   help="MADE / DeepNADE: also score the ensemble of K masks or orderings "
                   "(default: the model's ensemble_size when above 1)")
    p.add_argument("--speaker-id", action="store_true",
                   help="audio models with speakers: also identify the speaker of one-second clips")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override the run's data settings, e.g. --set data.data_dir=/data")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("sample", help="draw samples: images into a PNG grid, audio into WAV "
                       "files and a spectrogram PNG (and a .npy), text printed and into a .txt")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml (untrained)")
    p.add_argument("--n", type=int, default=16, help="number of samples")
    p.add_argument("--seed", type=int, default=0, help="row i uses fold_in(seed, i)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--label", type=int, help="class label for a class-conditional model "
                   "(default: cycle through the classes)")
    p.add_argument("--method", choices=["cached", "naive"], default="cached")
    p.add_argument("--out", default="samples.png",
                   help="PNG path (audio models: a folder, default ./samples)")
    _add_sample_arguments(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("audit", help="causality audit: which inputs one position depends on")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml (fresh weights)")
    p.add_argument("--row", type=int, help="default: the middle row")
    p.add_argument("--col", type=int, help="default: the middle column")
    p.add_argument("--channel", type=int, default=0)
    p.add_argument("--out", help="write the dependency map as a PNG")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override config values (with a config .yaml)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("export", help="write a TF-Serving-ready SavedModel version (+ model.keras)")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml")
    p.add_argument("--checkpoint", help="restore these weights first (a checkpoint prefix or "
                   "a run's checkpoints/ folder: the latest is used)")
    p.add_argument("--base", default="exports", help="export base folder (default exports/)")
    p.add_argument("--name", help="served model name (default: the model family)")
    p.add_argument("--version", type=int, help="integer version (default: next after the highest)")
    p.add_argument("--max-batch-size", type=int, default=64,
                   help="largest batch a request may carry (default 64)")
    p.add_argument("--model-config-file", default=os.path.join("serving", "models.config"),
                   help="TF Serving model_config_list to add the model to")
    p.add_argument("--batching-config-file", default=os.path.join("serving", "batching.config"),
                   help="TF Serving batching parameters to write")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="the end-to-end offline demo behind `make run`")
    p.add_argument("--output", default="demo_output", help="output folder")
    p.add_argument("--steps", type=int, help="training steps (default: the demo config's)")
    p.add_argument("--max-test-examples", type=int, help="evaluate on the first N test images")
    p.set_defaults(func=cmd_demo)

    _add_data_parser(sub)
    _add_serve_parser(sub)
    _add_client_parser(sub)
    return parser


def cmd_data(args):
    """`arzoo data speech-corpus`: synthesise the offline speech corpus."""
    from arzoo.data.speech_corpus import make_speech_corpus

    manifest = make_speech_corpus(
        args.out, sample_rate=args.sample_rate, voices=args.voices or None,
        max_sentences=args.max_sentences, progress=not args.no_progress,
    )
    _print_json({
        "out": args.out,
        "sample_rate": manifest["sample_rate"],
        "speakers": sorted(manifest["speakers"]),
        "files": manifest["count"],
        "total_seconds": manifest["total_seconds"],
    })


def main(argv=None):
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except Exception as err:  # user-facing errors become one line and exit code 2
        if not isinstance(err, _user_errors()):
            raise
        print(f"arzoo {args.command}: error: {err}", file=sys.stderr)
        return 2
    return code or 0


def _user_errors():
    from arzoo.data import DatasetUnavailableError
    from arzoo.training.checkpoints import CheckpointError

    return (ValueError, FileNotFoundError, CheckpointError, DatasetUnavailableError)


if __name__ == "__main__":
    sys.exit(main())

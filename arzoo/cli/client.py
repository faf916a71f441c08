"""`arzoo client ...`: call a served model over TF Serving's gRPC or REST
API (`arzoo serve` and tensorflow_model_server alike). `client sample` writes
what the served model draws as its event space writes it: a PNG grid for
images, WAV files for audio, text printed and into a .txt, a .npy for
vectors."""

import argparse
import sys

from arzoo.cli.common import int_in, positive_float, print_json, seed_value


def add_parser(sub, parents):
    p = sub.add_parser("client", parents=parents, help="call a served model over TF Serving's gRPC or REST API",
                       description="Works against `arzoo serve` and tensorflow_model_server alike.")
    common = argparse.ArgumentParser(add_help=False, parents=parents)
    common.add_argument("--target", default="localhost:8500", help="host:port for gRPC (default localhost:8500), "
                        "http://host:port for REST (e.g. http://localhost:8501)")
    common.add_argument("--model", required=True, help="served model name")
    common.add_argument("--version", help="integer version or version label (default: the latest)")
    common.add_argument("--timeout", type=positive_float, default=120.0, help="seconds per request (default 120)")
    csub = p.add_subparsers(dest="client_command", required=True)

    c = csub.add_parser("sample", parents=[common], help="draw samples: images into a PNG grid (and a "
                        ".npy), audio into WAV files, text printed and into a .txt, vectors into a .npy")
    c.add_argument("--n", type=int_in(1), default=16, help="number of samples (default 16)")
    c.add_argument("--seed", type=seed_value, default=0,
                   help="row i uses fold_in(seed, i), as `arzoo sample --seed` (default 0)")
    c.add_argument("--temperature", type=positive_float, default=1.0)
    c.add_argument("--label", type=int_in(0), help="class label for a class-conditional model (required there)")
    c.add_argument("--num-levels", type=int_in(2),
                   help="image models: levels, to scale them to grey values (default: what the export's "
                   "metadata says, else 256)")
    c.add_argument("--seconds", type=positive_float, help="audio models: length of each sample (default: the "
                   "model's sample_length)")
    c.add_argument("--speaker", type=int_in(0), help="audio models: speaker id (default: cycle through them)")
    c.add_argument("--length", type=int_in(1), help="text models: characters to draw (default 200)")
    c.add_argument("--prompt", help="text models: continue this text")
    c.add_argument("--batch-size", type=int_in(1), default=64,
                   help="rows per request, at most the export's max batch size (default 64)")
    c.add_argument("--out", default="samples.png",
                   help="PNG path (audio: a folder, default ./samples; text: <out>.txt; vectors: <out>.npy)")
    c.add_argument("--overwrite", action="store_true",
                   help="text models: replace an existing <out>.txt (refused otherwise: another command's "
                   "texts would be lost)")
    c.set_defaults(client_action=_sample)

    c = csub.add_parser("log-prob", parents=[common],
                        help="log-likelihood (nats) and bits per dimension / sample / character of the "
                        "events in a .npy")
    c.add_argument("--npy", required=True,
                   help="events as the model takes them: int levels [B, H, W, C] or [B, T], "
                   "floats [B, D]; or one event without the batch axis")
    c.add_argument("--label", type=int_in(0), help="class label for every event (class-conditional models)")
    c.add_argument("--batch-size", type=int_in(1), default=64,
                   help="events per request, at most the export's max batch size (default 64)")
    c.set_defaults(client_action=_log_prob)

    c = csub.add_parser("metadata", parents=[common], help="the served signatures: inputs and outputs")
    c.set_defaults(client_action=lambda client, _: print_json(client.metadata()))
    p.set_defaults(func=run)


def _served_version(text):
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def _sample(client, args):
    from arzoo.events import EVENT_SPACES

    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}.")
    info = client.model_info()
    print_json(EVENT_SPACES[info["modality"]].client_sample(client, args, info))


def _log_prob(client, args):
    import numpy as np

    from arzoo.events import EventSpace
    from arzoo.serving.client import row_batches

    events = np.load(args.npy)
    signature = client.signature_defs()["log_prob"]
    if events.ndim == len(signature.inputs["x"].tensor_shape.dim) - 1:
        events = events[None]
    condition = EventSpace.served_labels(client, "log_prob", args.label, len(events))
    parts = [
        client.log_prob(events[rows], None if condition is None else condition[rows])
        for rows in row_batches(len(events), args.batch_size, "--batch-size")
    ]
    report = {"num_events": len(events)}
    for name in parts[0]:  # log_prob and the export's unit (bits_per_dim, bits_per_sample, ...)
        values = np.concatenate([part[name] for part in parts])
        report[f"mean_{name}"] = float(values.mean())
        report[name] = values.tolist()
    print_json(report)


def run(args):
    from arzoo.serving.client import Client, ServingError

    try:
        with Client(args.target, args.model, _served_version(args.version), args.timeout) as client:
            args.client_action(client, args)
    except ServingError as err:
        print(f"arzoo client: error: {err}", file=sys.stderr)
        return 2

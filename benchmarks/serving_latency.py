"""Served sampling against in-process sampling, portable and XLA exports,
and the first request after a version loads, with and without warmup records.

    python -m benchmarks.serving_latency --json run1.json [--families gated_pixelcnn,wavenet] [--repeats 3]
    python -m benchmarks.serving_latency --median run1.json run2.json run3.json

For every image family with a Fashion-MNIST config (8-bit where there is
one, else binarized; ConvNADE has none and is left out, saying so),
WaveNet at zoo_configs/speech/wavenet_cpu.yaml (1 s of audio) and Char-RNN
at zoo_configs/text/char_rnn_fortunes.yaml (200 characters), weights as
initialised (latency does not depend on their values), at batch 1 and 16:

- in-process `model.sample` (its XLA-compiled loop, warm);
- the `sample` signature of the portable export and of the XLA export,
  called in process on the versions the servers loaded (warm);
- gRPC Predict `sample` to `arzoo serve` serving each (warm);
- the first gRPC request at each batch after a version loads, on a
  connected channel: the export without warmup records, then with them (the server replays them before the
  version is AVAILABLE; how long that took is printed too).

Each warm figure is the median of `--repeats` calls after one untimed call.
Exports take `--max-batch-size` 16, so an XLA export compiles its loop for
batches 1, 2, 4, 8 and 16. The no-warmup servers load first, so no earlier
load of the same export has compiled anything for them. Every first
request's sample is compared with the in-process one and the values that
differ are counted: the three paths compute the same logits with different
kernels, so a uniform within float rounding (~1e-7) of a level's CDF
boundary can land on the neighbouring level; at 256 levels that is about one
value in 10^4.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCHES = (1, 16)
MAX_BATCH_SIZE = 16
AUDIO_SECONDS = 1.0
TEXT_LENGTH = 200
SEQUENCE_CONFIGS = {
    "wavenet": "zoo_configs/speech/wavenet_cpu.yaml",
    "char_rnn": "zoo_configs/text/char_rnn_fortunes.yaml",
}
# Warm and first-request rows, in the order printed.
WARM = ("in_process", "portable_signature", "xla_signature", "grpc_portable", "grpc_xla")
FIRST = ("first_portable_cold", "first_portable_warmed", "first_xla_cold", "first_xla_warmed")


def image_configs():
    import arzoo

    configs = {}
    for family in arzoo.list_models("image"):
        for candidate in (f"fashion_mnist/{family}.yaml", f"fashion_mnist/{family}_binarized.yaml"):
            if os.path.exists(os.path.join(REPO, "zoo_configs", candidate)):
                configs[family] = f"zoo_configs/{candidate}"
                break
    return configs


def cases():
    return {**image_configs(), **SEQUENCE_CONFIGS}


def median_seconds(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def open_model(family, config):
    from arzoo.runs import open_run

    overrides = [f"model.sample_length={TEXT_LENGTH}"] if family == "char_rnn" else []
    return open_run(os.path.join(REPO, config), overrides).model


def request_inputs(model, events, batch):
    """The `sample` signature's inputs for `batch` rows, and the in-process
    call's keyword arguments that draw the same rows."""
    from arzoo.serving.client import row_seeds

    seeds = row_seeds(0, batch)
    length = None
    if model.modality == "audio":
        length = int(AUDIO_SECONDS * model.sample_rate)
    elif model.modality == "text":
        length = TEXT_LENGTH
    inputs = {"seed": seeds, "temperature": np.ones([batch], np.float32)}
    condition_inputs = events.serving_example_condition(batch, length)
    inputs.update(condition_inputs)
    if length is not None and not events.serving_length_given_by_condition():
        inputs["length"] = np.full([batch], length, np.int32)
    if model.modality == "audio":
        condition = model.join_condition(condition_inputs.get("speaker"), condition_inputs.get("features"))
    else:
        condition = condition_inputs.get("condition")
    return inputs, {"seeds": seeds, "condition": condition, "length": length}


def measure(family, config, repeats, base):
    import tensorflow as tf

    from arzoo.events import event_space
    from arzoo.serving import Client, Server, export_model
    from arzoo.serving.server import ModelEntry

    model = open_model(family, config)
    events = event_space(model)
    requests = {batch: request_inputs(model, events, batch) for batch in BATCHES}
    rows = {"family": family, "config": config, "modality": model.modality, "warm": {}, "first": {}, "load": {},
            "differing": {}}
    for kind in ("portable", "xla"):
        export_model(model, base, f"{family}_{kind}", max_batch_size=MAX_BATCH_SIZE, xla=kind == "xla")
    reference = {batch: model.sample(**call).numpy() for batch, (_, call) in requests.items()}
    rows["draws"] = {batch: int(sample.size) for batch, sample in reference.items()}

    def serve(kind, warmup):
        server = Server([ModelEntry(kind, os.path.join(base, f"{family}_{kind}"))], poll_wait_seconds=3600,
                        xla_cpu_compilation_enabled=True, enable_model_warmup=warmup)
        seconds, _ = timed(server.start)
        return server, seconds

    def first_requests(server, kind, label):
        with Client(server.address, kind) as client:
            client.status()  # connected (GetModelStatus runs no graph): the request alone is timed
            for batch, (inputs, _) in requests.items():
                seconds, out = timed(lambda: client.predict("sample", inputs, output_filter=("samples",)))
                rows["first"].setdefault(label, {})[batch] = seconds
                # Equal draws except where a uniform lies within float rounding of a
                # CDF boundary: counted, not asserted (see BENCHMARKS.md).
                rows["differing"].setdefault(label, {})[batch] = int(np.sum(out["samples"] != reference[batch]))

    warm_servers = {}
    try:
        for kind in ("portable", "xla"):  # cold first: nothing compiled for these exports yet
            server, seconds = serve(kind, warmup=False)
            rows["load"][f"{kind}_cold"] = seconds
            try:
                first_requests(server, kind, f"first_{kind}_cold")
            finally:
                server.stop()
        for kind in ("portable", "xla"):
            server, seconds = serve(kind, warmup=True)
            warm_servers[kind] = server
            rows["load"][f"{kind}_warmed"] = seconds
            first_requests(server, kind, f"first_{kind}_warmed")
        for batch, (inputs, call) in requests.items():
            warm = rows["warm"]
            warm.setdefault("in_process", {})[batch] = median_seconds(lambda: model.sample(**call).numpy(), repeats)
            tensors = {k: tf.constant(v) for k, v in inputs.items()}
            for kind, server in warm_servers.items():
                function = server._models[kind].loaded[1].functions["sample"]
                warm.setdefault(f"{kind}_signature", {})[batch] = median_seconds(
                    lambda: function(**tensors)["samples"].numpy(), repeats)
                with Client(server.address, kind) as client:
                    warm.setdefault(f"grpc_{kind}", {})[batch] = median_seconds(
                        lambda: client.predict("sample", inputs, output_filter=("samples",)), repeats)
    finally:
        for server in warm_servers.values():
            server.stop()
    return rows


def print_table(results):
    print(f"{'family':22} {'B':>3} " + " ".join(f"{name:>12}" for name in WARM) + "   xla/in  grpc_xla/in")
    for row in results:
        for batch in BATCHES:
            warm = [row["warm"][name][str(batch)] for name in WARM]
            print(f"{row['family']:22} {batch:3d} " + " ".join(f"{s * 1000:10.0f}ms" for s in warm)
                  + f"   {warm[2] / warm[0]:6.2f}x {warm[4] / warm[0]:6.2f}x")
    print()
    print("first request after a version loads (cold: no warmup records; warmed: replayed before AVAILABLE),")
    print("and its ratio to the warm gRPC request:")
    print(f"{'family':22} {'B':>3} " + " ".join(f"{name:>22}" for name in FIRST))
    for row in results:
        for batch in BATCHES:
            cells = []
            for name in FIRST:
                seconds = row["first"][name][str(batch)]
                warm = row["warm"]["grpc_xla" if "xla" in name else "grpc_portable"][str(batch)]
                cells.append(f"{seconds * 1000:9.0f}ms ({seconds / warm:6.2f}x)")
            print(f"{row['family']:22} {batch:3d} " + " ".join(f"{c:>22}" for c in cells))
    print()
    print("load (start to AVAILABLE) seconds:")
    for row in results:
        print(f"  {row['family']:22} " + "  ".join(f"{k} {v:.1f}" for k, v in row["load"].items()))
    print()
    print("served values differing from the in-process sample (of all values drawn at batches 1 and 16, "
          "every first request):")
    for row in results:
        differing = {label: sum(counts.values()) for label, counts in row["differing"].items()}
        draws = sum(row["draws"].values())
        print(f"  {row['family']:22} of {draws:7d}: " + "  ".join(f"{k} {v}" for k, v in differing.items()))


def _median_of(runs):
    """The per-figure median of runs of the same families."""
    merged = []
    for rows in zip(*runs):
        assert len({r["family"] for r in rows}) == 1
        out = {"family": rows[0]["family"]}
        for part in ("warm", "first"):
            out[part] = {name: {batch: statistics.median(r[part][name][batch] for r in rows)
                                for batch in rows[0][part][name]} for name in rows[0][part]}
        out["load"] = {k: statistics.median(r["load"][k] for r in rows) for k in rows[0]["load"]}
        out["draws"] = rows[0]["draws"]
        out["differing"] = {name: {batch: max(r["differing"][name][batch] for r in rows)
                                   for batch in rows[0]["differing"][name]} for name in rows[0]["differing"]}
        merged.append(out)
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", help="comma-separated families (default: every one)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--median", nargs="+", metavar="JSON", help="print the medians of runs written by --json")
    args = parser.parse_args(argv)
    if args.median:
        runs = [json.load(open(path)) for path in args.median]
        print(f"median of {len(runs)} runs ({', '.join(args.median)}):")
        print_table(_median_of(runs))
        return
    import tensorflow as tf

    chosen = cases()
    if args.families:
        unknown = sorted(set(args.families.split(",")) - set(chosen))
        if unknown:
            sys.exit(f"unknown families {unknown}; known: {sorted(chosen)}")
        chosen = {f: chosen[f] for f in args.families.split(",")}
    print(f"tensorflow {tf.__version__}, {os.cpu_count()} CPUs, batches {BATCHES}, median of {args.repeats}",
          flush=True)
    import arzoo

    missing = sorted(set(arzoo.list_models("image")) - set(image_configs()))
    if missing and not args.families:
        print(f"  no Fashion-MNIST config, left out: {', '.join(missing)}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as base:
        for family, config in chosen.items():
            start = time.perf_counter()
            results.append(measure(family, config, args.repeats, base))
            print(f"  measured {family} ({config}) in {time.perf_counter() - start:.0f} s", flush=True)
            results = json.loads(json.dumps(results))  # batch keys as the JSON file has them
            if args.json:  # after every family: a crash keeps what was measured
                with open(args.json + ".tmp", "w") as f:
                    json.dump(results, f, indent=1)
                os.replace(args.json + ".tmp", args.json)
    print_table(results)


if __name__ == "__main__":
    main()

"""The spatial LSTM (RIDE) against the MCGSM alone and RNADE at one
wall-clock budget, and its cached sampler against the naive one, side by
side in one run.

    python -m benchmarks.spatial_lstm                      # 10 minutes each
    python -m benchmarks.spatial_lstm --minutes 3 --json run1.json
    python -m benchmarks.spatial_lstm --sampling-only
    python -m benchmarks.spatial_lstm --median run1.json run2.json run3.json

Likelihood: zoo_configs/dead_leaves/{spatial_lstm,mcgsm}.yaml (grey 32x32
dead leaves) and zoo_configs/natural_patches/{spatial_lstm,mcgsm}.yaml (grey
8x8 patches of the bundled photographs, each patch's mean removed: the
BSDS300 protocol), and RNADE on the same images flattened (`RNADE_MODEL`;
63 values of a mean-removed patch), each trained for the same budget
(`training.max_seconds`) one after the other, nothing else running, then
scored on the held-out images beside Gaussians fitted on the training split:
the dequantization bound in bits/dim (`arzoo.events.real_image`) on dead
leaves; on the mean-removed patches nats per patch of the 63 free values
(the protocol's figure; papers give its negative, the log-likelihood) and
the density's bits per free value.

Sampling: images per second of the dead-leaves config's network (untrained
weights: the speed does not depend on them) at 32x32 and 64x64 (the same
weights, `resized`), batch 4, cached (XLA-compiled, as `sample` runs)
against naive (the whole network over the canvas at every step, as a graph).
One warm-up call each, then the median of five calls (cached) or one call
(naive).
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

import arzoo  # noqa: E402
from arzoo.evaluation.run import evaluate  # noqa: E402
from arzoo.runs import Run  # noqa: E402
from arzoo.training import train  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = {"dead_leaves": 32 * 32, "natural_patches": 8 * 8}
FAMILIES = ("spatial_lstm", "mcgsm", "rnade")
# RNADE over the flattened images: the paper's UCI-sized hidden layer is
# too small for D = 1024; 10 components as RNADE's image experiments.
RNADE_MODEL = {"family": "rnade", "num_hidden": 100, "num_components": 10}
SAMPLING_SIZES = (32, 64)
SAMPLING_BATCH = 4
CACHED_CALLS = 5


def config_path(dataset, family):
    return os.path.join(REPO, "zoo_configs", dataset, f"{family}.yaml")


def config_for(dataset, family, minutes):
    """The config of `family` on `dataset` with the budget set."""
    budget = [f"training.max_seconds={max(minutes * 60.0, 1.0)}", "training.steps=10000000",
              "training.checkpoint_every=10000000", "training.log_every=20"]
    if family != "rnade":
        return arzoo.load_config(config_path(dataset, family), budget)
    config = arzoo.load_config(config_path(dataset, "mcgsm"), budget)
    # A mean-removed image's last pixel is minus the sum of the others: RNADE reads the rest.
    config["model"] = dict(RNADE_MODEL, num_dims=DATASETS[dataset] - int(config["data"].remove_mean))
    return config


def train_and_score(dataset, family, minutes, work):
    config = config_for(dataset, family, minutes)
    folder = os.path.join(work, f"{dataset}_{family}")
    result = train(config, folder, progress=False)
    report = evaluate(Run(result.model, config, folder))
    nats = report["nats_per_example" if family == "rnade" else "nats_per_image"]
    row = {"dataset": dataset, "model": family, "parameters": int(result.model.count_params()),
           "steps": int(result.step), "bits_per_dim": report["bits_per_dim"], "nats": nats,
           "mean_removed": bool(config["data"].remove_mean)}
    if family != "rnade":
        row["baselines"] = {name: b["bits_per_dim"] for name, b in report["baselines"].items()}
        row["baseline_nats"] = {name: b["nats_per_image"] for name, b in report["baselines"].items()}
    return row


def sampling_rates():
    """{"<method>_<size>": images per second} at batch SAMPLING_BATCH."""
    model = arzoo.build_model(arzoo.load_config(config_path("dead_leaves", "spatial_lstm"))["model"])
    rates = {}
    for size in SAMPLING_SIZES:
        sized = model.resized([size, size, 1])
        for method in ("cached", "naive"):
            sized.sample(SAMPLING_BATCH, seed=0, method=method)
            seconds = []
            for seed in range(1, 1 + (CACHED_CALLS if method == "cached" else 1)):
                start = time.perf_counter()
                np.asarray(sized.sample(SAMPLING_BATCH, seed=seed, method=method))
                seconds.append(time.perf_counter() - start)
            rates[f"{method}_{size}"] = SAMPLING_BATCH / statistics.median(seconds)
            print(f"{method} {size}x{size}: {rates[f'{method}_{size}']:.4f} images/s", file=sys.stderr, flush=True)
    return rates


def report_lines(rows, rates, minutes):
    lines = []
    if rows:
        head = f"{'dataset':20} {'model':13} {'params':>9} {'steps':>7} {'bits/dim':>9} {'nats':>9}"
        lines += [f"{minutes:g} minutes of training each; test bits/dim (the dequantization bound; for mean-removed "
                  "patches (*) the density's bits per free value, no bound) and nats per image (NLL)",
                  head, "-" * len(head)]
        for r in rows:
            name = r["dataset"] + (" (*)" if r.get("mean_removed") else "")
            lines.append(f"{name:20} {r['model']:13} {r['parameters']:>9,} {r['steps']:>7} "
                         f"{r['bits_per_dim']:>9.4f} {r['nats']:>9.2f}")
        for dataset in DATASETS:
            row = next((r for r in rows if r["dataset"] == dataset and "baselines" in r), None)
            if row:
                lines.append(f"{dataset} baselines: " + ", ".join(
                    f"{k} {v:.4f} bits/dim, {row['baseline_nats'][k]:.2f} nats" for k, v in sorted(row["baselines"].items())))
    if rates:
        lines.append(f"sampling, images/s (batch {SAMPLING_BATCH}):")
        for size in SAMPLING_SIZES:
            cached, naive = rates[f"cached_{size}"], rates[f"naive_{size}"]
            lines.append(f"  {size}x{size}: cached {cached:.4f}, naive {naive:.5f}, cached / naive {cached / naive:.1f}x")
    return lines


def median_of(paths):
    runs = [json.load(open(p)) for p in paths]
    rows = []
    for i, row in enumerate(runs[0]["rows"]):
        merged = dict(row)
        for key in ("bits_per_dim", "nats", "steps"):
            merged[key] = statistics.median(run["rows"][i][key] for run in runs)
        rows.append(merged)
    timed = [run["rates"] for run in runs if run["rates"]]  # runs with --no-sampling timed none
    rates = {key: statistics.median(rates[key] for rates in timed) for key in (timed[0] if timed else {})}
    return rows, rates, runs[0]["minutes"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per model")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--sampling-only", action="store_true", help="time sampling, train nothing")
    parser.add_argument("--no-sampling", action="store_true", help="train and score, time no sampling")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--keep", help="keep the trained runs in this folder (default: a temporary one)")
    parser.add_argument("--median", nargs="+", metavar="JSON", help="print the medians of earlier runs' --json files")
    args = parser.parse_args(argv)
    if args.median:
        print("\n".join(report_lines(*median_of(args.median))))
        return
    rows = []
    if not args.sampling_only:
        with tempfile.TemporaryDirectory() as scratch:
            for dataset in args.datasets:
                for family in args.models:
                    rows.append(train_and_score(dataset, family, args.minutes, args.keep or scratch))
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    rates = {} if args.no_sampling else sampling_rates()
    print("\n".join(report_lines(rows, rates, args.minutes)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "rates": rates, "minutes": args.minutes}, f, indent=2)


if __name__ == "__main__":
    main()

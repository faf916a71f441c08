"""The Video Pixel Network against its two baselines at one wall-clock
budget, and its cached sampler against the naive one, side by side in one run.

    python -m benchmarks.video_pixel_network                   # 10 minutes each
    python -m benchmarks.video_pixel_network --minutes 3
    python -m benchmarks.video_pixel_network --sampling-only --json run1.json
    python -m benchmarks.video_pixel_network --median run1.json run2.json run3.json

Likelihood: zoo_configs/moving_fashion_mnist/video_pixel_network.yaml (binary
moving Fashion-MNIST, 10 frames of 32x32), its `_no_intra_frame` twin (the
paper's baseline without dependencies inside a frame) and its `_per_frame`
twin (frames independent: a Gated PixelCNN per frame), each trained for the
same budget (`training.max_seconds`) one after the other, nothing else
running, then scored on the first 200 held-out sequences in nats per frame
(the paper's unit; its Table 1 on Moving MNIST, at convergence: the VPN 87.6,
without intra-frame dependencies 110.1, lower bound 86.3, Kalchbrenner et
al. 2017, arXiv:1610.00527), beside the independent-sub-pixel baseline.

Sampling: frames per second of the CPU config's network (untrained weights:
the speed does not depend on them) at batch 1 and 4, cached (the row
protocol, XLA-compiled, as `sample` runs) against naive (the whole network
over the canvas at every step, as a graph), on videos of 2 frames (the
network's weights do not depend on the length; naive sampling of 10 frames
takes minutes a call). One warm-up call each, then the median of fifteen
calls (cached: a call is 50 to 85 ms, so one slow call moved a median of
three by a third) or one call (naive, about a minute each); BENCHMARKS.md
takes the median over three runs of the script.
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
CONFIGS = {
    "vpn": "video_pixel_network.yaml",
    "no_intra_frame": "video_pixel_network_no_intra_frame.yaml",
    "per_frame": "video_pixel_network_per_frame.yaml",
}
PAPER_NATS_PER_FRAME = {"vpn": 87.6, "no_intra_frame": 110.1}
TEST_VIDEOS = 200
SAMPLING_FRAMES = 2
SAMPLING_BATCHES = (1, 4)
CACHED_CALLS = 15


def config_path(name):
    return os.path.join(REPO, "zoo_configs", "moving_fashion_mnist", CONFIGS[name])


def train_and_score(name, minutes, work):
    """Train `name`'s config for `minutes`, score it; the run stays in `work/name`."""
    config = arzoo.load_config(config_path(name), [
        f"training.max_seconds={max(minutes * 60.0, 1.0)}", "training.steps=10000000",
        "training.checkpoint_every=10000000", "training.log_every=10",
        f"data.max_test_examples={TEST_VIDEOS}",
    ])
    result = train(config, os.path.join(work, name), progress=False)
    report = evaluate(Run(result.model, config, os.path.join(work, name)))
    return {
        "model": name,
        "parameters": int(result.model.count_params()),
        "steps": int(result.step),
        "nats_per_frame": report["nats_per_frame"],
        "bits_per_dim": report["bits_per_dim"],
        "independent_subpixels_nats_per_frame": report["baselines"]["independent_subpixels"]["nats_per_frame"],
        "paper_nats_per_frame": PAPER_NATS_PER_FRAME.get(name),
    }


def sampling_rates():
    """{(method, batch): frames per second}: the median of CACHED_CALLS timed
    calls (cached) or one call (naive) after one warm-up."""
    section = dict(arzoo.load_config(config_path("vpn"))["model"], num_frames=SAMPLING_FRAMES)
    model = arzoo.build_model(section)
    rates = {}
    for batch in SAMPLING_BATCHES:
        for method in ("cached", "naive"):
            model.sample(batch, seed=0, method=method)
            seconds = []
            for seed in range(1, 1 + (CACHED_CALLS if method == "cached" else 1)):
                start = time.perf_counter()
                np.asarray(model.sample(batch, seed=seed, method=method))
                seconds.append(time.perf_counter() - start)
            rates[f"{method}_batch{batch}"] = batch * SAMPLING_FRAMES / statistics.median(seconds)
            print(f"{method} batch {batch}: {rates[f'{method}_batch{batch}']:.3f} frames/s", file=sys.stderr)
    return rates


def report_lines(rows, rates, minutes):
    lines = []
    if rows:
        head = f"{'model':16} {'params':>9} {'steps':>7} {'nats/frame':>11} {'bits/dim':>9} {'paper':>7}"
        lines += [f"{minutes:g} minutes of training each, zoo_configs/moving_fashion_mnist/; nats per frame on "
                  f"the first {TEST_VIDEOS} test sequences (independent sub-pixels: "
                  f"{rows[0]['independent_subpixels_nats_per_frame']:.2f})", head, "-" * len(head)]
        for r in rows:
            paper = "-" if r["paper_nats_per_frame"] is None else f"{r['paper_nats_per_frame']:.1f}"
            lines.append(f"{r['model']:16} {r['parameters']:>9,} {r['steps']:>7} {r['nats_per_frame']:>11.2f} "
                         f"{r['bits_per_dim']:>9.4f} {paper:>7}")
        by_name = {r["model"]: r for r in rows}
        for other in ("no_intra_frame", "per_frame"):
            if "vpn" in by_name and other in by_name:
                lines.append(f"VPN / {other}: {by_name['vpn']['nats_per_frame'] / by_name[other]['nats_per_frame']:.3f}")
    if rates:
        lines.append(f"sampling, frames/s (32x32 frames, videos of {SAMPLING_FRAMES}):")
        for batch in SAMPLING_BATCHES:
            cached, naive = rates[f"cached_batch{batch}"], rates[f"naive_batch{batch}"]
            lines.append(f"  batch {batch}: cached {cached:.3f}, naive {naive:.3f}, cached / naive {cached / naive:.1f}x")
    return lines


def median_of(paths):
    """The rows and rates of several runs' JSON files, each figure the median."""
    runs = [json.load(open(p)) for p in paths]
    rows = []
    for i, row in enumerate(runs[0]["rows"]):
        merged = dict(row)
        for key in ("nats_per_frame", "bits_per_dim", "steps", "independent_subpixels_nats_per_frame"):
            merged[key] = statistics.median(run["rows"][i][key] for run in runs)
        rows.append(merged)
    rates = {key: statistics.median(run["rates"][key] for run in runs) for key in runs[0]["rates"]}
    return rows, rates, runs[0]["minutes"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per model")
    parser.add_argument("--models", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--sampling-only", action="store_true", help="time sampling, train nothing")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--keep", help="keep the trained runs in this folder (default: a temporary one)")
    parser.add_argument("--median", nargs="+", metavar="JSON", help="print the medians of earlier runs' --json files")
    args = parser.parse_args(argv)
    if args.median:
        rows, rates, minutes = median_of(args.median)
        print("\n".join(report_lines(rows, rates, minutes)))
        return
    rows = []
    if not args.sampling_only:
        with tempfile.TemporaryDirectory() as scratch:
            work = args.keep or scratch
            for name in args.models:
                rows.append(train_and_score(name, args.minutes, work))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    rates = sampling_rates()
    print("\n".join(report_lines(rows, rates, args.minutes)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "rates": rates, "minutes": args.minutes}, f, indent=2)


if __name__ == "__main__":
    main()

"""Multiscale parallel PixelCNN against the raster samplers, side by side in one run.

    python -m benchmarks.multiscale_sampling                       # the full table (about 15 minutes)
    python -m benchmarks.multiscale_sampling --shapes 32x32x1 64x64x1 --repeats 3
    python -m benchmarks.multiscale_sampling --batches 1                # latency, one image per call

For each image shape and model, untrained weights (the same for every run):
seconds for one `sample` call of each of `--batches` images (the median of
`--repeats` calls after a warm-up call that traces and XLA-compiles, whose
time is reported apart), network evaluations per image (sampling steps),
and the multiscale model's speedup over each raster sampler. Then the
growth factor per doubling of the side (seconds at 2s / seconds at s).

The models: the multiscale PixelCNN of zoo_configs/fashion_mnist/
multiscale_pixelcnn.yaml, the cached Gated PixelCNN of the `make run` demo
(zoo_configs/fashion_mnist/gated_pixelcnn_demo.yaml; on colour images with
36 filters, as its channel groups need a multiple of 3) and the cached
PixelCNN++ of zoo_configs/fashion_mnist/pixelcnn_pp.yaml, each with only its
image_shape changed.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import arzoo  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(REPO, "zoo_configs", "fashion_mnist")

MODELS = {
    "multiscale_pixelcnn": ("multiscale_pixelcnn.yaml", {}),
    "gated_pixelcnn (demo)": ("gated_pixelcnn_demo.yaml", {"colour": {"num_filters": 36, "num_output_filters": 72}}),
    "pixelcnn_pp (fashion)": ("pixelcnn_pp.yaml", {}),
}
MULTISCALE = "multiscale_pixelcnn"
DEFAULT_SHAPES = ("32x32x1", "64x64x1", "128x128x1", "64x64x3")


def parse_shape(text):
    return [int(v) for v in text.split("x")]


def build(name, shape):
    path, extra = MODELS[name]
    section = dict(arzoo.load_config(os.path.join(CONFIGS, path))["model"])
    section["image_shape"] = shape
    if shape[-1] == 3:
        section.update(extra.get("colour", {}))
    keras.utils.set_random_seed(0)
    return arzoo.build_model(section)


def measure(model, batch, repeats):
    start = time.perf_counter()
    np.asarray(model.sample(batch, seed=0))
    first = time.perf_counter() - start
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        np.asarray(model.sample(batch, seed=i + 1))
        times.append(time.perf_counter() - start)
    return first, times


def run(shapes, models, batches, repeats, raster_max_pixels):
    rows = []
    for batch in batches:
        for shape_text in shapes:
            shape = parse_shape(shape_text)
            for name in models:
                if name != MULTISCALE and np.prod(shape[:2]) > raster_max_pixels:
                    continue
                model = build(name, shape)
                first, times = measure(model, batch, repeats)
                row = {"model": name, "shape": shape_text, "batch": batch, "steps": model.num_steps,
                       "first_call_s": first, "seconds": times, "median_s": statistics.median(times)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def table(rows):
    by = {(r["model"], r["shape"], r["batch"]): r for r in rows}
    lines = [f"{'shape':10} {'batch':>5} {'model':24} {'steps':>7} {'runs (s)':>26} {'median s':>9} {'first s':>8} "
             f"{'multiscale x':>12}", "-" * 108]
    for r in rows:
        multiscale = by.get((MULTISCALE, r["shape"], r["batch"]))
        speedup = "-" if multiscale is None or r["model"] == MULTISCALE else f"{r['median_s'] / multiscale['median_s']:.1f}x"
        runs = " / ".join(f"{t:.3f}" for t in r["seconds"])
        lines.append(f"{r['shape']:10} {r['batch']:>5} {r['model']:24} {r['steps']:>7} {runs:>26} {r['median_s']:>9.3f} "
                     f"{r['first_call_s']:>8.1f} {speedup:>12}")
    lines.append("")
    lines.append("growth per doubling of the side (median seconds at 2s / at s):")
    for name, batch in dict.fromkeys((r["model"], r["batch"]) for r in rows):
        grey = sorted((parse_shape(r["shape"])[0], r["median_s"]) for r in rows
                      if r["model"] == name and r["batch"] == batch and r["shape"].endswith("x1"))
        steps = [f"{a}->{b}: {tb / ta:.2f}x" for (a, ta), (b, tb) in zip(grey, grey[1:]) if b == 2 * a]
        if steps:
            lines.append(f"  {name:24} batch {batch:<3} " + ", ".join(steps))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", default=list(DEFAULT_SHAPES), help="HxWxC, e.g. 64x64x1")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batches", type=int, nargs="+", default=[16])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per row; the median is reported")
    parser.add_argument("--raster-max-pixels", type=int, default=128 * 128,
                        help="skip the raster samplers above this many pixels (their time grows with it)")
    args = parser.parse_args(argv)
    rows = run(args.shapes, args.models, args.batches, args.repeats, args.raster_max_pixels)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()

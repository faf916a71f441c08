"""Naive against cached sampling, side by side in one run.

    python -m benchmarks.sampling                     # the full sweep (minutes)
    python -m benchmarks.sampling --batches 1 16 --repeats 1
    python -m benchmarks.sampling --no-xla ...        # the cached loop without XLA

For each model and batch size: seconds for one `sample` call (compiled
functions warmed up first, so tracing and XLA compilation are excluded and
reported separately), the speedup cached / naive, images per second, the
cached time as a multiple of one teacher-forced pass over the same batch
("xforward": the work a cached sampler cannot avoid is about one such pass,
so this is the distance to the limit), and for
context the same-size `tfp.distributions.PixelCNN` (naive sampling, its own
architecture) at the smaller batches. Samples are also checked equal between
the two methods; where they differ, each differing row's first differing
draw is printed with its distance to a CDF boundary (a near-tie, or not).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import arzoo  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = {
    "gated_pixelcnn 28x28x1 (demo)": {
        "config": os.path.join(REPO, "zoo_configs", "fashion_mnist", "gated_pixelcnn_demo.yaml"),
        "overrides": {},
        "naive_max_batch": 64,
    },
    "pixelcnn_pp 28x28x1 (fashion config)": {
        "config": os.path.join(REPO, "zoo_configs", "fashion_mnist", "pixelcnn_pp.yaml"),
        "overrides": {},
        # 784 teacher-forced passes of a 3-resolution network per sample.
        "naive_max_batch": 16,
    },
    "pixelsnail 28x28x1 (fashion config)": {
        "config": os.path.join(REPO, "zoo_configs", "fashion_mnist", "pixelsnail.yaml"),
        "overrides": {},
        # 784 teacher-forced passes with attention over all 784 pixels per sample.
        "naive_max_batch": 16,
    },
    "row_lstm 28x28x1 (fashion config)": {
        "config": os.path.join(REPO, "zoo_configs", "fashion_mnist", "row_lstm.yaml"),
        "overrides": {},
        # 784 teacher-forced passes, each 28 sequential rows per layer.
        "naive_max_batch": 16,
    },
    "diagonal_bilstm 28x28x1 (fashion config)": {
        "config": os.path.join(REPO, "zoo_configs", "fashion_mnist", "diagonal_bilstm.yaml"),
        "overrides": {},
        # 784 teacher-forced passes, each 55 sequential diagonals per layer and direction.
        "naive_max_batch": 16,
    },
    "pixelcnn 32x32x3 (R->G->B masks)": {
        "config": os.path.join(REPO, "zoo_configs", "tiny", "pixelcnn.yaml"),
        "overrides": {
            "image_shape": [32, 32, 3], "num_levels": 256, "num_filters": 24,
            "num_residual_blocks": 4, "first_kernel_size": 7, "kernel_size": 3,
            "num_output_filters": 48,
        },
        # Naive sampling runs 3,072 full forward passes; beyond batch 4 it takes many minutes.
        "naive_max_batch": 4,
    },
}


def build(spec):
    """The model of `spec`, with the same (random) weights in every run."""
    section = dict(arzoo.load_config(spec["config"])["model"])
    section.update(spec["overrides"])
    keras.utils.set_random_seed(0)
    return arzoo.build_model(section)


def timed(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        np.asarray(result)
        best = min(best, time.perf_counter() - start)
    return best, np.asarray(result)


def forward_seconds(model, batch, repeats):
    """One teacher-forced pass over `batch` images (traced first): about the
    work a cached sampler cannot avoid, so cached / forward is the distance
    to that limit."""
    x = tf.zeros((batch,) + tuple(model.image_shape), tf.int32)
    condition = model.dummy_condition(batch)
    forward = tf.function(lambda x: model(x, condition))
    forward(x)
    return timed(lambda: forward(x), max(repeats, 3))[0]


def first_differences(model, naive, cached, seed):
    """For each row where naive and cached samples differ: (row, the first
    step where they differ, its margin), the margin being the distance of
    that step's uniform to the nearest CDF boundary under the teacher-forced
    parameters of the shared prefix (categorical heads; None otherwise). A
    margin within float rounding (~1e-6) is a near-tie: both paths computed
    the same distribution up to rounding and the draw fell on the boundary
    (DESIGN.md, the contract as built); a large margin is a bug."""
    from arzoo.likelihoods.categorical import Categorical
    from arzoo.sampling.driver import traced_step_uniforms

    naive_steps = model.to_steps(naive).numpy()
    cached_steps = model.to_steps(cached).numpy()
    rows = np.nonzero((naive_steps != cached_steps).any(axis=(1, 2)))[0]
    if not len(rows):
        return []
    seeds = arzoo.sampling.row_seeds(seed, len(naive))
    uniforms = traced_step_uniforms(seeds, tf.constant(model.num_steps), model.head.num_uniforms).numpy()
    params = model(tf.constant(cached), model.dummy_condition(len(cached)))
    found = []
    for row in rows:
        step = int(np.nonzero((naive_steps[row] != cached_steps[row]).any(axis=-1))[0][0])
        margin = None
        if isinstance(model.head, Categorical):
            logits = model.params_at(params[row:row + 1], tf.constant([step]))[0].numpy().astype(np.float64)
            cdf = np.cumsum(np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum())
            margin = float(np.abs(cdf - uniforms[row, step, 0]).min())
        found.append((int(row), step, margin))
    return found


def tfp_pixelcnn_seconds(image_shape, batch):
    import tensorflow_probability as tfp

    dist = tfp.distributions.PixelCNN(
        image_shape=image_shape, num_resnet=1, num_hierarchies=2, num_filters=32,
        num_logistic_mix=5, dropout_p=0.0,
    )
    dist.sample(1, seed=1)  # build
    start = time.perf_counter()
    np.asarray(dist.sample(batch, seed=2))
    return time.perf_counter() - start


def run(batches, repeats, naive_max_batch, tfp_max_batch, models, xla=True):
    rows = []
    for name in models:
        model = build(MODELS[name])
        model.jit_sampling = xla
        for batch in batches:
            row = {"model": name if xla else name + " no XLA",
                   "image": "x".join(map(str, model.image_shape)), "batch": batch,
                   "steps": model.num_steps}
            start = time.perf_counter()
            model.sample(batch, seed=0)
            row["cached_first_call_s"] = time.perf_counter() - start
            row["cached_s"], cached = timed(lambda: model.sample(batch, seed=1), repeats)
            row["images_per_s"] = batch / row["cached_s"]
            row["forward_s"] = forward_seconds(model, batch, repeats)
            row["cached_over_forward"] = row["cached_s"] / row["forward_s"]
            if batch <= min(naive_max_batch, MODELS[name]["naive_max_batch"]):
                model.sample(1, seed=0, method="naive")
                row["naive_s"], naive = timed(lambda: model.sample(batch, seed=1, method="naive"), 1)
                row["speedup"] = row["naive_s"] / row["cached_s"]
                row["equal_samples"] = bool(np.array_equal(naive, cached))
                if not row["equal_samples"]:
                    row["first_differences"] = first_differences(model, naive, cached, seed=1)
            if batch <= tfp_max_batch:
                row["tfp_pixelcnn_s"] = tfp_pixelcnn_seconds(model.image_shape, batch)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def table(rows):
    head = (f"{'model':41} {'image':9} {'batch':>5} {'naive s':>9} {'cached s':>9} {'speedup':>8} "
            f"{'img/s':>8} {'xforward':>8} {'tfp s':>8} {'equal':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        fmt = lambda key, spec: format(r[key], spec) if key in r else "-"  # noqa: E731
        lines.append(
            f"{r['model']:41} {r['image']:9} {r['batch']:>5} {fmt('naive_s', '9.2f'):>9} "
            f"{r['cached_s']:>9.3f} {fmt('speedup', '7.1f') + 'x' if 'speedup' in r else '-':>8} "
            f"{r['images_per_s']:>8.1f} {r['cached_over_forward']:>8.1f} {fmt('tfp_pixelcnn_s', '8.2f'):>8} "
            f"{str(r.get('equal_samples', '-')):>6}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--repeats", type=int, default=2, help="best of N cached runs")
    parser.add_argument("--naive-max-batch", type=int, default=64)
    parser.add_argument("--tfp-max-batch", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--no-xla", action="store_true", help="cached loop without XLA")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs", flush=True)
    rows = run(args.batches, args.repeats, args.naive_max_batch, args.tfp_max_batch, args.models,
               xla=not args.no_xla)
    print(table(rows))
    for r in rows:
        for row, step, margin in r.get("first_differences", []):
            where = "-" if margin is None else f"{margin:.1e} from a CDF boundary"
            print(f"{r['model']} batch {r['batch']}: row {row} first differs at step {step} ({where})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()

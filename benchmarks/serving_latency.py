"""Latency of one gRPC `sample` request against `arzoo serve`, side by side
with the same sampling in-process.

    python -m benchmarks.serving_latency [--batch 16] [--repeats 5]

Exports the demo-size Gated PixelCNN (28x28x1, 256 levels; weights as
initialised: latency does not depend on their values), serves it with the
embedded gRPC server on 127.0.0.1, and prints the median of `--repeats`
requests after one warm-up request, next to in-process `model.sample`
(XLA-compiled) and the SavedModel signature called directly.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import arzoo  # noqa: E402
from arzoo.serving import Client, Server, export_model  # noqa: E402
from arzoo.serving.client import row_seeds  # noqa: E402
from arzoo.serving.server import entries_from_flags  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "zoo_configs", "fashion_mnist", "gated_pixelcnn_demo.yaml")


def median_seconds(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    model = arzoo.build_model(arzoo.load_config(CONFIG))
    seeds = row_seeds(0, args.batch)
    with tempfile.TemporaryDirectory() as base:
        path = export_model(model, base, "demo")
        loaded = tf.saved_model.load(path)
        direct = lambda: loaded.signatures["sample"](  # noqa: E731
            seed=tf.constant(seeds), temperature=tf.ones([args.batch]))["samples"].numpy()
        in_process = lambda: model.sample(seeds=seeds).numpy()  # noqa: E731
        server = Server(entries_from_flags(model_name="demo", model_base_path=os.path.join(base, "demo")))
        server.start()
        try:
            with Client(f"127.0.0.1:{server.port}", "demo") as client:
                served = lambda: client.sample(seeds)  # noqa: E731
                rows = [
                    ("in-process model.sample (XLA)", median_seconds(in_process, args.repeats)),
                    ("SavedModel 'sample' signature", median_seconds(direct, args.repeats)),
                    ("gRPC Predict 'sample' (arzoo serve)", median_seconds(served, args.repeats)),
                ]
                same = np.array_equal(client.sample(seeds), model.sample(seeds=seeds).numpy())
        finally:
            server.stop()
    print(f"Gated PixelCNN 28x28x1, 256 levels, batch {args.batch}, median of {args.repeats}:")
    for name, seconds in rows:
        print(f"  {name:38} {seconds * 1000:8.0f} ms   {rows[2][1] / seconds:5.2f}x the gRPC time")
    print(f"  served samples equal in-process samples: {same}")


if __name__ == "__main__":
    main()

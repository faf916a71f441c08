"""Load on `arzoo serve`: N client threads for a bounded time, with and
without server-side batching, over gRPC and REST.

    python -m benchmarks.serving_load [--threads 8] [--seconds 15] [--rows 1]

Exports the demo-size Gated PixelCNN (28x28x1, 256 levels, weights as
initialised), starts `arzoo serve` in a subprocess on 127.0.0.1 twice (plain,
then with --batching_parameters_file: max_batch_size = threads x rows,
batch_timeout_micros 10000), and for each server and protocol runs
`--threads` clients that send `sample` requests of `--rows` rows back to
back for `--seconds`. Printed per mode: requests/s, images/s, p50 / p99
latency, errors (must be 0), answers that differ from a single-request
answer for the same seeds (must be 0), and the server's resident memory
before and after the load. Ratios are against the plain gRPC row.
"""

import argparse
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import arzoo  # noqa: E402
from arzoo.serving import Client, export_model  # noqa: E402
from arzoo.serving.client import row_seeds  # noqa: E402
from arzoo.serving.config_files import write_batching_config  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "zoo_configs", "fashion_mnist", "gated_pixelcnn_demo.yaml")
POOL = 32  # distinct requests; request k sends pool entry k % POOL
_LISTENING = re.compile(r"listening on (\S+:\d+) \(gRPC, REST on (http://\S+:\d+)")


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class ServeProcess:
    """`arzoo serve` in a subprocess; its gRPC and REST addresses."""

    def __init__(self, model_dir, batching_file=None):
        command = [sys.executable, "-m", "arzoo.cli", "serve", "--model_name", "demo",
                   "--model_base_path", model_dir, "--port", "0", "--rest_api_port", "0"]
        if batching_file:
            command += ["--batching_parameters_file", batching_file]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                match = _LISTENING.search(lines.get(timeout=1.0))
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if match:
                self.grpc, self.rest = match.groups()
                return
        self.stop()
        raise RuntimeError("arzoo serve did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def load(target, requests, expected, threads, seconds):
    """Clients sending requests back to back for `seconds`: stats and checks."""
    latencies, errors, wrong = [], [], [0]
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop_at = time.monotonic() + seconds

    def client_loop():
        with Client(target, "demo", timeout=300) as client:
            while time.monotonic() < stop_at:
                with lock:
                    k = next(counter) % POOL
                start = time.perf_counter()
                try:
                    got = client.sample(requests[k])
                except Exception as err:  # counted: the load must see none
                    with lock:
                        errors.append(repr(err))
                    continue
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    wrong[0] += int(not np.array_equal(got, expected[k]))

    start = time.perf_counter()
    workers = [threading.Thread(target=client_loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start
    return {
        "requests": len(latencies), "wall": wall, "errors": len(errors), "wrong": wrong[0],
        "p50": float(np.percentile(latencies, 50)) if latencies else float("nan"),
        "p99": float(np.percentile(latencies, 99)) if latencies else float("nan"),
        "first_error": errors[0] if errors else "",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rows", type=int, default=1, help="rows (images) per request")
    args = parser.parse_args(argv)
    model = arzoo.build_model(arzoo.load_config(CONFIG))
    requests = [np.asarray(row_seeds(1000 + k, args.rows)) for k in range(POOL)]
    results = []
    with tempfile.TemporaryDirectory() as base:
        export_model(model, base, "demo", max_batch_size=max(64, args.threads * args.rows))
        model_dir = os.path.join(base, "demo")
        # The single-request answers every loaded answer is checked against.
        signature = tf.saved_model.load(os.path.join(model_dir, "1")).signatures["sample"]
        expected = [signature(seed=tf.constant(s), temperature=tf.ones([args.rows]))["samples"].numpy()
                    for s in requests]
        batching_file = os.path.join(base, "batching.config")
        write_batching_config(batching_file, max_batch_size=args.threads * args.rows, batch_timeout_micros=10000,
                              num_batch_threads=2)
        for batched in (False, True):
            server = ServeProcess(model_dir, batching_file if batched else None)
            try:
                for protocol, target in (("gRPC", server.grpc), ("REST", server.rest)):
                    with Client(target, "demo") as warm:
                        warm.sample(requests[0])
                    before = resident_mib(server.process.pid)
                    stats = load(target, requests, expected, args.threads, args.seconds)
                    stats.update(mode=f"{protocol}{' + batching' if batched else ''}", before=before,
                                 after=resident_mib(server.process.pid))
                    results.append(stats)
            finally:
                server.stop()
    base_rate = results[0]["requests"] / results[0]["wall"]
    print(f"Gated PixelCNN 28x28x1 sample requests of {args.rows} row(s), {args.threads} client threads, "
          f"{args.seconds:.0f} s per mode, arzoo serve on 127.0.0.1 (its own process):")
    print(f"  {'mode':18} {'req/s':>7} {'img/s':>7} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
          f"{'wrong':>5} {'RSS MiB before -> after':>24}")
    for r in results:
        rate = r["requests"] / r["wall"]
        print(f"  {r['mode']:18} {rate:7.2f} {rate * args.rows:7.2f} {rate / base_rate:5.2f}x "
              f"{r['p50'] * 1e3:8.0f} {r['p99'] * 1e3:8.0f} {r['errors']:6d} {r['wrong']:5d} "
              f"{r['before']:11.0f} -> {r['after']:6.0f}")
        if r["first_error"]:
            print(f"    first error: {r['first_error'][:300]}")


if __name__ == "__main__":
    main()

"""Every image family on one wall-clock budget, side by side in one run.

    python -m benchmarks.image_budget                  # 10 minutes of training each
    python -m benchmarks.image_budget --minutes 3      # a shorter budget
    python -m benchmarks.image_budget --families pixelcnn_pp pixelsnail
    python -m benchmarks.image_budget --configs photos --families multiscale_pixelcnn gated_pixelcnn

Each family trains at its zoo_configs/<configs>/<family>.yaml (default
fashion_mnist: offline Fashion-MNIST, 8-bit 28x28; photos: 64x64 colour
photographs, offline) through `arzoo.training.train` for the same
budget (`training.max_seconds`), one after the other, nothing else running.
The table: parameters, steps reached, training images/s (between the first
and the last logging point, every 10 steps, so tracing and compilation are
left out), test
bits/dim on the first 2,000 test images (all of them where there are fewer), and cached sampling images/s at
batch 16 (one warm-up call, then the median of three).

For reading the ranking: the papers' CIFAR-10 figures are PixelSNAIL 2.85
(Chen et al. 2018, arXiv:1712.09763), PixelCNN++ 2.92 (Salimans et al. 2017,
arXiv:1701.05517), Gated PixelCNN 3.03 (van den Oord et al. 2016,
arXiv:1606.05328), PixelCNN 3.14 (van den Oord et al. 2016,
arXiv:1601.06759; its Row LSTM 3.07 and Diagonal BiLSTM 3.00), each after
days on GPUs; a CPU budget of minutes ranks
what a model learns per second, which favours small, fast models.
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
from arzoo.evaluation import evaluate_log_likelihood  # noqa: E402
from arzoo.events.image import load_image_split  # noqa: E402
from arzoo.training import train  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ("pixelcnn", "gated_pixelcnn", "pixelcnn_pp", "pixelsnail", "row_lstm", "diagonal_bilstm",
            "multiscale_pixelcnn")
PAPERS_CIFAR10 = {
    "pixelcnn": 3.14, "gated_pixelcnn": 3.03, "pixelcnn_pp": 2.92, "pixelsnail": 2.85,
    "row_lstm": 3.07, "diagonal_bilstm": 3.00,
}
TEST_IMAGES = 2000
SAMPLE_BATCH = 16


def budgeted_config(family, minutes, configs="fashion_mnist"):
    path = os.path.join(REPO, "zoo_configs", configs, f"{family}.yaml")
    return arzoo.load_config(path, [
        f"training.max_seconds={max(minutes * 60.0, 1.0)}",
        "training.steps=10000000",
        "training.eval_every=0",
        "training.checkpoint_every=10000000",
        "training.log_every=10",
    ])


def run_family(family, minutes, work, configs="fashion_mnist"):
    config = budgeted_config(family, minutes, configs)
    marks = []

    def mark(step, logs):
        marks.append((step, time.perf_counter()))

    result = train(config, os.path.join(work, family), progress=False, callbacks=[mark])
    model = result.model
    batch = config["data"].batch_size
    first, last = marks[0], marks[-1]
    if last[0] > first[0]:
        images_per_s = (last[0] - first[0]) * batch / (last[1] - first[1])
    else:  # one logging point: the whole call, tracing included
        images_per_s = result.step * batch / result.wall_time
    test = load_image_split(config["data"], "test", model.num_levels)
    report = evaluate_log_likelihood(model, test, max_examples=TEST_IMAGES)
    model.sample(SAMPLE_BATCH, seed=0)  # trace and compile
    seconds = []
    for seed in (1, 2, 3):
        start = time.perf_counter()
        np.asarray(model.sample(SAMPLE_BATCH, seed=seed))
        seconds.append(time.perf_counter() - start)
    return {
        "family": family,
        "parameters": int(model.count_params()),
        "steps": int(result.step),
        "batch": batch,
        "train_images_per_s": images_per_s,
        "test_bits_per_dim": report.bits_per_dim,
        "test_images": report.num_examples,
        "sample_images_per_s": SAMPLE_BATCH / statistics.median(seconds),
        "papers_cifar10": PAPERS_CIFAR10.get(family),
    }


def table(rows, minutes, configs="fashion_mnist"):
    head = (f"{'family':20} {'params':>9} {'steps':>7} {'train img/s':>11} {'test bits/dim':>13} "
            f"{'sample img/s':>12} {'paper (CIFAR-10)':>16}")
    lines = [f"{minutes:g} minutes of training each, zoo_configs/{configs}/; "
             f"test bits/dim on the first {TEST_IMAGES} test images; sampling at batch {SAMPLE_BATCH}",
             head, "-" * len(head)]
    for r in sorted(rows, key=lambda r: r["test_bits_per_dim"]):
        paper = "-" if r["papers_cifar10"] is None else f"{r['papers_cifar10']:.2f}"
        lines.append(
            f"{r['family']:20} {r['parameters']:>9,} {r['steps']:>7} {r['train_images_per_s']:>11.1f} "
            f"{r['test_bits_per_dim']:>13.3f} {r['sample_images_per_s']:>12.2f} {paper:>16}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per family")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--configs", default="fashion_mnist",
                        help="the folder under zoo_configs/ of the families' configs (fashion_mnist, photos)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for family in args.families:
            rows.append(run_family(family, args.minutes, work, args.configs))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(table(rows, args.minutes, args.configs))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()

"""Test NLL of the density estimators next to Gated PixelCNN, one CPU budget each.

    python -m benchmarks.density_estimators --seconds 300 --output runs/density

Trains FVSBN, NADE, MADE, orderless DeepNADE, Gated PixelCNN, the two
PixelRNNs (Row LSTM, Diagonal BiLSTM) and PixelVAE from
zoo_configs/fashion_mnist/*_binarized.yaml (Fashion-MNIST read offline from
Debian's dataset-fashion-mnist, binarized stochastically once with seed 0,
so train and test sets are fixed) for the same wall-clock budget each
(`training.max_seconds`; tracing and compilation count against it), one
after another in one process, then scores every model on the same first
`--test-examples` test images: the model's own density (NADE, FVSBN,
Gated PixelCNN and the PixelRNNs in raster order, MADE's mask 0, DeepNADE's raster ordering;
PixelVAE's importance-weighted bound with its config's k, a bound on the NLL
from above, which its row names) and, for MADE and DeepNADE, the ensemble (log-mean-exp of the masks' /
orderings' likelihoods; EoNADE). The independent-Bernoulli baseline (each
pixel's frequency in the training set, add-one smoothed) is printed beside
them, and each row's gain over it.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import arzoo  # noqa: E402
from arzoo.evaluation.likelihood import evaluate_log_likelihood, independent_pixel_baseline  # noqa: E402
from arzoo.training import train  # noqa: E402
from arzoo.events.image import load_image_split as load_split  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("fvsbn", "nade", "made", "deep_nade", "gated_pixelcnn", "row_lstm", "diagonal_bilstm", "pixel_vae")


def config_path(family):
    return os.path.join(REPO, "zoo_configs", "fashion_mnist", f"{family}_binarized.yaml")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training budget per model")
    parser.add_argument("--test-examples", type=int, default=2000)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--output", default=os.path.join("runs", "density_estimators"))
    args = parser.parse_args(argv)

    rows = []
    baseline = None
    for family in args.models:
        config = arzoo.load_config(config_path(family), [
            "training.steps=100000000", f"training.max_seconds={args.seconds}",
            "training.eval_every=0", "training.checkpoint_every=100000000",
        ])
        data = config["data"]
        if baseline is None:
            test = load_split(data, data.test_split, 2).take(args.test_examples)
            baseline = independent_pixel_baseline(
                load_split(data, data.train_split, 2), test, (28, 28, 1), 2
            ).nats_per_image
        result = train(config, os.path.join(args.output, family), progress=False)
        model = result.model
        test = load_split(data, data.test_split, 2)
        start = time.time()
        single = evaluate_log_likelihood(model, test, 250, args.test_examples).nats_per_image
        row = {
            "model": family if model.likelihood_is_exact else f"{family} (IW bound, k={model.iw_samples})",
            "steps": result.step,
            "train_s": round(result.wall_time, 1),
            "params": model.count_params(),
            "nats": single,
        }
        members = getattr(model, "ensemble_size", 1)
        if members > 1:
            row["ensemble_members"] = members
            row["ensemble_nats"] = evaluate_log_likelihood(
                model, test, 250, args.test_examples, num_members=members
            ).nats_per_image
        row["eval_s"] = round(time.time() - start, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)

    print(f"\nbinarized Fashion-MNIST, {args.seconds:.0f} s of training each, "
          f"test NLL over the first {args.test_examples} test images (nats, lower is better)")
    header = f"{'model':<30}{'params':>10}{'steps':>8}{'nats':>9}{'ensemble':>16}{'gain vs indep.':>16}"
    print(header + "\n" + "-" * len(header))
    print(f"{'independent':<30}{784:>10}{'-':>8}{baseline:>9.2f}{'-':>16}{0.0:>16.2f}")
    for row in rows:
        best = row.get("ensemble_nats", row["nats"])
        ensemble = f"{row['ensemble_nats']:.2f} (K={row['ensemble_members']})" if "ensemble_nats" in row else "-"
        print(f"{row['model']:<30}{row['params']:>10}{row['steps']:>8}{row['nats']:>9.2f}"
              f"{ensemble:>16}{baseline - best:>16.2f}")
    print(json.dumps({"baseline_nats": baseline, "rows": rows}))


if __name__ == "__main__":
    main()

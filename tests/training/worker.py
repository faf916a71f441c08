"""Runs `arzoo.training.train` in a fresh process, for the subprocess tests.

A fresh process is needed where TensorFlow must be configured before it
starts (logical CPU devices), for multi-worker clusters (one process per
worker, TF_CONFIG set by the caller) and to kill training mid-run.

    python tests/training/worker.py CONFIG_JSON OUTPUT_DIR [--logical-cpus N]
        [--steps N] [--synthetic N] [--kill-at-step N]

`--synthetic N` trains on N synthetic images (and evaluates on N // 2 others)
instead of reading `data.dataset`. `--kill-at-step N` sends the process
SIGKILL at the first logging point at or after step N (a crash at a chosen
step: no cleanup, no final checkpoint).

Prints JSON lines on stdout: {"event": "log", "step": ..., ...} at every
logging point and {"event": "done", ...TrainResult.summary()} at the end.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from arzoo.training.strategy import configure_logical_cpus  # noqa: E402


def synthetic_dataset(num_examples, image_shape, num_levels, num_classes=None, seed=0):
    """Unbatched `{"image", "label"}` of horizontal ramps plus noise."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    height, width, channels = image_shape
    ramp = np.linspace(0, num_levels - 1, width)[None, :, None]
    images = ramp + rng.normal(0, 0.5, (num_examples, height, width, channels))
    images = np.clip(np.round(images), 0, num_levels - 1).astype(np.int32)
    labels = rng.integers(0, num_classes or 1, num_examples).astype(np.int32)
    return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("config", help="the config as a JSON string")
    parser.add_argument("output_dir")
    parser.add_argument("--logical-cpus", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--synthetic", type=int, default=None,
                        help="use this many synthetic images instead of data.dataset")
    parser.add_argument("--kill-at-step", type=int, default=None, help="SIGKILL this process at this step")
    args = parser.parse_args(argv)
    if args.logical_cpus:
        configure_logical_cpus(args.logical_cpus)

    from arzoo.training import train

    config = json.loads(args.config)
    train_dataset = test_dataset = None
    if args.synthetic:
        model = config["model"]
        shape = (model["image_shape"], model["num_levels"], model.get("num_classes"))

        # Functions: under multi_worker no TF op may run before the strategy exists.
        def train_dataset():
            return synthetic_dataset(args.synthetic, *shape, seed=0)

        def test_dataset():
            return synthetic_dataset(args.synthetic // 2, *shape, seed=1)

    def log(step, logs):
        print(json.dumps({"event": "log", "step": step, **logs}), flush=True)
        if args.kill_at_step is not None and step >= args.kill_at_step:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)

    result = train(config, args.output_dir, steps=args.steps, progress=False,
                   callbacks=[log], train_dataset=train_dataset, test_dataset=test_dataset)
    print(json.dumps({"event": "done", **result.summary()}), flush=True)


if __name__ == "__main__":
    main()

"""arzoo's PixelCNN++ against tfp.distributions.PixelCNN, side by side in one run.

    python -m benchmarks.pixelcnn_pp_vs_tfp                 # 10 minutes of training each
    python -m benchmarks.pixelcnn_pp_vs_tfp --minutes 3     # a shorter budget
    python -m benchmarks.pixelcnn_pp_vs_tfp --minutes 0     # everything but the budgeted training

Both models get the same hyperparameters (zoo_configs/fashion_mnist/pixelcnn_pp.yaml:
num_resnet, num_hierarchies, num_filters, num_logistic_mix, dropout_p, image
shape; tfp without weight normalization, which arzoo does not offer) and the
same data (offline Fashion-MNIST, 8-bit 28x28), and are measured by the same
code: training images/s (one Adam step of one batch, a `tf.function`; with
--xla both XLA-compiled), log_prob images/s, sampling images/s at batch 1 and 16 (tfp's
`sample` inside a `tf.function`, as fast as it runs), test bits/dim on the
first 2,000 test images after the same wall-clock training budget, and the
two exactness checks at initialisation (gradient of pixel (3, 3)'s output
of an 8x8 image with respect to itself and later pixels; p(x) summed over
all sixteen 2x2 binary images). Timings are the median of --repeats runs.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

import arzoo  # noqa: E402
from arzoo.data.load import load_dataset  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "zoo_configs", "fashion_mnist", "pixelcnn_pp.yaml")
SHARED = ("num_resnet", "num_hierarchies", "num_filters", "dropout_p", "receptive_field_dims")

STRUCTURAL_DIFFERENCES = [
    "tfp masks 'same' convolutions (down stream 3x3 with 2 rows open, down-right 3x3 with 2x2 open, "
    "strided 4x4, transposed 2x4): its raw count holds the masked-out weights; arzoo pads and runs "
    "2x3 / 2x2 kernels (no masked weight); the effective count is tfp's open weights",
    "arzoo's network input has a channel of ones (openai/pixel-cnn), so the zero border differs from grey",
    "scales: tfp softplus(raw) + exp(-7); arzoo exp(max(raw, -7)) (openai/pixel-cnn)",
    "the down-right stream's first layer: arzoo's 'left' convolution has no bias (the 'above' one has it)",
]


def arzoo_model(section):
    keras.utils.set_random_seed(0)
    return arzoo.build_model(section)


def tfp_distribution(section, image_shape=None, high=None):
    tf.random.set_seed(0)
    return tfp.distributions.PixelCNN(
        image_shape=tuple(image_shape or section["image_shape"]),
        num_resnet=section["num_resnet"],
        num_hierarchies=section["num_hierarchies"],
        num_filters=section["num_filters"],
        num_logistic_mix=section["num_logistic_mix"],
        receptive_field_dims=tuple(section.get("receptive_field_dims", (3, 3))),
        dropout_p=section["dropout_p"],
        use_weight_norm=False,
        high=section["num_levels"] - 1 if high is None else high,
        low=0,
    )


def tfp_parameter_counts(dist):
    """(raw, effective): every weight, and those a kernel mask leaves open."""
    raw = effective = 0
    for layer in _tfp_layers(dist):
        for weight in layer.trainable_weights:
            raw += int(np.prod(weight.shape))
            constraint = getattr(layer, "kernel_constraint", None)
            if constraint is not None and weight is layer.kernel:
                effective += int(np.count_nonzero(constraint(tf.ones_like(weight)).numpy()))
            else:
                effective += int(np.prod(weight.shape))
    return raw, effective


def _tfp_layers(dist):
    return [layer for layer in dist.network._network.layers if layer.trainable_weights]


def fashion_images(split, count, seed=None):
    ds = load_dataset("fashion_mnist_local", split, 256)
    if seed is not None:
        ds = ds.shuffle(10000, seed=seed)
    images = np.stack([e["image"] for e in ds.take(count).as_numpy_iterator()])
    return images.astype(np.int32)


def median_seconds(fn, repeats):
    fn()  # warm up: tracing
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Trainee:
    """One model behind one interface: a train step, log_prob, sample."""

    def __init__(self, name, log_prob, variables, sample, jit_compile=False):
        self.name = name
        self.log_prob = log_prob  # int32 images -> nats [B]
        self.variables = variables
        self.sample = sample  # (batch, seed) -> images
        self.optimizer = keras.optimizers.Adam(1e-3)
        self.step = tf.function(self._step, jit_compile=jit_compile)

    def _step(self, x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(self.log_prob(x, training=True))
        grads = tape.gradient(loss, self.variables)
        self.optimizer.apply_gradients(zip(grads, self.variables))
        return loss


def trainees(section, jit_compile=False):
    model = arzoo_model(section)
    dist = tfp_distribution(section)
    dist.log_prob(tf.zeros([1] + list(section["image_shape"])))  # build
    arzoo_sampler = lambda batch, seed: model.sample(batch, seed=seed)  # noqa: E731
    tfp_samplers = {}

    def tfp_sample(batch, seed):
        # tfp's sampler takes a Python seed (tf.random.uniform inside): one graph per call shape.
        if (batch, seed) not in tfp_samplers:
            tfp_samplers[batch, seed] = tf.function(lambda: dist.sample(batch, seed=seed))
        return tfp_samplers[batch, seed]()
    return {
        "arzoo": Trainee(
            "arzoo", lambda x, training=False: model.log_prob(x) if not training else tf.reduce_sum(
                model.teacher_forced_log_probs(x, training=True), axis=[1, 2, 3]),
            model.trainable_variables, arzoo_sampler, jit_compile),
        "tfp": Trainee(
            "tfp", lambda x, training=False: dist.log_prob(tf.cast(x, tf.float32), training=training),
            dist.network.trainable_variables,
            tfp_sample, jit_compile),
    }, model, dist


def throughput(trainee, images, batch, repeats):
    x = tf.constant(images[:batch])
    train_s = median_seconds(lambda: trainee.step(x), repeats)
    log_prob = tf.function(lambda x: trainee.log_prob(x))
    log_prob_s = median_seconds(lambda: log_prob(x), repeats)
    return {"train_images_per_s": batch / train_s, "log_prob_images_per_s": batch / log_prob_s}


def sampling(trainee, batch, repeats):
    seconds = median_seconds(lambda: trainee.sample(batch, 1), repeats)
    return batch / seconds


def budgeted_bits_per_dim(trainee, train, test, batch, minutes, image_size):
    rng = np.random.default_rng(0)
    trainee.step(tf.constant(train[rng.integers(0, len(train), batch)]))  # traced before the clock starts
    steps, start = 1, time.perf_counter()
    while time.perf_counter() - start < 60.0 * minutes:
        trainee.step(tf.constant(train[rng.integers(0, len(train), batch)]))
        steps += 1
    log_prob = tf.function(lambda x: trainee.log_prob(x))
    nats = np.concatenate([log_prob(tf.constant(test[i : i + 200])).numpy() for i in range(0, len(test), 200)])
    return {"steps": steps, "test_bits_per_dim": float(-nats.mean() / (image_size * np.log(2.0)))}


def later_pixels_gradient(network_output, image_shape, row=3, col=3):
    """(non-zero gradient entries at pixels >= (row, col) in raster order, at earlier ones)."""
    x = tf.random.stateless_uniform([1] + list(image_shape), seed=[1, 2], minval=-1.0, maxval=1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = network_output(x)[:, row, col]
        scalar = tf.reduce_sum(out * tf.random.stateless_normal(out.shape, seed=[3, 4]))
    grad = np.abs(tape.gradient(scalar, x).numpy()[0]).max(axis=-1)
    order = np.arange(grad.size).reshape(grad.shape)
    later = order >= row * image_shape[1] + col
    return int(np.count_nonzero(grad[later])), int(np.count_nonzero(grad[~later]))


def exactness_at_initialisation(section):
    small = dict(section, image_shape=[8, 8, 1])
    model = arzoo_model(small)
    dist = tfp_distribution(small)
    dist.log_prob(tf.zeros([1, 8, 8, 1]))
    tfp_out = lambda x: tf.concat(  # noqa: E731
        [tf.reshape(t, tf.concat([tf.shape(t)[:3], [-1]], 0)) for t in dist.network(x)], axis=-1)
    arzoo_out = lambda x: model.network(x, None)  # noqa: E731
    binary = dict(section, image_shape=[2, 2, 1], num_levels=2)
    grid = np.array([[(v >> k) & 1 for k in range(4)] for v in range(16)], np.int32).reshape(16, 2, 2, 1)
    arzoo_binary = arzoo_model(binary)
    tfp_binary = tfp_distribution(binary, high=1)
    return {
        "arzoo": {
            "later_pixel_gradients": later_pixels_gradient(arzoo_out, [8, 8, 1])[0],
            "sum_p_2x2_binary": float(np.exp(arzoo_binary.log_prob(grid).numpy().astype(np.float64)).sum()),
        },
        "tfp": {
            "later_pixel_gradients": later_pixels_gradient(tfp_out, [8, 8, 1])[0],
            "sum_p_2x2_binary": float(np.exp(tfp_binary.log_prob(tf.cast(grid, tf.float32)).numpy().astype(np.float64)).sum()),
        },
    }


def run(args):
    section = dict(arzoo.load_config(CONFIG)["model"])
    for key in ("num_resnet", "num_hierarchies", "num_filters", "num_logistic_mix"):
        if getattr(args, key) is not None:
            section[key] = getattr(args, key)
    batch = args.batch_size
    print(f"TensorFlow {tf.__version__}, tfp {tfp.__version__}, {os.cpu_count()} CPUs, "
          f"XLA training steps: {args.xla}; "
          + ", ".join(f"{k}={section[k]}" for k in SHARED + ("num_logistic_mix",)), flush=True)
    pair, model, dist = trainees(section, args.xla)
    raw, effective = tfp_parameter_counts(dist)
    result = {"config": section, "batch_size": batch,
              "parameters": {"arzoo": model.count_params(), "tfp_raw": raw, "tfp_effective": effective},
              "structural_differences": STRUCTURAL_DIFFERENCES}
    train = fashion_images("train", args.train_examples, seed=0)
    test = fashion_images("test", 2000)
    for name, trainee in pair.items():
        row = throughput(trainee, train, batch, args.repeats)
        for sample_batch in args.sample_batches:
            repeats = args.repeats if name == "arzoo" else 1
            row[f"sample_images_per_s_b{sample_batch}"] = sampling(trainee, sample_batch, repeats)
        result[name] = row
        print(json.dumps({name: row}), file=sys.stderr, flush=True)
    if args.minutes > 0:
        fresh, _, _ = trainees(section, args.xla)  # fresh weights and optimizers for the budget
        for name, trainee in fresh.items():
            result[name].update(budgeted_bits_per_dim(trainee, train, test, batch, args.minutes,
                                                      int(np.prod(section["image_shape"]))))
            print(json.dumps({name: result[name]}), file=sys.stderr, flush=True)
    result["exactness"] = exactness_at_initialisation(section)
    return result


def table(result, minutes):
    a, t = result["arzoo"], result["tfp"]
    rows = [("parameters (tfp: effective / raw)", f"{result['parameters']['arzoo']:,}",
             f"{result['parameters']['tfp_effective']:,} / {result['parameters']['tfp_raw']:,}",
             result["parameters"]["arzoo"] / result["parameters"]["tfp_effective"])]
    for key, label in [("train_images_per_s", "training images/s"), ("log_prob_images_per_s", "log_prob images/s")]:
        rows.append((label, f"{a[key]:.1f}", f"{t[key]:.1f}", a[key] / t[key]))
    for key in sorted(k for k in a if k.startswith("sample_images_per_s")):
        rows.append((f"sampling images/s, batch {key.rsplit('b', 1)[1]}", f"{a[key]:.3f}", f"{t[key]:.4f}", a[key] / t[key]))
    if "test_bits_per_dim" in a:
        rows.append((f"training steps in {minutes:g} min", str(a["steps"]), str(t["steps"]), a["steps"] / t["steps"]))
        rows.append(("test bits/dim, first 2,000", f"{a['test_bits_per_dim']:.3f}", f"{t['test_bits_per_dim']:.3f}",
                     a["test_bits_per_dim"] / t["test_bits_per_dim"]))
    e = result["exactness"]
    rows.append(("init: later-pixel gradients at (3,3)", str(e["arzoo"]["later_pixel_gradients"]),
                 str(e["tfp"]["later_pixel_gradients"]), None))
    rows.append(("init: sum p(x), 16 2x2 binary images", f"{e['arzoo']['sum_p_2x2_binary']:.6f}",
                 f"{e['tfp']['sum_p_2x2_binary']:.6f}", None))
    head = f"{'':40} {'arzoo':>12} {'tfp':>20} {'arzoo/tfp':>10}"
    lines = [head, "-" * len(head)]
    for label, x, y, ratio in rows:
        lines.append(f"{label:40} {x:>12} {y:>20} {'' if ratio is None else f'{ratio:.2f}x':>10}")
    lines.append("structural differences: " + "; ".join(result["structural_differences"]))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per model (0: skip)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timings are the median of this many runs")
    parser.add_argument("--sample-batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--train-examples", type=int, default=60000)
    for key in ("num_resnet", "num_hierarchies", "num_filters", "num_logistic_mix"):
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=None, help="override the config")
    parser.add_argument("--xla", action="store_true", help="XLA-compile both training steps")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    result = run(args)
    print(table(result, args.minutes))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()

"""NADE's prefix activations: `tf.cumsum` against blockwise matrix products.

    python -m benchmarks.nade_prefix_sums

NADE's hidden pre-activations of all D conditionals are one exclusive
cumulative sum over the ordering of a `[B, D, H]` tensor. `NADEInput`
computes it as blockwise matrix products; this script times that against
`tf.cumsum` of the same contributions, for the forward pass and for a whole
training step (forward, backward, Adam), side by side in one process, and
checks that both give the same activations.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from arzoo.models import NADE  # noqa: E402


def cumsum_prefix_activations(layer, features, ordering):
    """The textbook version: contributions in the ordering, then tf.cumsum."""
    x = tf.gather(features, ordering, axis=1)
    kernel = tf.gather(layer.kernel, ordering)
    return tf.cumsum(tf.einsum("bdf,dfh->bdh", x, kernel), axis=1, exclusive=True) + layer.bias


def best_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    model = NADE(image_shape=(28, 28, 1), num_hidden=args.hidden, ordering="random")
    layer, ordering = model.hidden_input, model.ordering
    x = tf.constant(np.random.default_rng(0).integers(0, 2, (args.batch, 28, 28, 1)).astype(np.int32))
    features = model.input_features(x)

    blockwise = tf.function(lambda f: layer.prefix_activations(f, ordering))
    cumsum = tf.function(lambda f: cumsum_prefix_activations(layer, f, ordering))
    difference = float(tf.reduce_max(tf.abs(blockwise(features) - cumsum(features))))

    def train_step(prefix):
        optimizer = keras.optimizers.Adam(1e-3)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                activations = prefix(model.input_features(x))
                ordered = model.outputs.at(tf.sigmoid(activations), ordering)
                params = model.to_image_params(tf.gather(ordered, model.event_step_index.reshape(-1), axis=1))
                loss = -tf.reduce_mean(tf.reduce_sum(model.head.conditional_log_probs(params, x), [1, 2, 3]))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return step

    cumsum_step = train_step(lambda f: cumsum_prefix_activations(layer, f, ordering))
    blockwise_step = train_step(lambda f: layer.prefix_activations(f, ordering))
    rows = [
        ("forward prefix activations",
         best_time(lambda: cumsum(features).numpy(), args.repeats),
         best_time(lambda: blockwise(features).numpy(), args.repeats)),
        ("training step",
         best_time(lambda: cumsum_step().numpy(), args.repeats),
         best_time(lambda: blockwise_step().numpy(), args.repeats)),
    ]
    print(f"NADE, 28x28 binary, H={args.hidden}, batch {args.batch}; max |blockwise - cumsum| = {difference:.2e}")
    print(f"{'':<28}{'tf.cumsum s':>12}{'blockwise s':>13}{'speedup':>9}")
    for name, slow, fast in rows:
        print(f"{name:<28}{slow:>12.3f}{fast:>13.3f}{slow / fast:>8.1f}x")


if __name__ == "__main__":
    main()

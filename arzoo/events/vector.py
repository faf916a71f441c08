"""Real vectors: `[B, D]` float32 (RNADE), from `arzoo.data.continuous`, or
any image dataset flattened (its images dequantized as the real-valued image
models read them, `arzoo.data.real_image_load`)."""

import os
import time

import numpy as np

from arzoo.events.base import EventSpace, finite_value_checks


def is_image_dataset(name):
    """Whether a data section's `dataset` names images (read flattened) rather than vectors."""
    from arzoo.data.continuous import CONTINUOUS_DATASETS

    return name not in CONTINUOUS_DATASETS


def load_vectors(data, split, training=False):
    """The unbatched `{"x": [D]}` dataset of one split of a `DataConfig`."""
    import tensorflow as tf

    if not is_image_dataset(data.dataset):
        from arzoo.data.continuous import load_continuous

        return tf.data.Dataset.from_tensor_slices({"x": load_continuous(data.dataset, split)})
    from arzoo.events.real_image import load_real_image_split

    def flattened(example):
        image = example["image"]
        if data.remove_mean:  # the last pixel is minus the sum of the others: leave it out
            image = tf.reshape(image, [-1, image.shape[-1]])[:-1]
        return {"x": tf.reshape(image, [-1])}

    return load_real_image_split(data, split, training).map(flattened)


def vector_array(data, split):
    """One split as a float32 `[N, D]` array (images with their fixed test noise)."""
    return np.stack([e["x"] for e in load_vectors(data, split).as_numpy_iterator()])


class VectorSpace(EventSpace):
    name = "vector"
    sample_options = ()
    unit = "nats/example"
    training_metric = "bits_per_dim"

    def load_split(self, data, split, training=False):
        return load_vectors(data, split, training)

    def check_element_spec(self, spec, name="dataset"):
        dims = self.model.num_dims
        if not isinstance(spec, dict) or "x" not in spec or tuple(spec["x"].shape) != (dims,):
            raise ValueError(
                f"The {name} must yield dicts with 'x' (float32 [{dims}]) for a "
                f"model with num_dims={dims}; got {spec}."
            )

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, **options):
        """Test NLL (nats per example) next to independent Gaussians per
        dimension; for flattened images also the dequantization bound in
        bits/dim (as `arzoo.events.real_image` reports it)."""
        from arzoo.evaluation.likelihood import diagonal_gaussian_baseline

        self.refuse_options(options, "vector models")
        data = run.config["data"]
        split = split or data.test_split
        x = vector_array(data, split)
        max_examples = max_examples or data.max_test_examples
        if max_examples is not None:
            x = x[:max_examples]
        batch_size = batch_size or 1024
        log_probs = [self.model.log_prob(x[i : i + batch_size]).numpy() for i in range(0, len(x), batch_size)]
        nats = float(-np.concatenate(log_probs).mean())
        result = {
            "dataset": data.dataset,
            "split": split,
            "num_examples": int(len(x)),
            "nats_per_example": nats,
            "headline": f"{nats:.3f} nats/example",
        }
        if baselines:
            train = vector_array(data, data.train_split)
            result["baselines"] = {"diagonal_gaussian": {"nats_per_example": diagonal_gaussian_baseline(train, x)}}
        if is_image_dataset(data.dataset) and data.remove_mean:
            # Mean-removed images have no discrete counterpart to bound.
            result["bits_per_dim"] = nats / (x.shape[1] * np.log(2.0))
            result["headline"] += (f" ({result['bits_per_dim']:.4f} bits/dim of the density of "
                                   f"{x.shape[1]} mean-removed values)")
        elif is_image_dataset(data.dataset):
            from arzoo.data.real_image_load import native_levels

            levels = native_levels(data.dataset, data.data_dir)
            result["bits_per_dim"] = nats / (x.shape[1] * np.log(2.0)) + np.log2(levels)
            result["headline"] += f" ({result['bits_per_dim']:.4f} bits/dim, dequantization bound)"
        return result

    def sample_command(self, args, run):
        """`[n, D]` float32 samples into a .npy file, `--batch-size` at a
        time within `--max-memory`."""
        from arzoo.events.draws import DrawPlan, draw_in_batches
        from arzoo.sampling.seeds import row_seeds

        model = self.model
        npy = os.path.splitext(args.out)[0] + ".npy"
        plan = DrawPlan.for_model(model, args.n, args.batch_size, model.num_steps, model.values_per_step, 0, 0,
                                  f"--n {args.n} vectors of {model.num_dims} dimensions")
        plan.check(args.max_memory, os.path.dirname(os.path.abspath(npy)))

        def draw(start, stop):
            return model.sample(seeds=row_seeds(args.seed, stop - start, start), temperature=args.temperature,
                                method=args.method).numpy()

        start = time.time()
        draw_in_batches(plan, draw, npy, (model.num_dims,), np.float32, unit="vectors")
        return {"samples": npy, "num_samples": args.n, "shape": [args.n, model.num_dims],
                "seconds": time.time() - start}

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """`<output_dir>/samples/step<step>.npy`: `[num_samples, D]` float32."""
        from arzoo.files import atomic_save_npy

        if output_dir is None:
            return None
        samples = self.model.sample(num_samples, seed=[int(seed), int(step)]).numpy()
        folder = os.path.join(output_dir, "samples")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"step{int(step)}.npy")
        atomic_save_npy(path, samples)
        return path

    @classmethod
    def client_sample(cls, client, args, info):
        """`[n, D]` float32 samples into `<out>.npy`."""
        from arzoo.files import atomic_save_npy

        cls.refuse_options({"--label": args.label, "--seconds": args.seconds, "--speaker": args.speaker,
                            "--length": args.length, "--prompt": args.prompt, "--num-levels": args.num_levels},
                           "vector models")
        samples, elapsed = cls.client_rows(client, args, lambda seeds, rows: client.sample(seeds, args.temperature))
        path = os.path.splitext(args.out)[0] + ".npy"
        atomic_save_npy(path, samples)
        return {"samples": path, "num_samples": args.n, "seconds": elapsed}

    def audit_length(self, length):
        dims = self.model.num_dims
        if length not in (None, dims):
            raise ValueError(f"--length {length}: a vector model's events have num_dims={dims} dimensions.")
        return dims

    def audit_inputs(self, count, length):
        return np.random.default_rng(0).normal(size=(count, length)).astype(np.float32), None

    def audit_order(self, length):
        """Dimension d is drawn at step `step_index[d]` (the model's ordering)."""
        return self.model.step_index

    def serving_event_checks(self, module, name, x, known_mask=None):
        """Finite values (where known)."""
        return finite_value_checks(name, x, known_mask)

    def serving_metadata(self, module):
        return {
            "num_dims": self.model.num_dims,
            "num_steps": self.model.num_steps,
            "max_batch_size": module.max_batch_size,
        }

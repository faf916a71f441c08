"""Images: `[B, H, W, C]` integer levels (the PixelCNN family and the
density estimators over sub-pixels)."""

import os
import time

import numpy as np

from arzoo.events.base import EventSpace

# The most samples `arzoo sample` puts in its PNG grid (all go to the .npy).
GRID_LIMIT = 1024


def load_image_split(data, split, num_levels):
    """The unbatched `{"image", "label"}` dataset of one split of a `DataConfig`."""
    from arzoo.data import load_dataset

    return load_dataset(
        data.dataset,
        split,
        num_levels,
        binarize=data.binarize,
        binarize_seed=data.binarize_seed,
        data_dir=data.data_dir,
        image_folder=data.image_folder,
        image_size=data.image_size,
        channels=data.channels,
    )


def step_subpixels(model):
    """`[num_steps * values_per_step]` int: the sub-pixel (flat index into
    `[H, W, C]`) each value of the steps writes, -1 for a step's padding,
    for a model whose steps are not the raster layout (a multiscale model's
    groups); None for the raster layout, where the steps stacked are the
    image reshaped. An export's metadata carries it so that a client can
    assemble streamed steps without arzoo's model code."""
    size = int(np.prod(model.image_shape))
    if model.num_steps * model.values_per_step == size:
        return None
    import tensorflow as tf

    index = np.arange(1, size + 1, dtype=np.int32).reshape((1,) + tuple(model.image_shape))
    with tf.init_scope():  # a constant of the export, computed eagerly while it is traced
        return np.asarray(model.to_steps(index)).reshape(-1) - 1


class ImageSpace(EventSpace):
    name = "image"
    sample_options = ("--label",)
    unit = "bits/dim"
    training_metric = "bits_per_dim"

    def load_split(self, data, split, training=False):
        if data.remove_mean:
            raise ValueError(
                "data.remove_mean applies to the real-valued models (spatial_lstm, mcgsm, rnade); "
                f"{type(self.model).__name__} models integer levels: set it false."
            )
        return load_image_split(data, split, self.model.num_levels)

    def check_element_spec(self, spec, name="dataset"):
        model = self.model
        if not isinstance(spec, dict) or "image" not in spec:
            raise ValueError(f"The {name} must yield dicts with an 'image' key (and 'label'), got {spec}.")
        shape = tuple(spec["image"].shape)
        if shape != tuple(model.image_shape):
            raise ValueError(
                f"The {name} yields images of shape {shape} but the model has "
                f"image_shape={list(model.image_shape)}; set data.image_size / data.channels "
                "or the model's image_shape to match."
            )
        if model.num_classes is not None and "label" not in spec:
            raise ValueError(
                f"The model is class-conditional (num_classes={model.num_classes}) but the {name} has no 'label'."
            )

    # ----- evaluation ---------------------------------------------------------

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, ensemble=None,
                 iw_samples=None, **options):
        """Test NLL (nats per image, bits/dim) next to the uniform and
        independent-pixel baselines and, for models with ensembles, the
        ensemble of `ensemble` members (default the model's `ensemble_size`).
        A latent-variable model's NLL is an upper bound (its importance-
        weighted bound with `iw_samples` draws, default the model's), reported
        with the ELBO, the KL and the reconstruction term."""
        from arzoo.evaluation.likelihood import (
            evaluate_log_likelihood,
            independent_pixel_baseline,
            uniform_baseline,
        )

        self.refuse_options(options, "image models")
        data, model = run.config["data"], self.model
        if iw_samples is not None:
            if not hasattr(model, "iw_samples"):
                raise ValueError(
                    f"--iw-samples applies to latent-variable models (PixelVAE); {type(model).__name__}'s "
                    "likelihood is exact."
                )
            from arzoo.arguments import int_at_least

            model.iw_samples = int_at_least("iw_samples", iw_samples, 1)
        batch_size = batch_size or 256
        split = split or data.test_split
        test = self.load_split(data, split)
        self.check_element_spec(test.element_spec, f"{split!r} split")
        max_examples = max_examples or data.max_test_examples
        report = evaluate_log_likelihood(model, test, batch_size, max_examples)
        result = {
            "dataset": data.dataset,
            "split": split,
            "num_examples": report.num_examples,
            "nats_per_image": report.nats_per_image,
            "bits_per_dim": report.bits_per_dim,
            "headline": report.headline(model.num_levels),
            "likelihood": report.description,
        }
        if report.terms:  # a bound: what it is made of, as negative log-likelihoods in nats per image
            result["bound"] = {
                "iw_samples": getattr(model, "iw_samples", None),
                **{f"negative_{name}_nats": -value for name, value in sorted(report.terms.items()) if name != "kl"},
                "kl_nats": report.terms.get("kl"),
            }
        members = ensemble if ensemble is not None else getattr(model, "ensemble_size", 1)
        if ensemble is not None or members > 1:
            combined = evaluate_log_likelihood(model, test, batch_size, max_examples, num_members=members)
            result["ensemble"] = {
                "num_members": members,
                "nats_per_image": combined.nats_per_image,
                "bits_per_dim": combined.bits_per_dim,
                "headline": combined.headline(model.num_levels),
            }
        if baselines:
            train = self.load_split(data, data.train_split)
            if max_examples is not None:
                test = test.take(max_examples)
            independent = independent_pixel_baseline(train, test, model.image_shape, model.num_levels)
            uniform = uniform_baseline(model.image_shape, model.num_levels)
            result["baselines"] = {
                "uniform": {"bits_per_dim": uniform.bits_per_dim, "nats_per_image": uniform.nats_per_image},
                "independent_pixels": {
                    "bits_per_dim": independent.bits_per_dim,
                    "nats_per_image": independent.nats_per_image,
                },
            }
        return result

    # ----- sampling for people -------------------------------------------------

    def default_condition(self, count, label=None, first_row=0):
        """Labels for `count` samples of a class-conditional model: `label`, or
        0, 1, 2, ... cycling (from row `first_row`); None for an unconditional one."""
        model = self.model
        if model.num_classes is None:
            if label is not None:
                raise ValueError("--label was given but the model is not class-conditional.")
            if model.condition_shape is not None and model.external_conditions:
                raise ValueError(
                    "This model takes a real-valued condition; sample it from Python "
                    "with model.sample(..., condition=...)."
                )
            return None
        return self.ids_for(count, label, model.num_classes, "--label", "classes", first_row)

    def sample_command(self, args, run):
        """A PNG grid of samples (the first GRID_LIMIT) and all their levels
        as .npy, drawn `--batch-size` at a time within `--max-memory`."""
        from arzoo.events.draws import DrawPlan, draw_in_batches
        from arzoo.figures import check_png_path, save_grid
        from arzoo.sampling.seeds import row_seeds

        check_png_path(args.out, "--out")
        model = self.model
        count = args.n
        first_labels = self.default_condition(1, args.label)  # checks --label before anything is drawn
        npy = os.path.splitext(args.out)[0] + ".npy"
        plan = DrawPlan.for_model(
            model, count, args.batch_size, model.num_steps, model.values_per_step, 0, GRID_LIMIT,
            f"--n {count} images of {list(model.image_shape)}", first_labels,
        )
        plan.check(args.max_memory, os.path.dirname(os.path.abspath(npy)))
        self.say(
            f"sampling {count} images of {list(model.image_shape)} ({model.num_steps} steps, "
            f"method={args.method or model.default_sampling_method}, {plan.batch_size} at a time) ..."
        )

        # A model whose condition is a code it cannot sample (the auto-encoder)
        # draws given the codes of the test images, one each (cycled).
        codes = self.test_codes(run, count) if self.samples_from_test_codes else None

        def draw(start, stop):
            condition = self.default_condition(stop - start, args.label, start) if codes is None else codes[start:stop]
            return model.sample(
                seeds=row_seeds(args.seed, stop - start, start),
                condition=condition, temperature=args.temperature, method=args.method,
            ).numpy()

        start = time.time()
        shown = draw_in_batches(plan, draw, npy, model.image_shape, np.int32, keep=GRID_LIMIT, unit="images")
        elapsed = time.time() - start
        steps = model.num_steps * -(-count // plan.batch_size)  # every batch runs every step
        self.say(
            f"sampled {count} images in {elapsed:.2f} s ({steps / elapsed:.0f} steps/s, "
            "first call includes tracing and XLA compilation)"
        )
        save_grid(args.out, shown, model.num_levels)
        result = {
            "grid": args.out,
            "samples": npy,
            "num_samples": count,
            "seconds": elapsed,
            "steps_per_second": steps / elapsed,
        }
        if count > GRID_LIMIT:
            result["grid_shows"] = f"the first {GRID_LIMIT} of {count}"
        if model.latent_dim is not None:
            result["interpolations"] = self.write_interpolations(args, run)
        if model.sampling_scales():
            result["coarse_to_fine"] = self.write_coarse_to_fine(args.out, shown)
        return result

    COARSE_TO_FINE_ROWS = 8

    def write_coarse_to_fine(self, out, samples):
        """A coarse-to-fine sampler's figure, `<out>_coarse_to_fine.png`: for
        the first COARSE_TO_FINE_ROWS samples, one panel per scale (the
        image when that scale was complete, coarsest first). Returns the path."""
        from arzoo.figures import coarse_to_fine_rows, save_grid

        strides = self.model.sampling_scales()
        path = os.path.splitext(out)[0] + "_coarse_to_fine.png"
        panels = coarse_to_fine_rows(samples[: self.COARSE_TO_FINE_ROWS], strides)
        save_grid(path, panels, self.model.num_levels, columns=len(strides))
        return path

    @property
    def samples_from_test_codes(self):
        return self.model.condition_shape is not None and not self.model.external_conditions

    def test_images(self, run, count):
        """The first `count` images of the run's test split, `[count, H, W, C]`
        int32 (cycled when the split has fewer), or a ValueError without data."""
        if run.config is None:
            raise ValueError(
                f"{type(self.model).__name__} encodes test images to sample: give the run folder "
                "(with config.yaml), not a bare .keras file."
            )
        data = run.config["data"]
        images = np.stack([e["image"] for e in self.load_split(data, data.test_split).take(count).as_numpy_iterator()])
        if len(images) == 0:
            raise ValueError(f"The {data.test_split!r} split has no images to encode.")
        return np.resize(images, (count,) + images.shape[1:]).astype(np.int32)

    def test_codes(self, run, count):
        """The codes of the first `count` test images, `[count, latent_dim]`."""
        images = self.test_images(run, count)
        model = self.model
        codes = [np.asarray(model.code_of(model.encode(images[i:i + 256]))) for i in range(0, count, 256)]
        self.say(f"sampling given the codes of the first {count} test images")
        return np.concatenate(codes)

    INTERPOLATION_PAIRS = 4
    INTERPOLATION_POINTS = 8

    def write_interpolations(self, args, run):
        """Models with a code: `<out>_interpolations.png`, one row per pair
        of test images (the first 2 * INTERPOLATION_PAIRS of the run's test
        split): image a, the decodings of INTERPOLATION_POINTS codes on the
        line from a's code to b's (ends included), image b. Returns the path,
        or why there is none (a bare .keras file has no data to encode)."""
        from arzoo.figures import save_grid
        from arzoo.sampling.seeds import row_seeds

        model = self.model
        if run.config is None:
            return "none: a bare .keras file has no test images to encode (give the run folder)"
        pairs, points = self.INTERPOLATION_PAIRS, self.INTERPOLATION_POINTS
        images = self.test_images(run, 2 * pairs)
        codes = np.asarray(model.code_of(model.encode(images)))
        a, b = codes[0::2], codes[1::2]
        t = np.linspace(0.0, 1.0, points, dtype=np.float32)[None, :, None]
        line = (a[:, None] * (1.0 - t) + b[:, None] * t).reshape(pairs * points, -1)
        # Every point of a row decoded from the same seed: only the code moves.
        seeds = np.repeat(row_seeds(args.seed, pairs).numpy(), points, axis=0)
        self.say(f"decoding {pairs} interpolations of {points} points between test images ...")
        decoded = np.asarray(model.decode(line, seeds, temperature=args.temperature, method=args.method))
        rows = np.concatenate(
            [images[0::2][:pairs, None], decoded.reshape((pairs, points) + model.image_shape),
             images[1::2][:pairs, None]], axis=1,
        )
        path = os.path.splitext(args.out)[0] + "_interpolations.png"
        save_grid(path, rows.reshape((-1,) + model.image_shape), model.num_levels, columns=points + 2)
        return path

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """A grid of `num_samples` samples (seed `[seed, step]`) to TensorBoard."""
        from arzoo.training.summaries import image_grid, image_summary

        model = self.model
        if self.samples_from_test_codes:
            # No prior over codes and no test images here: nothing to draw from.
            self.say(f"training.sample_every: {type(model).__name__} samples given codes; "
                     "use `arzoo sample RUN` (codes of test images) after training")
            return None
        condition = None if model.num_classes is None else self.default_condition(num_samples)
        samples = model.sample(num_samples, seed=[int(seed), int(step)], condition=condition)
        grid = image_grid(np.asarray(samples), model.num_levels)
        with writer.as_default(step=int(step)):
            image_summary("samples", grid, int(step))
        writer.flush()
        return grid

    # ----- the causality audit ---------------------------------------------------

    def audit_command(self, args):
        """`arzoo audit` of the step that draws sub-pixel (--row, --col,
        --channel), default the middle pixel's first channel."""
        from arzoo.evaluation import audit_position
        from arzoo.figures import dependency_figure, text_map

        self.refuse_options({"--step": args.step, "--length": args.length, "--frame": getattr(args, "frame", None)},
                            "image models (they take --row, --col, --channel)")
        model = self.model
        height, width, _ = model.image_shape
        row = height // 2 if args.row is None else args.row
        col = width // 2 if args.col is None else args.col
        channel = 0 if args.channel is None else args.channel
        result = audit_position(model, row, col, channel)
        lines = [
            f"{type(model).__name__}: sampling step {result['step']} = pixel ({row}, {col}), channel {channel}",
            self.AUDIT_LEGEND,
            text_map(result, channel),
        ]
        return lines, self.audit_summary(result), dependency_figure(result, model.image_shape)

    @staticmethod
    def audit_summary(result):
        """The JSON summary of an `audit_position` result: its step and the counts of what it reads."""
        return {
            "step": result["step"],
            "reads_earlier": int(result["reads_earlier"].sum()),
            "unread_earlier": int(result["unread_earlier"].sum()),
            "reads_later": int(result["reads_later"].sum()),
            "causal": not result["reads_later"].any(),
        }

    @classmethod
    def client_sample(cls, client, args, info):
        """A PNG grid and the levels as .npy."""
        from arzoo.figures import save_grid

        samples, num_levels, npy, elapsed = cls.served_levels(client, args, info)
        save_grid(args.out, samples, num_levels)
        return {"grid": args.out, "samples": npy, "num_samples": args.n, "seconds": elapsed}

    @classmethod
    def served_levels(cls, client, args, info):
        """`arzoo client sample`'s draw of level events (images, videos):
        (samples, their num_levels, the .npy beside `--out` they are saved
        to, seconds), after refusing the options of other kinds of event."""
        from arzoo.figures import check_png_path
        from arzoo.files import atomic_save_npy

        check_png_path(args.out, "--out")
        cls.refuse_options({"--seconds": args.seconds, "--speaker": args.speaker, "--length": args.length,
                            "--prompt": args.prompt}, f"{cls.name} models")
        condition = cls.served_labels(client, "sample", args.label, args.n)
        samples, elapsed = cls.client_rows(client, args, lambda seeds, rows: client.sample(
            seeds, args.temperature, None if condition is None else condition[rows]))
        num_levels = args.num_levels or info.get("num_levels") or 256
        if samples.max() >= num_levels:
            raise ValueError(
                f"The samples reach level {samples.max()} but --num-levels is {num_levels}: "
                "give the model's num_levels."
            )
        npy = os.path.splitext(args.out)[0] + ".npy"
        atomic_save_npy(npy, samples)
        return samples, num_levels, npy, elapsed

    # ----- serving --------------------------------------------------------------

    score_output = "bits_per_dim"
    step_unit = "sub-pixels"

    def serving_condition_specs(self):
        import tensorflow as tf

        model = self.model
        if model.num_classes is not None:
            return [tf.TensorSpec([None], tf.int32, name="condition")]
        if model.condition_shape is not None:
            return [tf.TensorSpec([None, *model.condition_shape], tf.float32, name="condition")]
        return []

    def serving_example_condition(self, batch, length=None):
        condition = self.model.dummy_condition(batch)
        return {} if condition is None else {"condition": condition.numpy()}

    def serving_condition_checks(self, module, inputs, length=None):
        import tensorflow as tf

        condition = inputs.get("condition")
        if condition is None:
            return []
        if self.model.num_classes is not None:
            return module.check_ids("condition", condition, "label", "num_classes", self.model.num_classes)
        return [tf.debugging.assert_all_finite(condition, "input 'condition' is not finite")]

    def serving_state_template(self):
        import tensorflow as tf

        return self.model.initial_state_for_seeds(tf.zeros([1, 2], tf.int32), self.model.dummy_condition(1))

    def serving_metadata(self, module):
        model = self.model
        values = {
            "num_levels": model.num_levels,
            "image_shape": list(model.image_shape),
            "num_steps": model.num_steps,
            "max_batch_size": module.max_batch_size,
        }
        layout = step_subpixels(model)
        if layout is not None:
            values["step_subpixels"] = layout.tolist()
        return values

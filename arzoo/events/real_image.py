"""Real-valued images: `[B, H, W, C]` float32 (the spatial LSTM and the MCGSM).

An event space of its own rather than the vector space generalised: these
events have the image's layout (PNG grids, completion masks, the audit by
row and column), a size a model can change without new weights (texture
synthesis), and data that are 8-bit images dequantized
(`arzoo.data.real_image_load`), so their report is the dequantization bound
in bits/dim, comparable with the discrete image families, beside the density
in nats per image.
"""

import math
import os
import re
import time

import numpy as np

from arzoo.events.base import EventSpace, finite_value_checks
from arzoo.events.image import GRID_LIMIT

SIZE_PATTERN = re.compile(r"^(\d+)x(\d+)$")


def load_real_image_split(data, split, training=False):
    """The unbatched `{"image"}` float32 dataset of one split of a `DataConfig`."""
    from arzoo.data.real_image_load import load_real_images

    return load_real_images(data.dataset, split, training=training, seed=data.shuffle_seed, data_dir=data.data_dir,
                            image_size=data.image_size, channels=data.channels, remove_mean=data.remove_mean)


def to_levels_for_display(images, num_levels=256, zero_mean=False):
    """Real images in [0, 1) as levels for a PNG (values outside clipped);
    mean-removed images (`zero_mean`) are shown about mid-grey."""
    images = np.asarray(images, np.float64) + (0.5 if zero_mean else 0.0)
    return np.clip(np.floor(images * num_levels), 0, num_levels - 1)


def gaussian_baselines(train, test):
    """Nats per image of `test` `[N, D]` under Gaussians fitted on `train`:
    independent per pixel, and with the training covariance (full; for
    patches, where D is small)."""
    from arzoo.evaluation.likelihood import diagonal_gaussian_baseline

    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    result = {"independent_gaussians": diagonal_gaussian_baseline(train, test)}
    dims = train.shape[1]
    if dims <= 4096 and len(train) > dims:
        mean = train.mean(axis=0)
        covariance = np.cov(train, rowvar=False) + 1e-9 * np.eye(dims)
        _, logdet = np.linalg.slogdet(covariance)
        centred = test - mean
        mahalanobis = np.einsum("nd,nd->n", centred, np.linalg.solve(covariance, centred.T).T)
        result["gaussian"] = float(np.mean(0.5 * (dims * math.log(2 * math.pi) + logdet + mahalanobis)))
    return result


class RealImageSpace(EventSpace):
    name = "real_image"
    sample_options = ("--size",)
    unit = "bits/dim"
    # The training loss is the density's bits/dim on [0, 1)^D; the
    # dequantization bound `evaluate` reports is that plus log2(256) = 8.
    training_metric = "density_bits_per_dim"

    def load_split(self, data, split, training=False):
        if bool(data.remove_mean) != self.model.zero_mean:
            raise ValueError(
                f"data.remove_mean is {data.remove_mean} but the model has zero_mean={self.model.zero_mean}: a "
                "model of mean-removed images (the BSDS300 protocol) needs both true, a model of the images as "
                "they are both false."
            )
        return load_real_image_split(data, split, training)

    def check_element_spec(self, spec, name="dataset"):
        model = self.model
        if not isinstance(spec, dict) or "image" not in spec:
            raise ValueError(f"The {name} must yield dicts with an 'image' key (float32 images), got {spec}.")
        shape = tuple(spec["image"].shape)
        if shape != tuple(model.image_shape):
            raise ValueError(
                f"The {name} yields images of shape {shape} but the model has image_shape="
                f"{list(model.image_shape)}; pick the dataset's size (dead_leaves/<H>x<W>, "
                "natural_patches/<H>x<W>), set data.image_size / data.channels, or the model's image_shape."
            )
        if not spec["image"].dtype.is_floating:
            raise ValueError(f"The {name} yields {spec['image'].dtype.name} images; real-valued models read floats.")

    # ----- evaluation ---------------------------------------------------------

    def test_images(self, data, split, max_examples=None):
        """`[N, H, W, C]` float32: the split with each example's fixed noise."""
        dataset = self.load_split(data, split)
        if max_examples is not None:
            dataset = dataset.take(max_examples)
        images = [e["image"] for e in dataset.batch(1024).as_numpy_iterator()]
        if not images:
            raise ValueError(f"The {split!r} split of {data.dataset!r} has no images.")
        return np.concatenate(images)

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, **options):
        """Test NLL: nats per image of the density of x = (X + u) / 256 and
        the dequantization bound on the discrete NLL in bits/dim, next to
        Gaussians fitted on the training split (independent per pixel, and
        with the full training covariance).

        A `zero_mean` model of mean-removed images (the BSDS300 protocol)
        is a density of the first H W - 1 pixels: its report is nats per
        image of those (the protocol's figure, which papers give as the
        log-likelihood, the negative of this) and bits per scored
        dimension, with no 8-bit bound (mean-removed values have no
        discrete counterpart); the Gaussians are fitted to the same scored
        values."""
        from arzoo.data.real_image_load import native_levels

        self.refuse_options(options, "real-valued image models")
        data, model = run.config["data"], self.model
        split = split or data.test_split
        max_examples = max_examples or data.max_test_examples
        test = self.test_images(data, split, max_examples)
        batch_size = batch_size or 256
        log_probs = np.concatenate([model.log_prob(test[i : i + batch_size]).numpy()
                                    for i in range(0, len(test), batch_size)])
        channels = model.image_shape[2]
        dims = model.scored_pixels * channels
        levels = None if model.zero_mean else native_levels(data.dataset, data.data_dir)

        def figures(nats):
            if levels is None:
                return {"nats_per_image": nats, "bits_per_dim": nats / (dims * math.log(2.0))}
            bound = nats / (dims * math.log(2.0)) + math.log2(levels)
            return {"nats_per_image": nats, "bits_per_dim": bound}

        nats = float(-np.mean(log_probs))
        result = {"dataset": data.dataset, "split": split, "num_examples": int(len(test)), **figures(nats)}
        if levels is None:
            result.update(
                scored_dims=dims,
                headline=f"{nats:.2f} nats per image of its {dims} free mean-removed values (log-likelihood "
                         f"{-nats:.2f} nats; {figures(nats)['bits_per_dim']:.4f} bits/dim of the density)",
                likelihood="exact density of the dequantized, mean-removed images' first H W - 1 pixels",
            )
        else:
            result.update(
                dequantized_levels=levels,
                headline=f"{figures(nats)['bits_per_dim']:.4f} bits/dim (dequantization bound; "
                         f"{nats:.2f} nats per image of x = (X + u) / {levels})",
                likelihood="exact density of the dequantized images; an upper bound on the discrete NLL",
            )
        if baselines:
            train = self.test_images(data, data.train_split, 20_000)

            def scored(images):
                return images.reshape(len(images), -1)[:, :dims]  # raster order: the first scored pixels

            fitted = gaussian_baselines(scored(train), scored(test))
            result["baselines"] = {name: figures(value) for name, value in fitted.items()}
        return result

    # ----- sampling for people -------------------------------------------------

    def sized_model(self, size):
        """The model, or (with `--size HxW`) the same weights at that size."""
        if size is None:
            return self.model
        match = SIZE_PATTERN.match(str(size))
        if match is None or min(int(g) for g in match.groups()) < 1:
            raise ValueError(f"--size {size!r}: give the image size as <height>x<width>, e.g. 64x64.")
        height, width = (int(g) for g in match.groups())
        return self.model.resized([height, width, self.model.image_shape[2]])

    def sample_command(self, args, run):
        """A PNG grid of samples (the first GRID_LIMIT, values in [0, 1)
        shown as 8-bit grey) and all of them as float32 .npy; `--size HxW`
        draws at another size with the same weights (texture synthesis)."""
        from arzoo.events.draws import DrawPlan, draw_in_batches
        from arzoo.figures import check_png_path, save_grid
        from arzoo.sampling.seeds import row_seeds

        check_png_path(args.out, "--out")
        model = self.sized_model(getattr(args, "size", None))
        npy = os.path.splitext(args.out)[0] + ".npy"
        plan = DrawPlan.for_model(model, args.n, args.batch_size, model.num_steps, model.values_per_step, 0,
                                  GRID_LIMIT, f"--n {args.n} images of {list(model.image_shape)}")
        plan.check(args.max_memory, os.path.dirname(os.path.abspath(npy)))
        self.say(f"sampling {args.n} images of {list(model.image_shape)} ({model.num_steps} steps, "
                 f"{plan.batch_size} at a time) ...")

        def draw(start, stop):
            return model.sample(seeds=row_seeds(args.seed, stop - start, start), temperature=args.temperature,
                                method=args.method).numpy()

        start = time.time()
        shown = draw_in_batches(plan, draw, npy, model.image_shape, np.float32, keep=GRID_LIMIT, unit="images")
        elapsed = time.time() - start
        save_grid(args.out, to_levels_for_display(shown, zero_mean=model.zero_mean), 256)
        return {"grid": args.out, "samples": npy, "num_samples": args.n, "image_shape": list(model.image_shape),
                "seconds": elapsed}

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """A grid of `num_samples` samples (seed `[seed, step]`) to TensorBoard."""
        from arzoo.training.summaries import image_grid, image_summary

        samples = self.model.sample(num_samples, seed=[int(seed), int(step)]).numpy()
        grid = image_grid(to_levels_for_display(samples, zero_mean=self.model.zero_mean), 256)
        with writer.as_default(step=int(step)):
            image_summary("samples", grid, int(step))
        writer.flush()
        return grid

    # ----- the causality audit ---------------------------------------------------

    def audit_command(self, args):
        """`arzoo audit` of the step that draws pixel (--row, --col) (its
        --channel), default the middle pixel."""
        from arzoo.evaluation import audit_position
        from arzoo.events.image import ImageSpace
        from arzoo.figures import dependency_figure, text_map

        self.refuse_options({"--step": args.step, "--length": args.length, "--frame": getattr(args, "frame", None)},
                            "real-valued image models (they take --row, --col, --channel)")
        model = self.model
        height, width, _ = model.image_shape
        row = height // 2 if args.row is None else args.row
        col = width // 2 if args.col is None else args.col
        channel = 0 if args.channel is None else args.channel
        x = np.random.default_rng(0).uniform(size=(8,) + model.image_shape).astype(np.float32)
        result = audit_position(model, row, col, channel, x=x)
        lines = [
            f"{type(model).__name__}: sampling step {result['step']} = pixel ({row}, {col}), channel {channel}",
            self.AUDIT_LEGEND,
            text_map(result, channel),
        ]
        return lines, ImageSpace.audit_summary(result), dependency_figure(result, model.image_shape)

    @classmethod
    def client_sample(cls, client, args, info):
        """A PNG grid and the float32 images as .npy."""
        from arzoo.figures import check_png_path, save_grid
        from arzoo.files import atomic_save_npy

        check_png_path(args.out, "--out")
        cls.refuse_options({"--label": args.label, "--seconds": args.seconds, "--speaker": args.speaker,
                            "--length": args.length, "--prompt": args.prompt, "--num-levels": args.num_levels},
                           "real-valued image models")
        samples, elapsed = cls.client_rows(client, args, lambda seeds, rows: client.sample(seeds, args.temperature))
        npy = os.path.splitext(args.out)[0] + ".npy"
        atomic_save_npy(npy, samples)
        save_grid(args.out, to_levels_for_display(samples, zero_mean=bool(info.get("zero_mean", 0))), 256)
        return {"grid": args.out, "samples": npy, "num_samples": args.n, "seconds": elapsed}

    # ----- serving --------------------------------------------------------------

    step_unit = "pixels"
    rows_advance_together = True  # one canvas and one row of LSTM states per row, at one position

    def serving_event_checks(self, module, name, x, known_mask=None):
        """Finite values (where known)."""
        return finite_value_checks(name, x, known_mask)

    def serving_metadata(self, module):
        return {
            "image_shape": list(self.model.image_shape),
            "num_steps": self.model.num_steps,
            "max_batch_size": module.max_batch_size,
            "zero_mean": int(self.model.zero_mean),  # 1: mean-removed images, the last pixel minus the others' sum
        }

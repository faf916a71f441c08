"""Videos: `[B, T, H, W, C]` integer levels (the Video Pixel Network).

A video model is an image model of its frames stacked one under another
(arzoo.models.video), so the image space's serving specs, class conditions
and checks serve it; what differs is here: the data (arzoo.data.video_load),
evaluation in nats per frame beside the baselines, sample files (a PNG strip
of frames per video, an animated GIF grid, the .npy), continuing videos
from their first frames, and the audit of one (frame, row, column, channel).
"""

import math
import os
import time

import numpy as np

from arzoo.events.image import ImageSpace

# The most videos `arzoo sample` shows in its strip and GIF (all go to the .npy).
FIGURE_LIMIT = 64


def load_video_split(data, split, num_levels):
    """The unbatched `{"video", "label"}` dataset of one split of a `DataConfig`."""
    from arzoo.data.video_load import load_video_dataset

    return load_video_dataset(data.dataset, split, num_levels, binarize=data.binarize,
                              binarize_seed=data.binarize_seed, data_dir=data.data_dir)


def as_images(dataset):
    """`{"video", "label"}` examples as `{"image", "label"}` (what the
    per-sub-pixel baseline of arzoo.evaluation reads: any shape of levels)."""
    return dataset.map(lambda e: {"image": e["video"], "label": e["label"]})


def frame_negative_log_likelihoods(model, dataset, batch_size, max_examples=None):
    """(mean -log p(frame t | frames < t) in nats `[T]`, examples) over an
    unbatched `{"video", "label"}` dataset."""
    import tensorflow as tf

    from arzoo.progress import progress_bar

    @tf.function(reduce_retracing=True, autograph=False)
    def frame_nats(x, condition):
        return -tf.reduce_sum(tf.cast(model.teacher_forced_log_probs(x, condition), tf.float64), axis=[2, 3, 4])

    if max_examples is not None:
        dataset = dataset.take(max_examples)
    totals, count = np.zeros(model.num_frames), 0
    bar = progress_bar(total=max_examples, desc="evaluating", unit="videos")
    for batch in dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE):
        x = tf.cast(batch["video"], tf.int32)
        condition = batch["label"] if model.num_classes is not None else None
        totals += frame_nats(x, condition).numpy().sum(axis=0)
        count += int(x.shape[0])
        bar.update(int(x.shape[0]))
    bar.close()
    if count == 0:
        raise ValueError("The evaluation dataset is empty.")
    return totals / count, count


class StackedFrames:
    """A video model seen as the image model of its stacked frames: `call`
    takes and returns `[K, T * H, W, ...]` (what the image audit reads);
    every other attribute is the model's."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def __call__(self, x, condition=None):
        model = self.model
        return model.stacked(model(model.unstacked(x), condition))


class VideoSpace(ImageSpace):
    name = "video"
    sample_options = ("--label", "--context-from", "--context-frames")
    unit = "nats/frame"

    def load_split(self, data, split, training=False):
        return load_video_split(data, split, self.model.num_levels)

    def check_element_spec(self, spec, name="dataset"):
        model = self.model
        if not isinstance(spec, dict) or "video" not in spec:
            raise ValueError(f"The {name} must yield dicts with a 'video' key (and 'label'), got {spec}.")
        shape = tuple(spec["video"].shape)
        if len(shape) != 4:
            raise ValueError(f"The {name} yields videos of shape {shape}; expected [frames, height, width, channels].")
        if shape[0] != model.num_frames:
            raise ValueError(
                f"The {name} yields videos of {shape[0]} frames but the model has num_frames={model.num_frames}; "
                "set the model's num_frames, or pick the dataset config of that length "
                f"(moving_fashion_mnist/{shape[1]}x{shape[2]}_{model.num_frames}frames)."
            )
        if tuple(shape[1:]) != tuple(model.frame_shape):
            raise ValueError(
                f"The {name} yields frames of shape {list(shape[1:])} but the model has "
                f"frame_shape={list(model.frame_shape)}; set one to match the other."
            )
        if model.num_classes is not None and "label" not in spec:
            raise ValueError(
                f"The model is class-conditional (num_classes={model.num_classes}) but the {name} has no 'label'."
            )

    # ----- evaluation ---------------------------------------------------------------

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, **options):
        """Test NLL in nats per frame (the paper's unit) and bits/dim, frame by
        frame, next to the uniform and independent-sub-pixel baselines."""
        from arzoo.evaluation.likelihood import independent_pixel_baseline

        self.refuse_options(options, "video models")
        data, model = run.config["data"], self.model
        split = split or data.test_split
        test = self.load_split(data, split)
        self.check_element_spec(test.element_spec, f"{split!r} split")
        max_examples = max_examples or data.max_test_examples
        by_frame, count = frame_negative_log_likelihoods(model, test, batch_size or 64, max_examples)
        dims_per_frame = int(np.prod(model.frame_shape))
        per_frame = float(by_frame.mean())
        bits = per_frame / (dims_per_frame * math.log(2.0))
        result = {
            "dataset": data.dataset,
            "split": split,
            "num_examples": count,
            "nats_per_frame": per_frame,
            "nats_per_video": float(by_frame.sum()),
            "bits_per_dim": bits,
            "nats_by_frame": [round(float(v), 4) for v in by_frame],
            "headline": f"{per_frame:.2f} nats/frame ({bits:.4f} bits/dim)",
            "likelihood": model.likelihood_description,
        }
        if baselines:
            if max_examples is not None:
                test = test.take(max_examples)
            independent = independent_pixel_baseline(
                as_images(self.load_split(data, data.train_split)), as_images(test), model.event_shape,
                model.num_levels,
            )
            result["baselines"] = {
                "uniform": {"nats_per_frame": dims_per_frame * math.log(model.num_levels),
                            "bits_per_dim": math.log2(model.num_levels)},
                "independent_subpixels": {"nats_per_frame": independent.nats_per_image / model.num_frames,
                                          "bits_per_dim": independent.bits_per_dim},
            }
        return result

    # ----- sampling for people -----------------------------------------------------------

    def context_videos(self, args, count):
        """For `--context-from FILE.npy --context-frames K`: (videos
        `[count, T, H, W, C]` holding the file's videos' first K frames, cycled
        over the rows, the known mask, K); None without `--context-from`."""
        model = self.model
        path, frames = getattr(args, "context_from", None), getattr(args, "context_frames", None)
        if path is None:
            if frames is not None:
                raise ValueError("--context-frames needs --context-from FILE.npy (the videos whose first frames "
                                 "are continued).")
            return None
        try:
            given = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise ValueError(f"--context-from {path!r} is not a readable .npy file: {err}") from None
        if given.ndim == 4:
            given = given[None]
        if given.ndim != 5 or tuple(given.shape[2:]) != tuple(model.frame_shape):
            raise ValueError(
                f"--context-from {path!r} holds an array of shape {list(given.shape)}; expected videos "
                f"[count, frames, {', '.join(map(str, model.frame_shape))}] (or one video without the count)."
            )
        if given.shape[0] == 0 or given.shape[1] == 0:
            raise ValueError(f"--context-from {path!r} holds no frames (shape {list(given.shape)}).")
        if frames is None:
            frames = min(given.shape[1], max(1, model.num_frames // 2))
        if frames >= model.num_frames:
            raise ValueError(
                f"--context-frames {frames} leaves nothing to draw: the model's videos have "
                f"num_frames={model.num_frames}, so give at most {model.num_frames - 1} frames of context."
            )
        if frames > given.shape[1]:
            raise ValueError(f"--context-frames {frames} but {path!r} holds {given.shape[1]} frames per video.")
        if not np.issubdtype(given.dtype, np.integer):
            raise ValueError(f"--context-from {path!r} holds {given.dtype} values; expected integer levels.")
        if given[:, :frames].min() < 0 or given[:, :frames].max() >= model.num_levels:
            raise ValueError(
                f"--context-from {path!r} holds levels from {given[:, :frames].min()} to "
                f"{given[:, :frames].max()}; the model's are 0 ... {model.num_levels - 1}."
            )
        videos = np.zeros((count,) + tuple(model.event_shape), np.int32)
        videos[:, :frames] = given[np.arange(count) % given.shape[0], :frames]
        known = np.zeros(videos.shape, bool)
        known[:, :frames] = True
        return videos, known, frames

    def sample_command(self, args, run):
        """A PNG strip (a row of frames per video) at `--out`, an animated GIF
        grid and all the levels as .npy beside it, drawn `--batch-size` at a
        time within `--max-memory`; with `--context-from`, continuations of
        the file's videos from their first `--context-frames` frames."""
        from arzoo.events.draws import DrawPlan, draw_in_batches
        from arzoo.figures import check_png_path
        from arzoo.sampling.seeds import row_seeds
        from arzoo.video_figures import save_video_gif, save_video_strip

        check_png_path(args.out, "--out")
        model, count = self.model, args.n
        first_labels = self.default_condition(1, args.label)
        context = self.context_videos(args, count)
        stem = os.path.splitext(args.out)[0]
        npy, gif = stem + ".npy", stem + ".gif"
        shape = list(model.event_shape)
        plan = DrawPlan.for_model(model, count, args.batch_size, model.num_steps, model.values_per_step, 0,
                                  FIGURE_LIMIT, f"--n {count} videos of {shape}", first_labels)
        plan.check(args.max_memory, os.path.dirname(os.path.abspath(npy)))
        what = "continuing" if context else "sampling"
        self.say(f"{what} {count} videos of {shape} ({model.num_steps} steps, "
                 f"method={args.method or model.default_sampling_method}, {plan.batch_size} at a time) ...")

        def draw(start, stop):
            condition = self.default_condition(stop - start, args.label, start)
            seeds = row_seeds(args.seed, stop - start, start)
            if context is None:
                return model.sample(seeds=seeds, condition=condition, temperature=args.temperature,
                                    method=args.method).numpy()
            videos, known, _ = context
            return model.complete(videos[start:stop], known[start:stop], seeds=seeds, condition=condition,
                                  temperature=args.temperature, method=args.method).numpy()

        start = time.time()
        shown = draw_in_batches(plan, draw, npy, model.event_shape, np.int32, keep=FIGURE_LIMIT, unit="videos")
        elapsed = time.time() - start
        drawn_frames = count * (model.num_frames - (context[2] if context else 0))
        self.say(f"drew {drawn_frames} frames in {elapsed:.2f} s ({drawn_frames / elapsed:.2f} frames/s, "
                 "first call includes tracing and XLA compilation)")
        save_video_strip(args.out, shown, model.num_levels)
        save_video_gif(gif, shown, model.num_levels)
        result = {"strip": args.out, "gif": gif, "samples": npy, "num_samples": count, "seconds": elapsed,
                  "frames_per_second": drawn_frames / elapsed}
        if context:
            result["context"] = {"file": args.context_from, "frames": context[2]}
        if count > FIGURE_LIMIT:
            result["figures_show"] = f"the first {FIGURE_LIMIT} of {count}"
        return result

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """A strip of `num_samples` videos (seed `[seed, step]`) to TensorBoard."""
        from arzoo.training.summaries import image_summary
        from arzoo.video_figures import video_strip

        model = self.model
        condition = None if model.num_classes is None else self.default_condition(num_samples)
        samples = model.sample(num_samples, seed=[int(seed), int(step)], condition=condition)
        strip = video_strip(np.asarray(samples), model.num_levels)
        with writer.as_default(step=int(step)):
            image_summary("samples", strip, int(step))
        writer.flush()
        return strip

    # ----- the causality audit ---------------------------------------------------------

    def audit_command(self, args):
        """`arzoo audit` of the step that draws sub-pixel (--frame, --row,
        --col, --channel), default the middle frame's middle pixel, channel 0."""
        from arzoo.evaluation import audit_position
        from arzoo.figures import dependency_figure, text_map

        self.refuse_options({"--step": args.step, "--length": args.length},
                            "video models (they take --frame, --row, --col, --channel)")
        model = self.model
        frames, (height, width, channels) = model.num_frames, model.frame_shape
        frame = frames // 2 if getattr(args, "frame", None) is None else args.frame
        row = height // 2 if args.row is None else args.row
        col = width // 2 if args.col is None else args.col
        channel = 0 if args.channel is None else args.channel
        if not (0 <= frame < frames and 0 <= row < height and 0 <= col < width and 0 <= channel < channels):
            raise ValueError(
                f"Position (frame={frame}, row={row}, col={col}, channel={channel}) is outside the video "
                f"{list(model.event_shape)}."
            )
        result = audit_position(StackedFrames(model), frame * height + row, col, channel)
        lines = [
            f"{type(model).__name__}: sampling step {result['step']} = frame {frame}, pixel ({row}, {col}), "
            f"channel {channel}",
            self.AUDIT_LEGEND,
        ]
        stacked_lines = text_map(result, channel).splitlines()
        for t in range(frames):
            lines.append(f"frame {t}:")
            lines.extend(stacked_lines[t * height:(t + 1) * height])
        by_frame = result["reads_earlier"].reshape((frames, -1)).sum(axis=1)
        summary = dict(self.audit_summary(result), frame=frame, reads_earlier_by_frame=[int(v) for v in by_frame])
        return lines, summary, dependency_figure(result, model.image_shape)

    @classmethod
    def client_sample(cls, client, args, info):
        """A PNG strip, an animated GIF and the levels as .npy."""
        from arzoo.video_figures import save_video_gif, save_video_strip

        samples, num_levels, npy, elapsed = cls.served_levels(client, args, info)
        gif = os.path.splitext(args.out)[0] + ".gif"
        save_video_strip(args.out, samples[:FIGURE_LIMIT], num_levels)
        save_video_gif(gif, samples[:FIGURE_LIMIT], num_levels)
        return {"strip": args.out, "gif": gif, "samples": npy, "num_samples": args.n, "seconds": elapsed}

    # ----- serving -------------------------------------------------------------------

    def serving_metadata(self, module):
        model = self.model
        return {
            "num_levels": model.num_levels,
            "num_frames": model.num_frames,
            "frame_shape": list(model.frame_shape),
            "num_steps": model.num_steps,
            "max_batch_size": module.max_batch_size,
        }

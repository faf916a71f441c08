"""Text: `[B, T]` character ids (Char-RNN), from plain-text corpora."""

import json
import os
import shutil
import tempfile
import time
import weakref

import numpy as np

from arzoo.events.base import EventSpace

SEPARATOR = "\n" + "-" * 40 + "\n"

# The most texts `arzoo sample` prints and puts in its summary (all go to the .txt).
TEXTS_SHOWN = 64
DEFAULT_MAX_LENGTH = 10_000  # characters a request may ask for or send (an export's default)
VOCABULARY_ASSET = "vocabulary.json"
DEFAULT_CLIENT_LENGTH = 200  # characters `arzoo client sample` draws (an export does not say)


def texts_path(args):
    """`<out>.txt`, refused if it exists and `--overwrite` is not given: the
    default is shared by `arzoo sample` and `arzoo client sample`, and one
    would silently replace the other's texts."""
    path = os.path.splitext(args.out)[0] + ".txt"
    if os.path.exists(path) and not getattr(args, "overwrite", False):
        raise ValueError(f"{path} exists: give --out another name, or --overwrite to replace it.")
    return path


class TextSpace(EventSpace):
    name = "text"
    sample_options = ("--label", "--prompt", "--length")
    unit = "bits/character"
    training_metric = "bits_per_character"

    def load_split(self, data, split, training=False):
        """Non-overlapping windows `{"text": [data.sequence_length] int32}` of
        the split's documents joined by newlines; characters outside the
        model's vocabulary become id 0 and are counted in a warning."""
        from arzoo.data.text import encoded_text_split, text_windows

        model = self.model
        if data.sequence_length is None:
            raise ValueError("A text model trains on windows of characters: set data.sequence_length (e.g. 100).")
        if model.num_classes is not None:
            raise ValueError(
                f"The model is class-conditional (num_classes={model.num_classes}) but text datasets "
                "have no labels here; train it from Python on your own (text, label) batches."
            )
        ids = encoded_text_split(
            data.dataset, split, model.vocabulary, data_dir=data.data_dir, text_folder=data.text_folder
        )
        return text_windows(ids, data.sequence_length, f"{data.dataset} {split!r} split")

    def check_element_spec(self, spec, name="dataset"):
        if not isinstance(spec, dict) or "text" not in spec or spec["text"].shape.rank != 1:
            raise ValueError(f"The {name} must yield dicts with 'text' (int32 ids [T]); got {spec}.")

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, **options):
        """Test bits per character next to the unigram baseline (character
        frequencies of the training split, add-one smoothed)."""
        from arzoo.evaluation.likelihood import evaluate_sequences, independent_levels_baseline

        self.refuse_options(options, "text models")
        data, model = run.config["data"], self.model
        split = split or data.test_split
        windows = self.load_split(data, split)
        max_examples = max_examples or data.max_test_examples
        if max_examples is not None:
            windows = windows.take(max_examples)
        report = evaluate_sequences(model, windows, batch_size or 64, what=f"windows from the {split!r} split")
        result = {
            "dataset": data.dataset,
            "split": split,
            "num_windows": report.num_sequences,
            "sequence_length": data.sequence_length,
            "bits_per_character": report.bits_per_step,
            "nats_per_window": report.nats_per_sequence,
            "headline": f"{report.bits_per_step:.4f} bits/character",
        }
        if baselines:
            train = self.load_split(data, data.train_split).batch(1024).as_numpy_iterator()
            unigram = independent_levels_baseline((batch["text"] for batch in train), report.levels, model.num_levels)
            result["baselines"] = {
                "uniform": {"bits_per_character": float(np.log2(model.num_levels))},
                "unigram": {"bits_per_character": unigram},
            }
        return result

    def sample_command(self, args, run):
        """Texts (continuing `--prompt` when given), written to a .txt file as
        they are drawn (`--batch-size` at a time within `--max-memory`); the
        first TEXTS_SHOWN are printed and in the summary."""
        from arzoo.events.draws import DrawPlan, draw_in_batches
        from arzoo.files import atomic_path
        from arzoo.sampling.seeds import row_seeds

        model = self.model
        count = args.n
        if model.num_classes:
            first_condition = self.ids_for(1, args.label, model.num_classes, "--label", "classes")
        elif args.label is not None:
            raise ValueError("--label was given but the model is not class-conditional.")
        else:
            first_condition = None
        length = int(args.length) if getattr(args, "length", None) else model.sample_length
        prompt = getattr(args, "prompt", None) or ""
        prompt_ids = model.encode_text([prompt])[0] if prompt else None
        steps = len(prompt) + length
        path = texts_path(args)
        plan = DrawPlan.for_model(model, count, args.batch_size, steps, 1, 4 * steps, 0,
                                  f"--n {count} texts of {steps} characters", first_condition)
        plan.check(args.max_memory, os.path.dirname(os.path.abspath(path)))

        def draw(start, stop):
            rows = stop - start
            seeds = row_seeds(args.seed, rows, start)
            condition = (self.ids_for(rows, args.label, model.num_classes, "--label", "classes", start)
                         if model.num_classes else None)
            if prompt_ids is None:
                return model.sample(seeds=seeds, condition=condition, temperature=args.temperature,
                                    method=args.method, length=length)
            x = np.zeros((rows, steps), np.int32)
            mask = np.zeros_like(x)
            x[:, : len(prompt)], mask[:, : len(prompt)] = prompt_ids, 1
            return model.complete(x, mask, seeds=seeds, condition=condition, temperature=args.temperature,
                                  method=args.method)

        shown = []
        start = time.time()
        with atomic_path(path) as temporary:
            with open(temporary, "w", encoding="utf-8") as f:

                def write_texts(first_row, ids):
                    for i, text in enumerate(model.decode_text(ids)):
                        f.write((SEPARATOR if first_row + i else "") + text)
                        if first_row + i < TEXTS_SHOWN:
                            shown.append(text)
                            self.say(SEPARATOR + text)

                draw_in_batches(plan, draw, None, (steps,), np.int32, on_rows=write_texts, unit="texts")
        elapsed = time.time() - start
        result = {"texts": shown, "file": path, "num_samples": count, "seconds": elapsed}
        if count > TEXTS_SHOWN:
            result["texts_shown"] = f"the first {TEXTS_SHOWN} of {count} (all are in {path})"
        return result

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """`<output_dir>/samples/step<step>.txt`: `num_samples` texts of `sample_length`."""
        from arzoo.files import atomic_write_bytes

        if output_dir is None:
            return None
        model = self.model
        condition = self.ids_for(num_samples, None, model.num_classes, "", "") if model.num_classes else None
        texts = model.decode_text(np.asarray(model.sample(num_samples, seed=[int(seed), int(step)], condition=condition)))
        folder = os.path.join(output_dir, "samples")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"step{int(step)}.txt")
        atomic_write_bytes(path, SEPARATOR.join(texts).encode("utf-8"))
        return path

    @classmethod
    def client_sample(cls, client, args, info):
        """Texts (continuing `--prompt`), decoded with the export's own
        vocabulary, printed and written to `<out>.txt`."""
        from arzoo.files import atomic_write_bytes
        from arzoo.models.char_rnn import decode_ids, encode_text

        cls.refuse_options({"--seconds": args.seconds, "--speaker": args.speaker,
                            "--num-levels": args.num_levels}, "text models (they take --length, --prompt)")
        path = texts_path(args)
        vocabulary = "".join(chr(code) for code in info["vocabulary"])
        length = DEFAULT_CLIENT_LENGTH if args.length is None else args.length
        if isinstance(length, bool) or length < 1:
            raise ValueError(f"--length must be >= 1, got {length}.")
        condition = cls.served_labels(client, "complete" if args.prompt else "sample", args.label, args.n)
        labels = (lambda rows: None) if condition is None else (lambda rows: condition[rows])
        if args.prompt:
            x = np.zeros((args.n, len(args.prompt) + length), np.int32)
            x[:, : len(args.prompt)] = encode_text([args.prompt], vocabulary)
            mask = np.zeros_like(x)
            mask[:, : len(args.prompt)] = 1
            drawn, elapsed = cls.client_rows(client, args, lambda seeds, rows: client.complete(
                x[rows], mask[rows], seeds, args.temperature, labels(rows)))
        else:
            drawn, elapsed = cls.client_rows(client, args, lambda seeds, rows: client.sample(
                seeds, args.temperature, labels(rows), length=length))
        texts = decode_ids(drawn, vocabulary)
        atomic_write_bytes(path, SEPARATOR.join(texts).encode("utf-8"))
        for text in texts:
            cls.say(SEPARATOR + text)
        return {"texts": texts, "file": path, "num_samples": args.n, "seconds": elapsed}

    def default_audit_length(self):
        return 64

    def audit_inputs(self, count, length):
        model = self.model
        rng = np.random.default_rng(0)
        x = rng.uniform(0, model.num_levels - 1, size=(count, length)).astype(np.float32)
        condition = self.ids_for(count, None, model.num_classes, "", "") if model.num_classes else None
        return x, condition

    score_output = "bits_per_character"
    step_unit = "characters"

    def serving_max_length(self, max_length):
        return self.checked_max_length(max_length, DEFAULT_MAX_LENGTH, "characters")

    def serving_event_spec(self, name):
        import tensorflow as tf

        return tf.TensorSpec([None, None], tf.int32, name=name)

    def serving_condition_specs(self):
        import tensorflow as tf

        return [tf.TensorSpec([None], tf.int32, name="condition")] if self.model.num_classes else []

    def serving_example_condition(self, batch, length=None):
        return {"condition": np.zeros([batch], np.int32)} if self.model.num_classes else {}

    def serving_condition_checks(self, module, inputs, length=None):
        condition = inputs.get("condition")
        if condition is None:
            return []
        return module.check_ids("condition", condition, "label", "num_classes", self.model.num_classes)

    def serving_metadata(self, module):
        model = self.model
        return {
            "num_levels": model.num_levels,
            "vocabulary": [ord(c) for c in model.vocabulary],
            "max_length": module.max_length,
            "max_batch_size": module.max_batch_size,
            "num_classes": model.num_classes or 0,
        }

    def serving_assets(self):
        """`vocabulary.json` ({"unknown_id": 0, "characters": [...]}), so a
        client can encode and decode without arzoo. The asset must be a file
        when the module is saved (it is copied into `<export>/assets/`); the
        temporary copy goes when the space does."""
        import tensorflow as tf

        folder = tempfile.mkdtemp(prefix="arzoo-vocabulary-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        path = os.path.join(folder, VOCABULARY_ASSET)
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps({"unknown_id": 0, "characters": list(self.model.vocabulary)}, ensure_ascii=False))
        return {"vocabulary": tf.saved_model.Asset(path)}

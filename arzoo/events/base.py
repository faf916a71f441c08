"""The interface of an event space (see `arzoo.events`)."""

import sys
import time

import numpy as np


def finite_value_checks(name, x, known_mask=None):
    """In-graph checks that real-valued events `x` are finite (where
    `known_mask` is 1, if given): the serving checks of the real-valued spaces."""
    import tensorflow as tf

    values = x if known_mask is None else tf.where(known_mask > 0, x, tf.zeros_like(x))
    return [tf.debugging.assert_all_finite(values, f"input '{name}' is not finite (NaN or inf)")]


class EventSpace:
    """What the layers above the models ask about one kind of event.

    Args:
      model: the model whose events these are.
    """

    name = None
    # The unit `evaluate` reports first ("bits/dim", "bits/sample", ...).
    unit = None
    # The training loss's name in the run summary ("bits_per_sample", ...).
    training_metric = "bits_per_dim"

    def __init__(self, model):
        self.model = model

    # ----- data ---------------------------------------------------------------

    def load_split(self, data, split, training=False):
        """The unbatched examples of `split` of a `DataConfig`, in the form the
        model's `inputs_from_batch` reads."""
        raise NotImplementedError

    def check_element_spec(self, spec, name="dataset"):
        """A ValueError unless a dataset with element spec `spec` fits the model."""
        raise NotImplementedError

    # ----- evaluation ---------------------------------------------------------

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, **options):
        """The test report of a run (a dict with `headline`), next to the
        space's baselines. `options` are the space's own (`ensemble` for
        images, `speaker_id` for audio); others are refused."""
        raise NotImplementedError

    # ----- sampling for people -------------------------------------------------

    # The options of `arzoo sample` that only some kinds of event read
    # ({flag: argparse dest}), and the ones this space reads; `arzoo sample`
    # refuses the others when given.
    EVENT_SAMPLE_OPTIONS = {
        "--label": "label", "--seconds": "seconds", "--speaker": "speaker",
        "--features-from": "features_from", "--continue-from": "continue_from",
        "--prefix-seconds": "prefix_seconds", "--prompt": "prompt", "--length": "length",
        "--context-from": "context_from", "--context-frames": "context_frames", "--size": "size",
    }
    sample_options = ()

    def refuse_other_sample_options(self, args):
        """A ValueError naming the given `arzoo sample` options this space does not read."""
        self.refuse_options(
            {flag: getattr(args, dest, None) for flag, dest in self.EVENT_SAMPLE_OPTIONS.items()
             if flag not in self.sample_options},
            f"{self.name} models ({type(self.model).__name__})",
        )

    def sample_command(self, args, run):
        """`arzoo sample`: draw, write files, return the JSON summary. The
        command has already refused the options this space does not read
        (`refuse_other_sample_options`), so implementations read only theirs."""
        raise NotImplementedError

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """Samples during training: to TensorBoard and/or `<output_dir>/samples/`."""
        raise NotImplementedError

    # ----- the causality audit ---------------------------------------------------

    AUDIT_LEGEND = "X audited  # read  . earlier but unread (blind spot or outside the field)  - later  ! later but read (violation)"

    def audit_command(self, args):
        """`arzoo audit`: which earlier steps one sampling step reads.

        This default serves flat events `[B, N]` (audio, text, vectors):
        `--step` (default the middle one) of `--length` positions. Returns
        `(lines to print, JSON summary, PNG array)`.
        """
        from arzoo.evaluation.causality import audit_sequence_step
        from arzoo.figures import sequence_dependency_figure, sequence_text_map

        self.refuse_options(
            {"--row": args.row, "--col": args.col, "--channel": args.channel, "--frame": getattr(args, "frame", None)},
            f"{self.name} models (they take --step and --length)",
        )
        length = self.audit_length(args.length)
        step = length // 2 if args.step is None else args.step
        x, condition = self.audit_inputs(8, length)
        result = audit_sequence_step(self.model, step, x, condition, order=self.audit_order(length))
        lines = [
            f"{type(self.model).__name__}: sampling step {step} of {length}",
            self.AUDIT_LEGEND,
            sequence_text_map(result),
        ]
        summary = {
            "step": step,
            "length": length,
            "reads_earlier": int(result["reads_earlier"].sum()),
            "unread_earlier": int(result["unread_earlier"].sum()),
            "reads_later": int(result["reads_later"].sum()),
            "receptive_field": result["receptive_field"],
            "causal": not result["reads_later"].any(),
        }
        return lines, summary, sequence_dependency_figure(result)

    def audit_length(self, length):
        """The positions the audit runs over: `length`, or the space's default."""
        if length is None:
            length = self.default_audit_length()
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"--length must be an integer >= 1, got {length!r}.")
        return length

    def default_audit_length(self):
        raise NotImplementedError

    def audit_inputs(self, count, length):
        """`count` example events of `length` as floats, and their condition."""
        raise NotImplementedError

    def audit_order(self, length):
        """The sampling step of each position (None: position i is step i)."""
        return None

    # ----- serving: what `arzoo.serving.signatures.ServingModule` asks ------------
    # The defaults serve fixed-size events (`model.event_shape`) of integer
    # levels with no condition; a space overrides what differs.

    # The `log_prob` signature's second output (bits per unit), or None.
    score_output = None
    # What one step of an event is called in messages ("samples", "characters").
    step_unit = "steps"
    # Whether every row of a `step` request must be at the same position.
    rows_advance_together = False

    def serving_max_length(self, max_length):
        """The most steps a request may ask for or send (sequences), or None
        for fixed-size events (which refuse a `max_length`)."""
        if max_length is not None:
            raise ValueError(
                f"max_length applies to sequence models only; {type(self.model).__name__} is "
                f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.name} model."
            )
        return None

    @staticmethod
    def checked_max_length(max_length, default, unit):
        """`max_length` (default `default`) as an integer >= 1, or a ValueError."""
        max_length = default if max_length is None else max_length
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be an integer >= 1 ({unit}), got {max_length!r}.")
        return int(max_length)

    def serving_event_spec(self, name):
        """The `TensorSpec` of events (`x`) with a free batch dimension."""
        import tensorflow as tf

        return tf.TensorSpec([None, *self.model.event_shape], self.model.values_dtype, name=name)

    def serving_condition_specs(self):
        """The `TensorSpec`s of the conditioning inputs (none by default)."""
        return []

    def serving_condition(self, inputs):
        """The model's condition from a request's inputs (by name): its
        `condition` input, None when it has none."""
        return inputs.get("condition")

    def serving_condition_checks(self, module, inputs, length=None):
        """In-graph checks of the conditioning inputs; `length` (a scalar
        tensor, sequences only) is how many steps they must cover."""
        return []

    def serving_event_checks(self, module, name, x, known_mask=None):
        """In-graph checks of events or step values `x` (where `known_mask`
        is 1, if given): integer levels in [0, num_levels) by default."""
        return module.check_levels(name, x)

    def serving_example_condition(self, batch, length=None):
        """Valid conditioning inputs `{name: array}` of `batch` rows (for
        warmup requests), covering `length` steps of a sequence."""
        return {}

    def serving_length_given_by_condition(self):
        """Whether the condition sets a sequence's length (then `sample` takes no `length`)."""
        return False

    def serving_length_from_condition(self, inputs):
        """The length the condition sets (a scalar tensor), or None."""
        return None

    def serving_state_template(self):
        """A state of batch 1, whose structure `step`'s `state_<path>` tensors take."""
        return self.model.initial_state(1)

    def serving_sample_outputs(self, samples):
        """Outputs `sample` and `complete` add to `samples` (none by default)."""
        return {}

    def serving_metadata(self, module):
        """{name: int or list of ints}: the `metadata` signature's rows."""
        raise NotImplementedError

    def serving_assets(self):
        """Files the export carries (`tf.saved_model.Asset`s), by name."""
        return {}

    # ----- a served model (no model object: what its export says) ---------------

    @classmethod
    def client_sample(cls, client, args, info):
        """`arzoo client sample` against a served model of this space: draw
        `args.n` rows from `row_seeds(args.seed)` through `client` and write
        them as `sample_command` does; `info` is `client.model_info()`."""
        raise NotImplementedError

    @staticmethod
    def served_labels(client, signature, label, count):
        """The `condition` of a request for `count` rows of a class-conditional
        served model (`label` for every row), or None for a model without one."""
        from tensorflow.core.framework import types_pb2

        inputs = client.signature_defs()[signature].inputs
        if "condition" not in inputs:
            if label is not None:
                raise ValueError("--label was given but the served model takes no condition.")
            return None
        if inputs["condition"].dtype != types_pb2.DT_INT32:  # int32 = class labels
            raise ValueError(
                "The served model takes a real-valued condition; call it from Python with "
                "arzoo.serving.client.Client(...).sample(seeds, condition=...)."
            )
        if label is None:
            raise ValueError("The served model is class-conditional: give --label K.")
        return np.full(count, label, np.int32)

    @staticmethod
    def client_rows(client, args, draw):
        """`draw(seeds, rows)` over request-sized row batches of `args.n`
        seeded rows, concatenated, with the seconds it took."""
        from arzoo.serving.client import row_batches, row_seeds

        seeds = row_seeds(args.seed, args.n)
        start = time.time()
        parts = [draw(seeds[rows], rows) for rows in row_batches(args.n, args.batch_size, "--batch-size")]
        return np.concatenate(parts), time.time() - start

    # ----- helpers ----------------------------------------------------------------

    @staticmethod
    def refuse_options(options, command="this model"):
        """A ValueError naming options that do not apply here."""
        given = sorted(name for name, value in options.items() if value is not None and value is not False)
        if given:
            raise ValueError(f"{', '.join(given)} does not apply to {command}.")

    @staticmethod
    def ids_for(count, given, limit, option, what, first_row=0):
        """`count` int32 ids for a sampling command: `given` for every row
        (checked against [0, limit)), or 0, 1, 2, ... cycling when None
        (from row `first_row` of that cycle)."""
        if given is None:
            return (np.arange(first_row, first_row + count, dtype=np.int64) % limit).astype(np.int32)
        if not 0 <= given < limit:
            raise ValueError(f"{option} {given}: this model knows {what} 0 ... {limit - 1}.")
        return np.full(count, given, np.int32)

    @staticmethod
    def say(message):
        print(message, file=sys.stderr, flush=True)

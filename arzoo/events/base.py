"""The interface of an event space (see `arzoo.events`)."""

import sys

import numpy as np


class EventSpace:
    """What the layers above the models ask about one kind of event.

    Args:
      model: the model whose events these are.
    """

    name = None
    # The unit `evaluate` reports first ("bits/dim", "bits/sample", ...).
    unit = None

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

    def sample_command(self, args, run):
        """`arzoo sample`: draw, write files, return the JSON summary."""
        raise NotImplementedError

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """Samples during training: to TensorBoard and/or `<output_dir>/samples/`."""
        raise NotImplementedError

    # ----- serving --------------------------------------------------------------

    def serving_module(self, max_batch_size, max_length=None):
        """The `ServingModule` that exports the model."""
        raise NotImplementedError

    # ----- helpers ----------------------------------------------------------------

    @staticmethod
    def refuse_options(options, command="this model"):
        """A ValueError naming options that do not apply here."""
        given = sorted(name for name, value in options.items() if value not in (None, False))
        if given:
            raise ValueError(f"{', '.join(given)} does not apply to {command}.")

    @staticmethod
    def ids_for(count, given, limit, option, what):
        """`count` int32 ids for a sampling command: `given` for every row
        (checked against [0, limit)), or 0, 1, 2, ... cycling when None."""
        if given is None:
            return np.arange(count, dtype=np.int32) % limit
        if not 0 <= given < limit:
            raise ValueError(f"{option} {given}: this model knows {what} 0 ... {limit - 1}.")
        return np.full(count, given, np.int32)

    @staticmethod
    def say(message):
        print(message, file=sys.stderr, flush=True)

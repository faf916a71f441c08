"""`evaluate(run)`: the test report of a trained run, whatever its events."""

from arzoo.events import event_space


def evaluate(run, split=None, max_examples=None, batch_size=None, baselines=True, **options):
    """The test log-likelihood of `run` in its event space's unit, next to
    that space's baselines (a dict with a `headline`).

    Args:
      run: an `arzoo.runs.Run` with its config (a run folder).
      split: the split to score (default the config's test split).
      max_examples: score only the first N examples (default the config's
        `data.max_test_examples`).
      batch_size: examples per batch (default the space's).
      baselines: also report the baselines.
      **options: the event space's own: `ensemble=K` (images: MADE /
        DeepNADE / ConvNADE ensembles), `speaker_id=True` (audio).
    """
    if run.config is None:
        raise ValueError(
            "Evaluation needs the run's data settings: give the run folder "
            "(with config.yaml), not a bare .keras file."
        )
    if max_examples is not None and (isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1):
        raise ValueError(f"max_examples must be an integer >= 1, got {max_examples!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    return event_space(run.model).evaluate(run, split, max_examples, batch_size, baselines, **options)

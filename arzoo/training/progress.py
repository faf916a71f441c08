"""A progress bar for the training loop (tqdm on stderr)."""

import sys

from tqdm.auto import tqdm


class ProgressBar:
    """Shows the step, steps per second and the training loss in bits per
    unit of the events (bits/dim, bits/sample, bits/character).

    Args:
      total: the last step.
      initial: the step training starts (or resumes) from.
      enabled: False makes every method a no-op.
      metric: the event space's `training_metric` ("bits_per_dim",
        "bits_per_sample", "bits_per_character"), shown as "bits/dim", ...
    """

    def __init__(self, total, initial=0, enabled=True, metric="bits_per_dim"):
        self.enabled = enabled
        self.label = metric.replace("bits_per_", "bits/")
        self._bar = None
        if enabled:
            self._bar = tqdm(
                total=total,
                initial=initial,
                unit="step",
                dynamic_ncols=True,
                file=sys.stderr,
                desc="train",
            )

    def update(self, step, bits_per_dim):
        """Move the bar to `step` and show the latest loss (tqdm shows steps/s)."""
        if self._bar is None:
            return
        self._bar.set_postfix({self.label: f"{bits_per_dim:.4f}"}, refresh=False)
        self._bar.update(step - self._bar.n)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

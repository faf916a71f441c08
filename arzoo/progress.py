"""Progress bars for the long commands (tqdm on stderr): evaluation, large
draws, export, corpus synthesis. Training has its own (arzoo/training/progress.py),
which also shows the loss."""

import sys

from tqdm.auto import tqdm


def progress_bar(iterable=None, *, total=None, desc=None, unit="it", enabled=True):
    """A tqdm bar on stderr; updated at most once a second so logs stay short.
    `enabled=False` gives a silent bar with the same interface."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, mininterval=1.0,
                dynamic_ncols=True, disable=not enabled)

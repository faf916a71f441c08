"""The `arzoo` console script.

It parses the command line before TensorFlow is imported, so `arzoo --help`
and `arzoo <command> --help` answer in well under a second: importing
`arzoo.cli` through here defers arzoo's own import of every model (and so of
TensorFlow) until a command runs (see `arzoo/__init__.py`).
"""

import os
import sys


def main(argv=None):
    os.environ["ARZOO_DEFER_IMPORTS"] = "1"
    try:
        from arzoo.cli import main as run_command
    finally:
        del os.environ["ARZOO_DEFER_IMPORTS"]  # not inherited by subprocesses
    return run_command(argv)


if __name__ == "__main__":
    sys.exit(main())

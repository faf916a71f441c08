"""What the command modules share: JSON output, `--set`, the errors that
become one line."""

import json


def print_json(obj):
    print(json.dumps(obj, indent=2, default=float))


def add_set_argument(parser, help_text="override a config value, e.g. --set training.steps=100 (repeatable)"):
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help=help_text)


def user_errors():
    """The exceptions a command reports as one `arzoo <cmd>: error:` line."""
    from arzoo.data import DatasetUnavailableError
    from arzoo.serving.client import ServingError
    from arzoo.training.checkpoints import CheckpointError

    return (ValueError, FileNotFoundError, CheckpointError, DatasetUnavailableError, ServingError)

"""What the command modules share: JSON output, `--set`, the errors that
become one line, argument types that name a bad value."""

import argparse
import json
import math


def print_json(obj):
    print(json.dumps(obj, indent=2, default=float))


def run_folder(args):
    """`--output`, or `runs/<the config file's name>` when it is not given."""
    import os

    return args.output or os.path.join("runs", os.path.splitext(os.path.basename(args.config))[0])


def add_set_argument(parser, help_text="override a config value, e.g. --set training.steps=100 (repeatable)"):
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help=help_text)


def user_errors():
    """The exceptions a command reports as one `arzoo <cmd>: error:` line."""
    from arzoo.data import DatasetUnavailableError
    from arzoo.serving.client import ServingError
    from arzoo.training.checkpoints import CheckpointError

    return (ValueError, FileNotFoundError, CheckpointError, DatasetUnavailableError, ServingError)


def disk_full_message(err, args):
    """One line for an error that means the disk is full (an OSError ENOSPC
    or EDQUOT, or TensorFlow's RESOURCE_EXHAUSTED "No space left on device"),
    naming the folder written and its free space; None for any other error."""
    import errno
    import os
    import shutil

    if isinstance(err, OSError):
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            return None
        target = err.filename
    else:
        import tensorflow as tf

        if not (isinstance(err, tf.errors.OpError) and "No space left on device" in str(err.message)):
            return None
        target = None
    from arzoo.events.draws import existing_folder, human_bytes

    for name in ("output", "base", "out"):
        if target is None and getattr(args, name, None):
            target = getattr(args, name)
    folder = existing_folder(os.fspath(target or "."))
    free = shutil.disk_usage(folder).free
    return (f"the disk is full writing under {folder} ({human_bytes(free)} free there): free some space or "
            "write elsewhere. Nothing half-written was kept.")


# ----- argument types: a bad value is one argparse error line naming it -----


def seed_value(text):
    """An argparse `type` for `--seed`: an int32 (a wider one would wrap)."""
    from arzoo.arguments import INT32_MAX, INT32_MIN

    return int_in(INT32_MIN, INT32_MAX)(text)


def int_in(minimum, maximum=None):
    """An argparse `type` accepting integers in [minimum, maximum]."""
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in {minimum}..{maximum}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return value

    return parse


def flag_bool(text):
    """An argparse `type` for tensorflow_model_server's boolean flags:
    true / false (also 1 / 0, yes / no)."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def positive_float(text):
    """An argparse `type` accepting finite numbers > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def non_negative_float(text):
    """An argparse `type` accepting finite numbers >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def byte_size(text):
    """An argparse `type` accepting sizes such as 8G, 512M or 1000000 (bytes)."""
    from arzoo.events.draws import parse_byte_size

    try:
        return parse_byte_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None

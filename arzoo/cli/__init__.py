"""The `arzoo` command line: train, distill, eval, sample, audit, export, serve, client, data, demo.

One module per command owns its parser (`add_parser`) and its work (`run`);
the work lives in the library (`arzoo.training`, `arzoo.evaluation`,
`arzoo.events`, `arzoo.serving`), so every command is a few lines. Parsing
imports no TensorFlow: `arzoo --help` and `arzoo <command> --help` answer at
once, and TensorFlow's start-up lines (CUDA probing, CPU features) are kept
off the terminal unless `--verbose` is given.
"""

import argparse
import os
import sys
import tempfile

from arzoo.cli import audit, client, data, demo, distill, evaluate, export, sample, serve, train
from arzoo.cli.common import disk_full_message, user_errors

COMMANDS = (train, distill, evaluate, sample, audit, export, demo, data, serve, client)


def _version():
    """The installed distribution's version (what pip installed), else the package's."""
    from importlib import metadata

    try:
        return metadata.version("arzoo")
    except metadata.PackageNotFoundError:
        from arzoo import __version__

        return __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="arzoo",
        description="Deep autoregressive generative models: train, evaluate, sample, audit, export, serve.",
    )
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up and INFO/WARNING log lines")
    parser.add_argument("--version", action="version", version=f"arzoo {_version()}")
    verbose = argparse.ArgumentParser(add_help=False)  # `--verbose` after the command works too
    verbose.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="show TensorFlow's start-up and INFO/WARNING log lines")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub, [verbose])
    return parser


def start_tensorflow(verbose=False):
    """Import TensorFlow and let it probe its devices, with its C++ start-up
    messages (written straight to file descriptor 2, before any log level
    applies) held back unless `verbose`; they are shown if the import fails."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if verbose:
        import tensorflow  # noqa: F401
        return
    # 3, not 2: TensorFlow logs some harmless lines at ERROR level ("oneDNN
    # supports DT_INT32 only on platforms with AVX-512", at a server's first
    # request); a real failure still reaches the user as an exception.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")


def main(argv=None):
    args = build_parser().parse_args(argv)
    start_tensorflow(args.verbose)
    import arzoo

    arzoo.register()
    try:
        code = args.func(args)
    except Exception as err:  # user-facing errors become one line and exit code 2
        full = disk_full_message(err, args)
        if full is None and not isinstance(err, user_errors()):
            raise
        print(f"arzoo {args.command}: error: {full or err}", file=sys.stderr)
        return 2
    return code or 0


__all__ = ["COMMANDS", "build_parser", "main", "start_tensorflow"]

"""`arzoo train CONFIG`: train a model from a zoo config into a run folder."""

import os

from arzoo.cli.common import add_set_argument, print_json, run_folder


def add_parser(sub, parents):
    p = sub.add_parser("train", parents=parents, help="train a model from a zoo config")
    p.add_argument("config", help="a YAML file, e.g. zoo_configs/digits/gated_pixelcnn.yaml")
    add_set_argument(p)
    p.add_argument("--output", help="output folder (default runs/<config name>); an existing "
                   "one with checkpoints is resumed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args):
    import arzoo
    from arzoo.training import train

    config = arzoo.load_config(args.config, args.set)
    output = run_folder(args)
    # `train` writes the resolved config (with what comes from the data, a
    # text vocabulary) into the run folder once everything is checked.
    result = train(config, output, progress=not args.no_progress)
    summary = result.summary()
    summary["model"] = os.path.join(output, "model.keras")
    print_json(summary)

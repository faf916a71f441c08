"""`arzoo export RUN`: a TF-Serving-ready SavedModel version (+ model.keras)."""

import os

from arzoo.cli.common import print_json

DEFAULT_MODEL_CONFIG = os.path.join("serving", "models.config")
DEFAULT_BATCHING_CONFIG = os.path.join("serving", "batching.config")


def add_parser(sub, parents):
    p = sub.add_parser("export", parents=parents,
                       help="write a TF-Serving-ready SavedModel version (+ model.keras)")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml")
    p.add_argument("--checkpoint", help="restore these weights first (a checkpoint prefix or "
                   "a run's checkpoints/ folder: the latest is used)")
    p.add_argument("--base", default="exports", help="export base folder (default exports/)")
    p.add_argument("--name", help="served model name (default: the model family)")
    p.add_argument("--version", type=int, help="integer version (default: next after the highest)")
    p.add_argument("--max-batch-size", type=int, default=64,
                   help="largest batch a request may carry (default 64)")
    p.add_argument("--model-config-file", default=DEFAULT_MODEL_CONFIG,
                   help="TF Serving model_config_list to add the model to")
    p.add_argument("--batching-config-file", default=DEFAULT_BATCHING_CONFIG,
                   help="TF Serving batching parameters to write")
    p.set_defaults(func=run)


def run(args):
    from arzoo.runs import open_run
    from arzoo.serving import export_model
    from arzoo.serving.config_files import update_model_config, write_batching_config

    run_ = open_run(args.run)
    if args.checkpoint:
        from arzoo.training.checkpoints import restore_weights

        restore_weights(run_.model, args.checkpoint)
    name = args.name or run_.model.family
    path = export_model(run_.model, args.base, name, args.version, args.max_batch_size)
    update_model_config(args.model_config_file, name, os.path.join(args.base, name))
    write_batching_config(args.batching_config_file, args.max_batch_size)
    print_json({
        "export": path,
        "keras": os.path.join(path, "model.keras"),
        "model_config_file": args.model_config_file,
        "batching_config_file": args.batching_config_file,
    })

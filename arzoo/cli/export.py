"""`arzoo export RUN`: a TF-Serving-ready SavedModel version (+ model.keras)."""

import argparse
import os

from arzoo.cli.common import int_in, print_json


def add_parser(sub, parents):
    p = sub.add_parser("export", parents=parents,
                       help="write a TF-Serving-ready SavedModel version (+ model.keras)")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml")
    p.add_argument("--checkpoint", help="restore these weights first (a checkpoint prefix or "
                   "a run's checkpoints/ folder: the latest is used)")
    p.add_argument("--base", default="exports", help="export base folder (default exports/)")
    p.add_argument("--name", help="served model name (default: the model family)")
    p.add_argument("--version", type=int_in(1), help="integer version (default: next after the highest)")
    p.add_argument("--max-batch-size", type=int_in(1),
                   help="largest batch a request may carry (default: the config's export.max_batch_size, else 64)")
    p.add_argument("--max-length", type=int_in(1),
                   help="sequence models: the most steps a request may ask for or send (default: the config's "
                   "export.max_length, else ten seconds of audio or 10,000 characters)")
    p.add_argument("--xla", action=argparse.BooleanOptionalAction, default=None,
                   help="compile the sampling loops (sample, complete, decode) with XLA: as fast as in-process "
                   "sampling, but TF Serving must run with --xla_cpu_compilation_enabled=true (default: the "
                   "config's export.xla, else portable)")
    p.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=None,
                   help="write TF Serving warmup records (assets.extra/tf_serving_warmup_requests) so a new "
                   "version is warm before its first request (default: the config's export.warmup, else on)")
    p.add_argument("--model-config-file",
                   help="TF Serving model_config_list to add the model to (default <base>/models.config)")
    p.add_argument("--batching-config-file",
                   help="also write TF Serving batching parameters here (max_batch_size = --max-batch-size)")
    p.set_defaults(func=run)


def run(args):
    from arzoo.config import ExportConfig
    from arzoo.runs import open_run
    from arzoo.serving import export_model
    from arzoo.serving.config_files import update_model_config, write_batching_config

    run_ = open_run(args.run)
    if args.checkpoint:
        from arzoo.training.checkpoints import restore_weights

        restore_weights(run_.model, args.checkpoint)
    name = args.name or run_.model.family
    settings = (run_.config or {}).get("export") or ExportConfig()

    def setting(key):
        given = getattr(args, key)
        return getattr(settings, key) if given is None else given

    max_batch_size = setting("max_batch_size")
    path = export_model(run_.model, args.base, name, args.version, max_batch_size, setting("max_length"),
                        progress=True, xla=setting("xla"), warmup=setting("warmup"))
    model_config_file = args.model_config_file or os.path.join(args.base, "models.config")
    update_model_config(model_config_file, name, os.path.join(args.base, name))
    result = {"export": path, "keras": os.path.join(path, "model.keras"), "model_config_file": model_config_file,
              "xla": setting("xla")}
    if setting("xla"):
        result["serve_with"] = "--xla_cpu_compilation_enabled=true"
    if args.batching_config_file:
        write_batching_config(args.batching_config_file, max_batch_size)
        result["batching_config_file"] = args.batching_config_file
    print_json(result)

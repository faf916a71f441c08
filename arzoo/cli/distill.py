"""`arzoo distill TEACHER_RUN CONFIG --output RUN`: train a Parallel WaveNet
student from a trained WaveNet teacher (probability density distillation)."""

import os

from arzoo.cli.common import add_set_argument, print_json, run_folder


def add_parser(sub, parents):
    p = sub.add_parser("distill", parents=parents,
                       help="distil a trained WaveNet into a Parallel WaveNet student (one-pass sampling)")
    p.add_argument("teacher", help="the teacher: a WaveNet run folder (or its model.keras) with a "
                   "gaussian or logistic_mixture head")
    p.add_argument("config", help="the student's config, e.g. zoo_configs/speech/parallel_wavenet_cpu.yaml")
    add_set_argument(p)
    p.add_argument("--output", help="the student's run folder (default runs/<config name>); an existing "
                   "one with checkpoints is resumed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args):
    import arzoo
    from arzoo.training.distillation import distill

    config = arzoo.load_config(args.config, args.set)
    output = run_folder(args)
    result = distill(args.teacher, config, output, progress=not args.no_progress)
    summary = result.summary()
    summary["model"] = os.path.join(output, "model.keras")
    summary["teacher"] = os.path.abspath(args.teacher)
    print_json(summary)

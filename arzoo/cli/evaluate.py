"""`arzoo eval RUN`: test NLL of a trained run next to its baselines."""

from arzoo.cli.common import add_set_argument, int_in, print_json


def add_parser(sub, parents):
    p = sub.add_parser("eval", parents=parents, help="test NLL (nats, bits/dim, bits/sample, "
                       "bits/character) of a trained run with baselines")
    p.add_argument("run", help="a run folder written by `arzoo train`")
    p.add_argument("--split", help="TFDS split (default: the config's test split)")
    p.add_argument("--max-examples", type=int_in(1), help="evaluate only the first N examples")
    p.add_argument("--batch-size", type=int_in(1),
                   help="examples per batch (default: 256 images, 16 clips, 64 text windows)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    p.add_argument("--ensemble", type=int_in(1), metavar="K",
                   help="MADE / DeepNADE: also score the ensemble of K masks or orderings "
                   "(default: the model's ensemble_size when above 1)")
    p.add_argument("--iw-samples", type=int_in(1), metavar="K",
                   help="PixelVAE: draws of the importance-weighted bound it reports (default: the "
                   "model's iw_samples, 100); the ELBO, KL and reconstruction term come beside it")
    p.add_argument("--speaker-id", action="store_true",
                   help="audio models with speakers: also identify the speaker of one-second clips")
    add_set_argument(p, "override the run's data settings, e.g. --set data.data_dir=/data")
    p.set_defaults(func=run)


def run(args):
    from arzoo.evaluation.run import evaluate
    from arzoo.runs import open_run

    run_ = open_run(args.run, args.set)
    # Each event space takes its own options and refuses the others when given.
    print_json(evaluate(
        run_, args.split, args.max_examples, args.batch_size, not args.no_baselines,
        ensemble=args.ensemble, speaker_id=args.speaker_id, iw_samples=args.iw_samples,
    ))

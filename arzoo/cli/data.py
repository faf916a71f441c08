"""`arzoo data ...`: make offline datasets."""

from arzoo.cli.common import int_in, print_json


def add_parser(sub, parents):
    p = sub.add_parser("data", parents=parents, help="make offline datasets")
    dsub = p.add_subparsers(dest="dataset", required=True)
    c = dsub.add_parser(
        "speech-corpus", parents=parents,
        help="synthesise the multi-speaker speech corpus with festival and espeak-ng "
        "(the offline default of the WaveNet configs)",
    )
    c.add_argument("--out", required=True, help="corpus folder: <out>/<speaker>/<nnn>.wav + .txt")
    c.add_argument("--sample-rate", type=int_in(1000), default=16000, help="Hz (default 16000)")
    c.add_argument("--voices", nargs="*", help="speaker names (default: every installed voice)")
    c.add_argument("--max-sentences", type=int_in(1), help="use the first N sentences only")
    c.add_argument("--no-progress", action="store_true")
    c.set_defaults(func=speech_corpus)


def speech_corpus(args):
    """`arzoo data speech-corpus`: synthesise the offline speech corpus."""
    from arzoo.data.speech_corpus import make_speech_corpus

    manifest = make_speech_corpus(
        args.out, sample_rate=args.sample_rate, voices=args.voices or None,
        max_sentences=args.max_sentences, progress=not args.no_progress,
    )
    print_json({
        "out": args.out,
        "sample_rate": manifest["sample_rate"],
        "speakers": sorted(manifest["speakers"]),
        "files": manifest["count"],
        "total_seconds": manifest["total_seconds"],
    })

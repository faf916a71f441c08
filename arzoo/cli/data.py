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
    c.add_argument("--out", help="corpus folder: <out>/<speaker>/<nnn>.wav + .txt (default: the folder "
                   "`data.dataset: speech_corpus` trains on, $ARZOO_DATA_DIR/speech_corpus/<rate>hz or "
                   "~/.cache/arzoo/speech_corpus/<rate>hz; elsewhere, train on it with data.dataset: "
                   "wav_folder and data.wav_folder: <out>)")
    c.add_argument("--sample-rate", type=int_in(1000), default=16000, help="Hz (default 16000)")
    c.add_argument("--voices", nargs="*", help="speaker names (default: every installed voice)")
    c.add_argument("--max-sentences", type=int_in(1), help="use the first N sentences only")
    c.add_argument("--no-progress", action="store_true")
    c.set_defaults(func=speech_corpus)


def speech_corpus(args):
    """`arzoo data speech-corpus`: synthesise the offline speech corpus,
    by default into the folder the `speech_corpus` dataset reads, so the
    configs that name it train on this one instead of synthesising again."""
    import os

    from arzoo.data.speech_corpus import default_corpus_dir, make_speech_corpus

    default = os.path.join(default_corpus_dir(), f"{args.sample_rate}hz")
    out = args.out or default
    manifest = make_speech_corpus(
        out, sample_rate=args.sample_rate, voices=args.voices or None,
        max_sentences=args.max_sentences, progress=not args.no_progress,
    )
    if os.path.abspath(out) == os.path.abspath(default):
        use = "data.dataset: speech_corpus (the WaveNet configs' default) reads this folder"
    else:
        use = (f"not where data.dataset: speech_corpus reads ({default}): train on it with "
               f"--set data.dataset=wav_folder --set data.wav_folder={os.path.abspath(out)}")
    print_json({
        "out": out,
        "use": use,
        "sample_rate": manifest["sample_rate"],
        "speakers": sorted(manifest["speakers"]),
        "files": manifest["count"],
        "total_seconds": manifest["total_seconds"],
    })

"""`arzoo audit RUN`: the causality audit of one sampling step, as a map of
the inputs it reads (text, and a PNG with --out); exit code 1 on a violation."""

from arzoo.cli.common import add_set_argument, print_json


def add_parser(sub, parents):
    p = sub.add_parser("audit", parents=parents,
                       help="causality audit: which inputs one sampling step depends on")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml (fresh weights)")
    p.add_argument("--row", type=int, help="image models: the pixel's row (default: the middle row)")
    p.add_argument("--col", type=int, help="image models: the pixel's column (default: the middle column)")
    p.add_argument("--channel", type=int, help="image models: the sub-pixel's channel (default 0)")
    p.add_argument("--frame", type=int, help="video models: the frame (default: the middle one; --row, --col "
                   "and --channel pick the sub-pixel in it)")
    p.add_argument("--step", type=int, help="audio, text and vector models: the sampling step "
                   "(default: the middle one)")
    p.add_argument("--length", type=int, help="audio and text models: positions to audit over "
                   "(default: audio twice the receptive field, text 64)")
    p.add_argument("--out", help="write the dependency map as a PNG")
    add_set_argument(p, "override config values (with a config .yaml)")
    p.set_defaults(func=run)


def run(args):
    from arzoo.events import event_space
    from arzoo.figures import save_png
    from arzoo.runs import open_run

    model = open_run(args.run, args.set).model
    lines, summary, figure = event_space(model).audit_command(args)
    print("\n".join(lines))
    if args.out:
        save_png(args.out, figure)
        summary["png"] = args.out
    print_json(summary)
    return 0 if summary["causal"] else 1

"""`arzoo demo`: the offline end-to-end demo behind `make run`."""


def add_parser(sub, parents):
    p = sub.add_parser("demo", parents=parents, help="the end-to-end offline demo behind `make run`")
    p.add_argument("--output", default="demo_output", help="output folder")
    p.add_argument("--steps", type=int, help="training steps (default: the demo config's)")
    p.add_argument("--max-test-examples", type=int, help="evaluate on the first N test images")
    p.set_defaults(func=run)


def run(args):
    from arzoo.demo import run_demo

    run_demo(args.output, steps=args.steps, max_test_examples=args.max_test_examples)

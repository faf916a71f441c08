"""`arzoo sample RUN`: draw samples and write them for people (the model's
event space says how: PNG grid, WAV files and a spectrogram, text, .npy)."""

from arzoo.cli.common import byte_size, int_in, positive_float, print_json, seed_value


def add_parser(sub, parents):
    p = sub.add_parser("sample", parents=parents, help="draw samples: images into a PNG grid, audio "
                       "into WAV files and a spectrogram PNG (and a .npy), text printed and into a .txt")
    p.add_argument("run", help="a run folder, a .keras file or a config .yaml (untrained)")
    p.add_argument("--n", type=int_in(1), default=16, help="number of samples")
    p.add_argument("--seed", type=seed_value, default=0, help="row i uses fold_in(seed, i)")
    p.add_argument("--temperature", type=positive_float, default=1.0)
    p.add_argument("--label", type=int_in(0), help="class label for a class-conditional model "
                   "(default: cycle through the classes)")
    p.add_argument("--method", choices=["cached", "naive", "parallel"], default=None,
                   help="the model's default (cached; a flow: parallel, one pass), naive (the reference), "
                   "parallel (flows only)")
    p.add_argument("--batch-size", type=int_in(1), default=256,
                   help="samples drawn at once (default 256); a larger --n is drawn in batches, with a "
                   "progress bar, each written as it completes (the samples are the same either way)")
    p.add_argument("--max-memory", type=byte_size, default=None,
                   help="refuse a draw that needs more memory than this, e.g. 8G (default: half of this "
                   "machine's); the need is estimated before anything is allocated")
    p.add_argument("--out", default="samples.png",
                   help="PNG path (audio models: a folder, default ./samples; video models: a strip of "
                   "frames per video, with an animated .gif beside it)")
    p.add_argument("--overwrite", action="store_true",
                   help="text models: replace an existing <out>.txt (refused otherwise: another command's "
                   "texts would be lost)")
    p.add_argument("--seconds", type=positive_float, help="audio models: length of each sample "
                   "(default: the model's sample_length, or the --features-from file)")
    p.add_argument("--speaker", type=int_in(0), help="audio models: speaker id (default: cycle through them)")
    p.add_argument("--features-from", help="vocoders: a WAV whose log-mel features condition the samples")
    p.add_argument("--continue-from", help="audio models: a WAV whose start is continued")
    p.add_argument("--prefix-seconds", type=positive_float,
                   help="with --continue-from: how much of the file to keep (default 0.5)")
    p.add_argument("--prompt", help="text models: continue this text")
    p.add_argument("--length", type=int_in(1),
                   help="text models: characters to draw (default the model's sample_length)")
    p.add_argument("--context-from", help="video models: a .npy of videos [N, frames, H, W, C] whose first "
                   "frames are continued (video prediction)")
    p.add_argument("--context-frames", type=int_in(1),
                   help="with --context-from: how many frames to keep (default half the model's num_frames)")
    p.add_argument("--size", help="real-valued image models: draw images of this size, <height>x<width> "
                   "(texture synthesis: the same weights at any size)")
    p.set_defaults(func=run)


class _StopOnSignal:
    """A signal handler that ends the draw with exit status 128 + signal.

    The handler raises SystemExit where the signal lands, but a library may
    catch it there and raise something else instead (tf.function's tracing
    turns any exception from `trace_type.from_value` into a TypeError), so the
    signal is also remembered and `exit_status()` gives the status it asks for
    whatever exception reaches the command.
    """

    def __init__(self):
        self.received = None

    def __call__(self, signum, frame):
        self.received = signum
        raise SystemExit(128 + signum)

    def exit_status(self):
        return None if self.received is None else 128 + self.received


def run(args):
    """SIGTERM (kill, a scheduler's timeout) and Ctrl-C end a draw alike: the
    rows finished so far are kept (`<name>.partial.npy`), no temporary is
    left, and the exit status is 128 + the signal's number."""
    import signal
    import threading

    from arzoo.events import event_space
    from arzoo.events.draws import default_max_memory
    from arzoo.runs import open_run

    if args.max_memory is None:
        args.max_memory = default_max_memory()
    run_ = open_run(args.run)
    space = event_space(run_.model)
    space.refuse_other_sample_options(args)
    main_thread = threading.current_thread() is threading.main_thread()
    stop = _StopOnSignal()
    signals = (signal.SIGTERM, signal.SIGINT) if main_thread else ()
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        print_json(space.sample_command(args, run_))
    except BaseException:
        if stop.exit_status() is not None:
            raise SystemExit(stop.exit_status()) from None
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

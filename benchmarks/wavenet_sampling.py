"""WaveNet generation: cached (per-layer queues) against naive, side by side.

    python -m benchmarks.wavenet_sampling                 # batch 1 and 16 (minutes)
    python -m benchmarks.wavenet_sampling --batches 1 --seconds 0.5

The model is zoo_configs/speech/wavenet_cpu.yaml (20 layers, dilations
1 ... 512 twice, receptive field 2,048 samples) with fresh weights: speed
does not depend on the weights. For each batch size it reports

* naive: `method="naive"` recomputes the network over the whole sequence
  for every sample. Timed on a sequence as long as the receptive field
  (2,048 samples), where one naive step costs what the usual "recompute the
  receptive field" generator costs per sample;
* cached: `method="cached"` on the same length (the speedup is the ratio of
  the two) and on `--seconds` of audio (the median of `--repeats` timings),
  in samples per second (per stream and in aggregate) and as a real-time
  factor at the model's sample rate.

Compiled functions are warmed up on the same shapes first, so tracing and XLA
compilation are excluded (and reported). Samples are checked equal between
the two methods on the common length, and every cached draw is redrawn from
the teacher-forced network with the same uniform: the draws that differ (a
handful in tens of thousands can, when a uniform falls within a float32
rounding error of a CDF boundary; one differing draw changes the rest of its
row) are counted with the largest such distance.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import arzoo  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "zoo_configs", "speech", "wavenet_cpu.yaml")


def timed(fn):
    start = time.perf_counter()
    result = np.asarray(fn())
    return time.perf_counter() - start, result


def teacher_forced_check(model, samples, speakers, seed=1):
    """Redraw every cached sample from the teacher-forced network's
    distribution and the same uniform: (draws that differ, the smallest
    distance between such a draw's uniform and a CDF boundary)."""
    import tensorflow as tf

    from arzoo.likelihoods.inverse_cdf import categorical_from_uniform
    from arzoo.sampling import as_seed, row_seeds, step_uniforms

    batch, length = samples.shape
    uniforms = step_uniforms(row_seeds(as_seed(seed), batch), length, 1).numpy()[..., 0]
    logits = model(samples, speakers).numpy()
    redrawn = categorical_from_uniform(
        tf.reshape(logits, [-1, logits.shape[-1]]), tf.reshape(uniforms, [-1])
    ).numpy().reshape(batch, length)
    differ = np.argwhere(redrawn != samples)
    gaps = [np.min(np.abs(np.cumsum(tf.nn.softmax(logits[b, t]).numpy()) - uniforms[b, t])) for b, t in differ]
    return len(differ), (float(max(gaps)) if gaps else None)


def run(batches, seconds, naive_max_batch, xla=True, sampling_threads=None, repeats=3):
    config = arzoo.load_config(CONFIG)
    model = arzoo.build_model(config)
    model.jit_sampling = xla
    if sampling_threads is not None:
        model.sampling_threads = sampling_threads
    rate = model.sample_rate
    window = model.receptive_field
    long = int(round(seconds * rate))
    rows = []
    for batch in batches:
        speakers = np.arange(batch, dtype=np.int32) % model.num_speakers
        row = {"batch": batch, "window": window, "long": long}

        def cached(length):
            return model.sample(batch, seed=1, condition=speakers, length=length)

        row["cached_compile_s"], _ = timed(lambda: cached(window))
        row["cached_window_s"], cached_window = timed(lambda: cached(window))
        row["draws"] = int(cached_window.size)
        row["teacher_forced_mismatches"], row["mismatch_max_cdf_gap"] = teacher_forced_check(
            model, cached_window, speakers
        )
        if batch <= naive_max_batch:
            naive = lambda: model.sample(batch, seed=1, condition=speakers, length=window, method="naive")  # noqa: E731
            row["naive_trace_s"], _ = timed(lambda: model.sample(batch, seed=1, condition=speakers, length=8, method="naive"))
            row["naive_window_s"], naive_window = timed(naive)
            row["naive_equals_cached"] = bool(np.array_equal(naive_window, cached_window))
            row["speedup"] = row["naive_window_s"] / row["cached_window_s"]
        timed(lambda: cached(long))  # compile for this length
        # The median of `repeats` timings: one timing of a few seconds on a
        # shared 2-core machine moves by 10-20% from run to run.
        row["cached_long_runs_s"] = [timed(lambda: cached(long))[0] for _ in range(repeats)]
        row["cached_long_s"] = float(np.median(row["cached_long_runs_s"]))
        row["samples_per_s_per_stream"] = long / row["cached_long_s"]
        row["samples_per_s_aggregate"] = batch * long / row["cached_long_s"]
        row["real_time_factor_aggregate"] = row["samples_per_s_aggregate"] / rate
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--seconds", type=float, default=2.0, help="cached generation length")
    parser.add_argument("--naive-max-batch", type=int, default=16)
    parser.add_argument("--no-xla", action="store_true", help="the cached loop without XLA")
    parser.add_argument("--repeats", type=int, default=3, help="median of N timings of the long run (default 3)")
    parser.add_argument("--sampling-threads", type=int,
                        help="row groups sampled in parallel (default: the model's, one per core)")
    args = parser.parse_args(argv)
    rows = run(args.batches, args.seconds, args.naive_max_batch, xla=not args.no_xla,
               sampling_threads=args.sampling_threads, repeats=args.repeats)
    print(f"WaveNet {os.path.relpath(CONFIG, REPO)} (receptive field {rows[0]['window']} samples), "
          f"XLA {'off' if args.no_xla else 'on'}")
    print(f"{'batch':>5} {'naive s':>9} {'cached s':>9} {'speedup':>8} | {'cached ' + str(rows[0]['long']) + ' samples':>20} "
          f"{'samples/s/stream':>17} {'aggregate':>10} {'x real time':>11} {'naive==cached':>14}")
    for r in rows:
        naive = f"{r['naive_window_s']:9.2f}" if "naive_window_s" in r else f"{'-':>9}"
        speedup = f"{r['speedup']:7.0f}x" if "speedup" in r else f"{'-':>8}"
        print(f"{r['batch']:>5} {naive} {r['cached_window_s']:9.3f} {speedup} | {r['cached_long_s']:19.2f}s "
              f"{r['samples_per_s_per_stream']:17.0f} {r['samples_per_s_aggregate']:10.0f} "
              f"{r['real_time_factor_aggregate']:11.2f} {str(r.get('naive_equals_cached', '-')):>14}")
        gap = "" if r["mismatch_max_cdf_gap"] is None else f", uniform within {r['mismatch_max_cdf_gap']:.1e} of a CDF boundary"
        print(f"      batch {r['batch']}: {r['teacher_forced_mismatches']} of {r['draws']} cached draws differ "
              f"from a teacher-forced redraw{gap}")
    return rows


if __name__ == "__main__":
    main()

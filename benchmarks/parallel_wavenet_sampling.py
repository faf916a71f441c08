"""Parallel WaveNet student against its WaveNet teacher: time to sample audio.

    python -m benchmarks.parallel_wavenet_sampling                      # 2 s, batch 1 and 16
    python -m benchmarks.parallel_wavenet_sampling --batches 1 --seconds 0.5 --repeats 1

The teacher is zoo_configs/speech/wavenet_gaussian_cpu.yaml (20 layers,
dilations 1 ... 512 twice, 16-bit PCM, one Gaussian, speaker-conditioned),
sampled by its cached loop (per-layer queues, XLA-compiled, rows in parallel
groups per core); the student zoo_configs/speech/parallel_wavenet_cpu.yaml
(four Gaussian inverse autoregressive flows), sampled by its one parallel
pass per flow. Both get the same speakers and seeds, fresh weights (speed
does not depend on them), and a warm-up call on the same shapes first (so
tracing and XLA compilation are excluded). For each batch size the script
prints the median of `--repeats` timings of each, the real-time factors at
16 kHz and the ratio student / teacher speed.
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
TEACHER = os.path.join(REPO, "zoo_configs", "speech", "wavenet_gaussian_cpu.yaml")
STUDENT = os.path.join(REPO, "zoo_configs", "speech", "parallel_wavenet_cpu.yaml")


def median_time(draw, repeats):
    draw()  # warm-up: tracing and compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(draw())
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--teacher", default=TEACHER, help="teacher config")
    parser.add_argument("--student", default=STUDENT, help="student config")
    args = parser.parse_args(argv)

    teacher = arzoo.build_model(arzoo.load_config(args.teacher))
    student = arzoo.build_model(arzoo.load_config(args.student))
    rate = student.sample_rate
    length = int(args.seconds * rate)
    print(f"teacher {os.path.relpath(args.teacher, REPO)}: receptive field {teacher.receptive_field}; "
          f"student {os.path.relpath(args.student, REPO)}: {student.num_flows} flows, "
          f"{sum(student.layers_per_flow)} blocks; {length} samples ({args.seconds:g} s at {rate} Hz)")
    print(f"{'batch':>5}  {'teacher s':>9}  {'x real time':>11}  {'student s':>9}  {'x real time':>11}  "
          f"{'student / teacher':>17}")
    rows = []
    for batch in args.batches:
        speakers = (np.arange(batch) % student.num_speakers).astype(np.int32) if student.num_speakers else None
        seconds = {}
        for name, model in (("teacher", teacher), ("student", student)):
            seconds[name] = median_time(
                lambda model=model: model.sample(batch, seed=0, condition=speakers, length=length), args.repeats
            )
        audio = batch * args.seconds
        row = dict(batch=batch, teacher_s=seconds["teacher"], student_s=seconds["student"],
                   teacher_real_time=audio / seconds["teacher"], student_real_time=audio / seconds["student"],
                   speedup=seconds["teacher"] / seconds["student"])
        rows.append(row)
        print(f"{batch:>5}  {row['teacher_s']:>9.3f}  {row['teacher_real_time']:>11.2f}  {row['student_s']:>9.3f}  "
              f"{row['student_real_time']:>11.2f}  {row['speedup']:>16.1f}x", flush=True)
    print(json.dumps({"repeats": args.repeats, "seconds": args.seconds, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

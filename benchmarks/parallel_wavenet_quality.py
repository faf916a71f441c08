"""How good a distilled Parallel WaveNet student is, measured against its
teacher and held-out speech of the offline corpus (there is no MOS here).

    python -m benchmarks.parallel_wavenet_quality --teacher RUN --student RUN [--out DIR]

RUN folders come from
    arzoo train zoo_configs/speech/wavenet_gaussian_cpu.yaml --output runs/teacher
    arzoo distill runs/teacher zoo_configs/speech/parallel_wavenet_cpu.yaml --output runs/student

For every speaker of the corpus, `--per-speaker` clips of `--seconds` are
drawn by the teacher's cached sampler and the student's parallel pass
(conditioned on that speaker, the same seeds), and as many clips are cut from
the held-out recordings. It reports:

(a) the teacher's bits per sample of the student's clips, of its own and of
    the real ones (16-bit levels; uniform is 16 bits);
(b) speaker identification by the teacher (argmax_s log p(clip | s), the
    `arzoo eval --speaker-id` machinery) of the student's clips and of its own;
(c) the log-spectral distance (dB, long-term spectra; `log_spectral_distance`)
    of each generated clip to the real clips of its speaker, averaged, for
    the student, the teacher and white noise at the real clips' level;
(d) RMS levels of each kind of clip; the student's exact bits per sample of
    the real clips (its density, the sequential inversion); how many of the
    student's parallel draws a sequential redraw given their own prefix
    changes (quantization of what its flows read, near ties, clipping);
and writes spectrograms.png (real | teacher | student, one speaker) and the
WAVs under `--out`.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import arzoo  # noqa: E402
from arzoo.data.audio import spectrogram_figure, write_wav  # noqa: E402
from arzoo.data.audio_load import load_audio_dataset  # noqa: E402
from arzoo.evaluation.speaker_id import speaker_log_likelihoods  # noqa: E402
from arzoo.runs import open_run  # noqa: E402
from arzoo.sampling import row_seeds, step_uniforms  # noqa: E402
from arzoo.training.distillation import log_spectral_distance  # noqa: E402


def real_clips(model, per_speaker, length, seed=0):
    """`{speaker: [float audio [length]]}` cut from the held-out recordings."""
    rng = np.random.default_rng(seed)
    clips = {}
    for example in load_audio_dataset("speech_corpus", "test", model.sample_rate).as_numpy_iterator():
        audio, speaker = example["audio"], int(example["speaker"])
        if len(audio) < length or len(clips.get(speaker, [])) >= per_speaker:
            continue
        start = rng.integers(0, len(audio) - length + 1)
        clips.setdefault(speaker, []).append(audio[start : start + length])
    return clips


def bits_per_sample(model, levels, speakers):
    log_prob = tf.function(lambda x, s: tf.reduce_sum(model.teacher_forced_log_probs(x, s), axis=1),
                           reduce_retracing=True, autograph=False)
    total = np.concatenate([log_prob(tf.constant(levels[i : i + 16]), tf.constant(speakers[i : i + 16])).numpy()
                            for i in range(0, len(levels), 16)])
    return float(-total.sum() / (levels.size * np.log(2.0)))


def identification(model, levels, speakers):
    scores = speaker_log_likelihoods(model, levels)
    return float(np.mean(scores.argmax(axis=1) == speakers))


def redraw_differences(student, levels, seeds):
    """How the student's parallel draws differ from a sequential redraw from
    its density given their own prefix, with the same uniforms: the fraction
    changed, the mean and 99th percentile of |change| in levels, and the
    median conditional scale in levels."""
    length = levels.shape[1]
    params = student(tf.constant(levels), tf.constant(np.asarray(seeds[1])))
    mu, log_scale = student.head.split(params)
    uniforms = step_uniforms(seeds[0], length, 1)[..., 0]
    redrawn = student.head.quantize(mu + tf.exp(log_scale) * student.noise_from_uniforms(uniforms)).numpy()
    change = np.abs(redrawn.astype(np.int64) - levels)
    return {
        "fraction": float(np.mean(change > 0)),
        "mean_levels": float(change.mean()),
        "p99_levels": float(np.percentile(change, 99)),
        "median_scale_levels": float(np.median(np.exp(log_scale.numpy())) * (student.num_levels - 1) / 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--student", required=True)
    parser.add_argument("--per-speaker", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="parallel_wavenet_quality")
    args = parser.parse_args(argv)

    teacher, student = open_run(args.teacher).model, open_run(args.student).model
    rate = teacher.sample_rate
    length = int(args.seconds * rate)
    real = real_clips(teacher, args.per_speaker, length, args.seed)
    speaker_ids = sorted(real)
    speakers = np.repeat(np.array(speaker_ids, np.int32), args.per_speaker)
    real_audio = np.stack([clip for s in speaker_ids for clip in real[s]])
    real_levels = np.asarray(teacher.encode_audio(np.clip(real_audio, -1, 1)))
    seeds = row_seeds(args.seed, len(speakers))

    start = time.perf_counter()
    teacher_levels = teacher.sample(seeds=seeds, condition=speakers, length=length).numpy()
    teacher_seconds = time.perf_counter() - start
    start = time.perf_counter()
    student_levels = student.sample(seeds=seeds, condition=speakers, length=length).numpy()
    student_seconds = time.perf_counter() - start
    audio = {
        "real": real_audio,
        "teacher": np.asarray(teacher.decode_audio(teacher_levels)),
        "student": np.asarray(student.decode_audio(student_levels)),
    }
    rms = {name: float(np.sqrt(np.mean(np.square(clips)))) for name, clips in audio.items()}
    noise = np.random.default_rng(args.seed).normal(scale=rms["real"], size=real_audio.shape).astype(np.float32)
    audio_lsd = dict(audio, white_noise=noise)

    def mean_lsd(name):
        return float(np.mean([
            np.mean([log_spectral_distance(clip, other) for other in real[speakers[i]]])
            for i, clip in enumerate(audio_lsd[name])
        ]))

    report = {
        "clips": len(speakers), "seconds": args.seconds, "speakers": speaker_ids,
        "teacher_bits_per_sample": {
            "student": bits_per_sample(teacher, student_levels, speakers),
            "teacher": bits_per_sample(teacher, teacher_levels, speakers),
            "real": bits_per_sample(teacher, real_levels, speakers),
        },
        "speaker_identification_by_teacher": {
            "student": identification(teacher, student_levels, speakers),
            "teacher": identification(teacher, teacher_levels, speakers),
            "real": identification(teacher, real_levels, speakers),
            "chance": 1.0 / teacher.num_speakers,
        },
        "log_spectral_distance_db": {name: mean_lsd(name) for name in ("student", "teacher", "white_noise")},
        "rms": rms,
        "student_bits_per_sample_of_real": bits_per_sample(student, real_levels, speakers),
        "student_redraw_differences": redraw_differences(student, student_levels, (seeds, speakers)),
        "sampling_seconds": {"teacher": teacher_seconds, "student": student_seconds},
    }
    os.makedirs(args.out, exist_ok=True)
    first = slice(0, 1)
    spectrogram_figure(os.path.join(args.out, "spectrograms.png"),
                       {f"{name} (speaker {speakers[0]})": audio[name][first][0] for name in audio}, rate)
    for name, clips in audio.items():
        for i, clip in enumerate(clips):
            write_wav(os.path.join(args.out, f"{name}_{i}_speaker{speakers[i]}.wav"), np.clip(clip, -1, 1), rate)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

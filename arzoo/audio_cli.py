"""The audio side of the `arzoo` command: WaveNet sampling to WAV, evaluation
in bits per sample, the offline speech corpus. `arzoo.cli` dispatches here
when a run's model is an audio model."""

import os
import sys
import time

import numpy as np


def evaluate_audio_run(run, split=None, max_examples=None, batch_size=16, baselines=True, speaker_id=False):
    """Test bits per sample of a WaveNet run next to the uniform and
    independent-sample baselines (and, with `speaker_id`, the speaker
    identification accuracy on one-second clips)."""
    import tensorflow as tf

    from arzoo.training.input_pipeline import load_model_split

    data = run.config["data"]
    model = run.model
    split = split or data.test_split
    max_examples = max_examples or data.max_test_examples
    clips = load_model_split(data, split, model)
    if max_examples is not None:
        clips = clips.take(max_examples)
    nll = tf.function(
        lambda x, c: -tf.reduce_sum(model.teacher_forced_log_probs(x, c), axis=1), reduce_retracing=True
    )
    total, count, samples, test_levels = 0.0, 0, 0, []
    for batch in clips.batch(batch_size).as_numpy_iterator():
        x, condition = model.inputs_from_batch(batch)
        total += float(np.sum(nll(tf.constant(x), condition)))
        count += len(x)
        samples += x.size
        test_levels.append(np.asarray(x).ravel())
    if count == 0:
        raise ValueError(f"The {split!r} split gave no clips.")
    result = {
        "dataset": data.dataset,
        "split": split,
        "num_clips": count,
        "clip_length": data.clip_length,
        "bits_per_sample": total / (samples * np.log(2.0)),
        "nats_per_clip": total / count,
    }
    if baselines:
        train = load_model_split(data, data.train_split, model).take(max(count, 64))
        counts = np.ones(model.num_levels)  # add-one smoothing
        for example in train.as_numpy_iterator():
            np.add.at(counts, example["audio"], 1)
        log2_p = np.log2(counts / counts.sum())
        levels = np.concatenate(test_levels)
        result["baselines"] = {
            "uniform": {"bits_per_sample": float(np.log2(model.num_levels))},
            "independent_samples": {"bits_per_sample": float(-log2_p[levels].mean())},
        }
    if speaker_id:
        from arzoo.data.audio_load import load_audio_dataset
        from arzoo.data.audio_pipeline import audio_clips
        from arzoo.evaluation import identify_speakers

        recordings = load_audio_dataset(
            data.dataset, split, model.sample_rate, data_dir=data.data_dir, wav_folder=data.wav_folder
        )
        one_second = audio_clips(
            recordings, clip_length=model.sample_rate, encode=model.encode_audio,
            sample_rate=model.sample_rate, hop_length=model.hop_length, seed=data.shuffle_seed,
        )
        result["speaker_identification"] = identify_speakers(model, one_second, max_examples).summary()
    return result


def _speakers(model, speaker, count):
    if not model.num_speakers:
        if speaker is not None:
            raise ValueError("--speaker was given but the model is not conditioned on speakers.")
        return None
    if speaker is None:
        return np.arange(count, dtype=np.int32) % model.num_speakers
    if not 0 <= speaker < model.num_speakers:
        raise ValueError(f"--speaker {speaker}: this model knows speakers 0 ... {model.num_speakers - 1}.")
    return np.full(count, speaker, np.int32)


def _read_input_wav(path, model, what):
    from arzoo.data.audio import check_audio, read_wav

    audio, rate = read_wav(path)
    return check_audio(audio, rate, model.sample_rate, name=f"{what} {path}")


def sample_audio(args, run):
    """`arzoo sample` for audio models: WAVs, levels (.npy) and a spectrogram PNG."""
    import tensorflow as tf

    from arzoo.data.audio import spectrogram_figure, write_wav
    from arzoo.data.audio_pipeline import wavenet_features
    from arzoo.files import atomic_path

    model = run.model
    count = args.n
    speaker = _speakers(model, args.speaker, count)
    features, reference, prefix = None, None, None
    length = int(round(args.seconds * model.sample_rate)) if args.seconds else None
    if model.local_channels:
        if not args.features_from:
            raise ValueError(
                "This WaveNet is conditioned on log-mel features (a vocoder): give "
                "--features-from a WAV file to take them from."
            )
        reference = _read_input_wav(args.features_from, model, "--features-from")
        mel = wavenet_features(
            reference, model.sample_rate, model.local_channels, model.hop_length,
            run.config["data"].feature_frame_length if run.config else None,
        ).numpy()
        features = np.repeat(mel[None], count, axis=0)
        length = length or len(reference)
    elif args.features_from:
        raise ValueError("--features-from was given but the model takes no local features.")
    condition = model.join_condition(speaker, features)
    if args.continue_from:
        prefix = _read_input_wav(args.continue_from, model, "--continue-from")
        known = int(round(args.prefix_seconds * model.sample_rate))
        if not 0 < known <= len(prefix):
            raise ValueError(
                f"--prefix-seconds {args.prefix_seconds} gives {known} samples; the file has {len(prefix)}."
            )
        length = length or (known + model.sample_rate)
        x = np.zeros((count, length), np.int32)
        mask = np.zeros_like(x)
        x[:, :known] = np.asarray(model.encode_audio(prefix[:known]))
        mask[:, :known] = 1
    length = length or model.sample_length
    print(f"generating {count} x {length} samples ({length / model.sample_rate:.2f} s at "
          f"{model.sample_rate} Hz, method={args.method}) ...", file=sys.stderr)
    start = time.time()
    if prefix is not None:
        levels = model.complete(x, mask, seed=args.seed, condition=condition,
                                temperature=args.temperature, method=args.method)
    else:
        levels = model.sample(count, seed=args.seed, condition=condition,
                              temperature=args.temperature, method=args.method, length=length)
    levels = np.asarray(levels)
    elapsed = time.time() - start
    audio = np.clip(np.asarray(model.decode_audio(tf.constant(levels))), -1.0, 1.0)
    out = args.out if not args.out.endswith(".png") else os.path.splitext(args.out)[0]
    os.makedirs(out, exist_ok=True)
    wavs = []
    for i, clip in enumerate(audio):
        wavs.append(os.path.join(out, f"sample_{i}.wav"))
        write_wav(wavs[-1], clip, model.sample_rate)
    npy = os.path.join(out, "samples.npy")
    with atomic_path(npy) as temporary:
        np.save(temporary, levels)
    panels = {f"generated {i}": clip for i, clip in enumerate(audio[:4])}
    if reference is None and run.config is not None:
        reference = _real_recording(run)
    if reference is not None:
        panels["real"] = reference[: max(length, 1)]
    figure = spectrogram_figure(os.path.join(out, "spectrograms.png"), panels, model.sample_rate)
    rate = count * length / elapsed
    return {
        "wavs": wavs,
        "levels": npy,
        "spectrograms": figure,
        "seconds": elapsed,
        "samples_per_second": rate,
        "real_time_factor": rate / model.sample_rate,
        "note": "the first call includes tracing and XLA compilation",
    }


def _real_recording(run):
    """The first test recording of the run's dataset, or None if unavailable."""
    from arzoo.data.audio_load import load_audio_dataset

    data = run.config["data"]
    try:
        recordings = load_audio_dataset(
            data.dataset, data.test_split, run.model.sample_rate,
            data_dir=data.data_dir, wav_folder=data.wav_folder,
        )
        return next(recordings.take(1).as_numpy_iterator())["audio"]
    except Exception as err:  # the figure is a bonus: say why it lacks the real panel
        print(f"note: no real recording for the spectrogram figure ({err})", file=sys.stderr)
        return None


def cmd_data(args):
    """`arzoo data speech-corpus`: synthesise the offline speech corpus."""
    from arzoo.data.speech_corpus import make_speech_corpus

    manifest = make_speech_corpus(
        args.out, sample_rate=args.sample_rate, voices=args.voices or None,
        max_sentences=args.max_sentences, progress=not args.no_progress,
    )
    return {
        "out": args.out,
        "sample_rate": manifest["sample_rate"],
        "speakers": sorted(manifest["speakers"]),
        "files": manifest["count"],
        "total_seconds": manifest["total_seconds"],
    }

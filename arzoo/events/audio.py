"""Audio: `[B, T]` integer levels (mu-law or linear PCM) at the model's
sample rate, with speaker ids and log-mel features as conditions (WaveNet)."""

import os
import time

import numpy as np

from arzoo.events.base import EventSpace

DEFAULT_MAX_SECONDS = 10  # the longest audio a request may ask for or send, by default

# Evaluation clips are cut at places fixed by this seed (training's are random).
EVAL_CLIP_SEED = 1234


# How much of a --continue-from file `arzoo sample` keeps by default.
DEFAULT_PREFIX_SECONDS = 0.5


class AudioSpace(EventSpace):
    name = "audio"
    sample_options = ("--seconds", "--speaker", "--features-from", "--continue-from", "--prefix-seconds")
    unit = "bits/sample"
    training_metric = "bits_per_sample"

    def load_split(self, data, split, training=False):
        """One clip of `data.clip_length` levels from every recording, with
        speaker ids and, for local conditioning, log-mel features (at random
        places; the same places in every evaluation)."""
        from arzoo.data import load_audio_dataset
        from arzoo.data.audio_pipeline import audio_clips

        model = self.model
        if data.clip_length is None:
            raise ValueError(
                "An audio model trains on clips: set data.clip_length (samples per clip, "
                f"e.g. {model.sample_rate // 2} for half a second at {model.sample_rate} Hz)."
            )
        recordings = load_audio_dataset(
            data.dataset, split, model.sample_rate, data_dir=data.data_dir, wav_folder=data.wav_folder
        )
        return audio_clips(
            recordings,
            clip_length=data.clip_length,
            encode=model.encode_audio,
            sample_rate=model.sample_rate,
            hop_length=model.hop_length,
            num_mels=model.local_channels,
            frame_length=data.feature_frame_length or 4 * model.hop_length,
            # The start of a recording is often silence: random places for
            # training, places fixed by one seed for evaluation.
            seed=data.shuffle_seed if training else EVAL_CLIP_SEED,
            random_crop=True,
        )

    def check_element_spec(self, spec, name="dataset"):
        model = self.model
        if not isinstance(spec, dict) or "audio" not in spec or spec["audio"].shape.rank != 1:
            raise ValueError(
                f"The {name} must yield dicts with 'audio' (int32 levels [T]), 'speaker' "
                f"and, for local conditioning, 'features'; got {spec}."
            )
        if model.num_speakers and "speaker" not in spec:
            raise ValueError(f"The model is conditioned on speakers but the {name} has no 'speaker'.")
        if model.local_channels:
            features = spec.get("features")
            if features is None or features.shape.rank != 2 or features.shape[-1] != model.local_channels:
                raise ValueError(
                    f"The model takes local features [frames, {model.local_channels}] but the {name} "
                    f"yields {features}."
                )

    # ----- evaluation ---------------------------------------------------------

    def evaluate(self, run, split=None, max_examples=None, batch_size=None, baselines=True, speaker_id=False, **options):
        """Test bits per sample next to the uniform and independent-sample
        baselines (and, with `speaker_id`, the speaker identification accuracy
        on one-second clips)."""
        from arzoo.evaluation.likelihood import evaluate_sequences, independent_levels_baseline

        self.refuse_options(options, "audio models")
        data, model = run.config["data"], self.model
        split = split or data.test_split
        max_examples = max_examples or data.max_test_examples
        clips = self.load_split(data, split)
        if max_examples is not None:
            clips = clips.take(max_examples)
        report = evaluate_sequences(model, clips, min(batch_size or 16, 16), what=f"clips from the {split!r} split")
        result = {
            "dataset": data.dataset,
            "split": split,
            "num_clips": report.num_sequences,
            "clip_length": data.clip_length,
            "bits_per_sample": report.bits_per_step,
            "nats_per_clip": report.nats_per_sequence,
            "headline": f"{report.bits_per_step:.4f} bits/sample",
        }
        if baselines:
            train = self.load_split(data, data.train_split).take(max(report.num_sequences, 64))
            independent = independent_levels_baseline(
                (example["audio"] for example in train.as_numpy_iterator()), report.levels, model.num_levels
            )
            result["baselines"] = {
                "uniform": {"bits_per_sample": float(np.log2(model.num_levels))},
                "independent_samples": {"bits_per_sample": independent},
            }
        if speaker_id:
            result["speaker_identification"] = self._identify_speakers(data, split, max_examples)
        return result

    def _identify_speakers(self, data, split, max_examples):
        from arzoo.data.audio_load import load_audio_dataset
        from arzoo.data.audio_pipeline import audio_clips
        from arzoo.evaluation.speaker_id import identify_speakers

        model = self.model
        recordings = load_audio_dataset(
            data.dataset, split, model.sample_rate, data_dir=data.data_dir, wav_folder=data.wav_folder
        )
        one_second = audio_clips(
            recordings, clip_length=model.sample_rate, encode=model.encode_audio,
            sample_rate=model.sample_rate, hop_length=model.hop_length, seed=data.shuffle_seed,
        )
        return identify_speakers(model, one_second, max_examples).summary()

    # ----- sampling for people -------------------------------------------------

    def speakers(self, speaker, count, first_row=0):
        """Speaker ids for `count` samples: `speaker`, or 0, 1, ... cycling
        (from row `first_row`)."""
        model = self.model
        if not model.num_speakers:
            if speaker is not None:
                raise ValueError("--speaker was given but the model is not conditioned on speakers.")
            return None
        return self.ids_for(count, speaker, model.num_speakers, "--speaker", "speakers", first_row)

    def _read_input_wav(self, path, what):
        from arzoo.data.audio import check_audio, read_wav

        audio, rate = read_wav(path)
        return check_audio(audio, rate, self.model.sample_rate, name=f"{what} {path}")

    def sample_command(self, args, run):
        """WAVs, levels (.npy) and a spectrogram PNG (generated vs real) in
        the folder `--out`, drawn `--batch-size` clips at a time within
        `--max-memory`, each WAV written as its batch completes."""
        from arzoo.data.audio import spectrogram_figure, write_wav
        from arzoo.data.audio_pipeline import wavenet_features
        from arzoo.events.draws import DrawPlan, draw_in_batches, existing_folder
        from arzoo.sampling.seeds import row_seeds

        model = self.model
        count = args.n
        out = args.out if not args.out.endswith(".png") else os.path.splitext(args.out)[0]
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(
                f"--out {out!r} is a file; audio samples go into a folder (WAV files, samples.npy, "
                "spectrograms.png): give a folder (created if missing)."
            )
        first_speaker = self.speakers(args.speaker, 1)  # checks --speaker before anything is drawn
        mel, reference, prefix, known = None, None, None, 0
        length = int(round(args.seconds * model.sample_rate)) if args.seconds else None
        if model.local_channels:
            if not args.features_from:
                raise ValueError(
                    "This WaveNet is conditioned on log-mel features (a vocoder): give "
                    "--features-from a WAV file to take them from."
                )
            reference = self._read_input_wav(args.features_from, "--features-from")
            mel = wavenet_features(
                reference, model.sample_rate, model.local_channels, model.hop_length,
                run.config["data"].feature_frame_length if run.config else None,
            ).numpy()
            length = length or len(reference)
        elif args.features_from:
            raise ValueError("--features-from was given but the model takes no local features.")
        if args.prefix_seconds is not None and not args.continue_from:
            raise ValueError("--prefix-seconds applies with --continue-from only.")
        if args.continue_from:
            prefix = self._read_input_wav(args.continue_from, "--continue-from")
            prefix_seconds = DEFAULT_PREFIX_SECONDS if args.prefix_seconds is None else args.prefix_seconds
            known = int(round(prefix_seconds * model.sample_rate))
            if not 0 < known <= len(prefix):
                raise ValueError(
                    f"--prefix-seconds {prefix_seconds} gives {known} samples; the file has {len(prefix)}."
                )
            length = length or (known + model.sample_rate)
            prefix = np.asarray(model.encode_audio(prefix[:known]))
        length = length or model.sample_length

        def condition_for(start, rows):
            features = None if mel is None else np.repeat(mel[None], rows, axis=0)
            return model.join_condition(self.speakers(args.speaker, rows, start), features)

        seconds = length / model.sample_rate
        plan = DrawPlan.for_model(
            model, count, args.batch_size, length, 1, 6 * length, 4,
            f"--n {count} clips of {seconds:g} s ({length} samples at {model.sample_rate} Hz)",
            condition_for(0, 1) if first_speaker is not None or mel is not None else None,
        )
        plan.check(args.max_memory, existing_folder(out))
        os.makedirs(out, exist_ok=True)
        self.say(f"generating {count} x {length} samples ({seconds:.2f} s at {model.sample_rate} Hz, "
                 f"method={args.method or model.default_sampling_method}, {plan.batch_size} at a time) ...")

        def draw(start, stop):
            rows = stop - start
            seeds = row_seeds(args.seed, rows, start)
            condition = condition_for(start, rows)
            if prefix is None:
                return model.sample(seeds=seeds, condition=condition, temperature=args.temperature,
                                    method=args.method, length=length)
            x = np.zeros((rows, length), np.int32)
            mask = np.zeros_like(x)
            x[:, :known], mask[:, :known] = prefix, 1
            return model.complete(x, mask, seeds=seeds, condition=condition, temperature=args.temperature,
                                  method=args.method)

        wavs = []

        def write_clips(start, levels):
            for i, clip in enumerate(self._decoded(levels)):
                wavs.append(os.path.join(out, f"sample_{start + i}.wav"))
                write_wav(wavs[-1], clip, model.sample_rate)

        start = time.time()
        first = draw_in_batches(plan, draw, os.path.join(out, "samples.npy"), (length,), np.int32, keep=4,
                                on_rows=write_clips, unit="clips")
        elapsed = time.time() - start
        panels = {f"generated {i}": clip for i, clip in enumerate(self._decoded(first))}
        if reference is None and run.config is not None:
            reference = self._real_recording(run)
        if reference is not None:
            panels["real"] = reference[: max(length, 1)]
        figure = spectrogram_figure(os.path.join(out, "spectrograms.png"), panels, model.sample_rate)
        rate = count * length / elapsed
        return {
            "wavs": wavs,
            "levels": os.path.join(out, "samples.npy"),
            "spectrograms": figure,
            "seconds": elapsed,
            "samples_per_second": rate,
            "real_time_factor": rate / model.sample_rate,
            "note": "the first call includes tracing and XLA compilation",
        }

    def _decoded(self, levels):
        """int levels `[B, T]` -> float audio in [-1, 1]."""
        import tensorflow as tf

        return np.clip(np.asarray(self.model.decode_audio(tf.constant(np.asarray(levels)))), -1.0, 1.0)

    def _real_recording(self, run):
        """The first test recording of the run's dataset, or None if unavailable."""
        from arzoo.data.audio_load import load_audio_dataset

        data = run.config["data"]
        try:
            recordings = load_audio_dataset(
                data.dataset, data.test_split, self.model.sample_rate,
                data_dir=data.data_dir, wav_folder=data.wav_folder,
            )
            return next(recordings.take(1).as_numpy_iterator())["audio"]
        except Exception as err:  # the figure is a bonus: say why it lacks the real panel
            self.say(f"note: no real recording for the spectrogram figure ({err})")
            return None

    def write_training_samples(self, writer, step, num_samples, seed, output_dir):
        """`<output_dir>/samples/step<step>_<i>.wav`: unconditional models and
        speaker models (speaker i mod num_speakers); models that need local
        features have none to draw from here and write nothing."""
        from arzoo.data.audio import write_wav

        model = self.model
        if model.local_channels or output_dir is None:
            return []
        levels = model.sample(num_samples, seed=[int(seed), int(step)], condition=self.speakers(None, num_samples))
        audio = np.clip(np.asarray(model.decode_audio(levels)), -1.0, 1.0)
        folder = os.path.join(output_dir, "samples")
        os.makedirs(folder, exist_ok=True)
        paths = []
        for i, clip in enumerate(audio):
            paths.append(os.path.join(folder, f"step{int(step)}_{i}.wav"))
            write_wav(paths[-1], clip, model.sample_rate)
        return paths

    @classmethod
    def client_sample(cls, client, args, info):
        """WAV files (and the levels as .npy) in the folder `--out`."""
        from arzoo.data.audio import write_wav
        from arzoo.files import atomic_save_npy

        cls.refuse_options({"--label": args.label, "--length": args.length, "--prompt": args.prompt,
                            "--num-levels": args.num_levels}, "audio models (they take --seconds, --speaker)")
        if info.get("local_channels"):
            raise ValueError(
                "The served model is conditioned on log-mel features (a vocoder): call it from Python "
                "with arzoo.serving.client.Client(...).sample_audio(seeds, features=...)."
            )
        rate = int(info["sample_rate"])
        length = int(round(args.seconds * rate)) if args.seconds is not None else int(info["sample_length"])
        if length < 1:
            raise ValueError(f"--seconds {args.seconds} gives {length} samples at {rate} Hz; give more.")
        speakers = None
        if info.get("num_speakers"):
            speakers = cls.ids_for(args.n, args.speaker, int(info["num_speakers"]), "--speaker", "speakers")
        elif args.speaker is not None:
            raise ValueError("--speaker was given but the served model is not conditioned on speakers.")
        audio = []

        def draw(seeds, rows):
            levels, clips = client.sample_audio(seeds, args.temperature, length,
                                                speaker=None if speakers is None else speakers[rows])
            audio.append(clips)
            return levels

        levels, elapsed = cls.client_rows(client, args, draw)
        out = os.path.splitext(args.out)[0] if args.out.endswith(".png") else args.out
        os.makedirs(out, exist_ok=True)
        wavs = []
        for i, clip in enumerate(np.concatenate(audio)):
            wavs.append(os.path.join(out, f"sample_{i}.wav"))
            write_wav(wavs[-1], np.clip(clip, -1.0, 1.0), rate)
        npy = os.path.join(out, "samples.npy")
        atomic_save_npy(npy, levels)
        return {"wavs": wavs, "levels": npy, "num_samples": args.n, "seconds": elapsed,
                "real_time_factor": args.n * length / elapsed / rate}

    # ----- the causality audit ---------------------------------------------------

    def default_audit_length(self):
        """Twice the receptive field, so the middle step shows all of it."""
        return 2 * int(self.model.receptive_field)

    def audit_inputs(self, count, length):
        model = self.model
        rng = np.random.default_rng(0)
        x = rng.uniform(0, model.num_levels - 1, size=(count, length)).astype(np.float32)
        return x, model.dummy_condition(count, length)

    # ----- serving --------------------------------------------------------------

    score_output = "bits_per_sample"
    step_unit = "samples"
    rows_advance_together = True  # a WaveNet state's queues advance as one

    def serving_max_length(self, max_length):
        return self.checked_max_length(max_length, DEFAULT_MAX_SECONDS * self.model.sample_rate, "samples")

    def serving_event_spec(self, name):
        import tensorflow as tf

        return tf.TensorSpec([None, None], tf.int32, name=name)

    def serving_condition_specs(self):
        """`speaker` [B] int32 (speaker models), `features` [B, F, local_channels] float32 (local conditioning)."""
        import tensorflow as tf

        model = self.model
        specs = []
        if model.num_speakers:
            specs.append(tf.TensorSpec([None], tf.int32, name="speaker"))
        if model.local_channels:
            specs.append(tf.TensorSpec([None, None, model.local_channels], tf.float32, name="features"))
        return specs

    def serving_condition(self, inputs):
        return self.model.join_condition(inputs.get("speaker"), inputs.get("features"))

    def serving_example_condition(self, batch, length=None):
        model = self.model
        inputs = {}
        if model.num_speakers:
            inputs["speaker"] = np.zeros([batch], np.int32)
        if model.local_channels:
            frames = -(-length // model.hop_length)
            inputs["features"] = np.zeros([batch, frames, model.local_channels], np.float32)
        return inputs

    def serving_condition_checks(self, module, inputs, length=None):
        """Speaker ids known; features finite, within max_length and, given
        `length`, covering that many samples."""
        import tensorflow as tf

        speaker, features = inputs.get("speaker"), inputs.get("features")
        checks = []
        if speaker is not None:
            checks += module.check_ids("speaker", speaker, "speaker id", "num_speakers", self.model.num_speakers)
        if features is not None:
            hop = self.model.hop_length
            checks.append(tf.debugging.assert_all_finite(features, "input 'features' is not finite"))
            checks += module.check_length("features", tf.shape(features)[1] * hop, "samples")
            if length is not None:
                checks.append(
                    tf.debugging.assert_greater_equal(
                        tf.shape(features)[1] * hop, length,
                        message=f"input 'features' is too short: its frames x hop_length={hop} must cover "
                        "every sample asked for",
                    )
                )
        return checks

    def serving_length_given_by_condition(self):
        return bool(self.model.local_channels)

    def serving_length_from_condition(self, inputs):
        """Vocoders draw frames x hop_length samples."""
        import tensorflow as tf

        features = inputs.get("features")
        return None if features is None else tf.shape(features)[1] * self.model.hop_length

    def serving_sample_outputs(self, samples):
        """`audio`: the samples decoded to [-1, 1] by the model's companding."""
        return {"audio": self.model.decode_audio(samples)}

    def serving_metadata(self, module):
        model = self.model
        return {
            "num_levels": model.num_levels,
            "sample_rate": model.sample_rate,
            "hop_length": model.hop_length,
            "sample_length": model.sample_length,
            "max_length": module.max_length,
            "max_batch_size": module.max_batch_size,
            "num_speakers": model.num_speakers or 0,
            "local_channels": model.local_channels or 0,
            "receptive_field": model.receptive_field,
        }

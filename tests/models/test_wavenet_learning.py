"""WaveNet learns what it is given: a chord, who is speaking, what log-mel says.

Small models and budgets so each test takes well under a minute on 2 cores;
the full-size speaker identification figure lives in benchmarks/ and
BENCHMARKS.md.
"""

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.data import make_speech_corpus
from arzoo.data.audio_pipeline import audio_clips, wavenet_features
from arzoo.data.audio_load import load_audio_dataset
from arzoo.evaluation import identify_speakers
from arzoo.training import train

SAMPLE_RATE = 8000
CHORD_HZ = (400.0, 1000.0)


def chord(length, sample_rate=SAMPLE_RATE):
    t = np.arange(length) / sample_rate
    return (0.4 * np.sin(2 * np.pi * CHORD_HZ[0] * t) + 0.4 * np.sin(2 * np.pi * CHORD_HZ[1] * t)).astype(np.float32)


def test_overfits_a_chord_and_generates_it():
    """ibab/tensorflow-wavenet's overfitting test, with the incremental
    generation check asserted: the loss falls under 2% of its start and the
    generated audio's power peaks at the chord's frequencies, cached
    generation equal to naive."""
    tf.keras.utils.set_random_seed(0)
    model = arzoo.build_model(dict(
        family="wavenet", num_levels=256, dilations=[1, 2, 4, 8, 16, 32],
        residual_channels=16, gate_channels=16, skip_channels=32, output_channels=64,
        sample_rate=SAMPLE_RATE, sample_length=1024,
    ))
    x = model.encode_audio(chord(1024))[None]
    optimizer = tf.keras.optimizers.Adam(3e-3)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.teacher_forced_log_probs(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    losses = [float(step()) for _ in range(400)]
    assert losses[-1] < 0.02 * losses[0], (losses[0], losses[-1])

    generated = model.sample(2, seed=3, length=1024)
    np.testing.assert_array_equal(generated, model.sample(2, seed=3, length=1024, method="naive"))
    audio = np.asarray(model.decode_audio(generated))
    for row in audio:
        # Skip the first receptive field's worth of samples: the start is
        # generated from silence.
        power = np.abs(np.fft.rfft(row[256:] * np.hanning(768))) ** 2
        freqs = np.fft.rfftfreq(768, 1.0 / SAMPLE_RATE)
        top_two = sorted(freqs[np.argsort(power)[-2:]])
        bin_width = SAMPLE_RATE / 768
        np.testing.assert_allclose(top_two, CHORD_HZ, atol=bin_width)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Three clearly different voices, eight sentences each, at 8 kHz."""
    folder = tmp_path_factory.mktemp("corpus")
    make_speech_corpus(
        folder, sample_rate=SAMPLE_RATE, voices=["festival_kal", "espeak_f2", "espeak_m3"],
        max_sentences=8, progress=False,
    )
    return folder


def audio_config(folder, **model):
    section = dict(
        family="wavenet", num_levels=256, dilations=[1, 2, 4, 8, 16, 32, 64, 128],
        residual_channels=16, gate_channels=16, skip_channels=32, output_channels=64,
        sample_rate=SAMPLE_RATE, hop_length=128,
    )
    section.update(model)
    return {
        "model": section,
        "data": dict(dataset="wav_folder", wav_folder=str(folder), batch_size=4, clip_length=2048),
        "training": dict(steps=150, learning_rate=3e-3, log_every=50, checkpoint_every=1000,
                         eval_every=150, jit_compile=True),
    }


@pytest.mark.extras
def test_global_conditioning_identifies_speakers(corpus, tmp_path):
    config = audio_config(corpus, num_speakers=3)
    result = train(config, tmp_path / "run", progress=False)
    model = result.model
    recordings = load_audio_dataset("wav_folder", "test", SAMPLE_RATE, wav_folder=str(corpus))
    # Four one-second clips from different places of every held-out recording.
    clips = audio_clips(recordings.repeat(4), clip_length=SAMPLE_RATE, encode=model.encode_audio,
                        sample_rate=SAMPLE_RATE, hop_length=model.hop_length, seed=1)
    report = identify_speakers(model, clips)
    assert report.num_clips >= 12
    # Chance is 1/3.
    assert report.accuracy >= 0.75, report.summary()


def noise_bursts(count, length, hop, seed):
    """White noise whose loudness jumps every `hop` samples (log-uniform over
    0.01 ... 0.8): the loudness of a hop is what log-mel frames say and what
    two samples of context cannot."""
    rng = np.random.default_rng(seed)
    loudness = np.exp(rng.uniform(np.log(0.01), np.log(0.8), size=(count, length // hop)))
    noise = rng.normal(size=(count, length)) * 0.35 * np.repeat(loudness, hop, axis=1)
    return np.clip(noise, -1.0, 1.0).astype(np.float32)


@pytest.mark.extras
def test_local_conditioning_lowers_bits_per_sample():
    """Same network, same data, same budget: with log-mel features (the
    same `wavenet_features` training and vocoding use) the test bits per
    sample are clearly lower. A short receptive field (3 samples) keeps the
    context from telling the loudness itself. (On the speech corpus at
    test-sized budgets the gain does not show yet: see BENCHMARKS.md.)"""
    hop, mels = 32, 16

    def train_and_test(local):
        tf.keras.utils.set_random_seed(0)
        model = arzoo.build_model(dict(
            family="wavenet", num_levels=256, dilations=[1], residual_channels=16, gate_channels=16,
            skip_channels=32, output_channels=64, sample_rate=SAMPLE_RATE, hop_length=hop,
            local_channels=mels if local else None,
        ))
        optimizer = tf.keras.optimizers.Adam(3e-3)

        def batch(audio):
            # One window per hop, so each frame describes its own hop only.
            condition = wavenet_features(audio, SAMPLE_RATE, mels, hop, frame_length=hop) if local else None
            return model.encode_audio(audio), condition

        @tf.function
        def step(x, condition):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(model.teacher_forced_log_probs(x, condition, training=True))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

        for i in range(300):
            step(*batch(noise_bursts(8, 1024, hop, seed=100 + i)))
        x, condition = batch(noise_bursts(16, 1024, hop, seed=7))
        return float(np.mean(model.bits_per_sample(x, condition)))

    without, with_features = train_and_test(False), train_and_test(True)
    print(f"noise bursts, test bits/sample: without features {without:.3f}, with {with_features:.3f}")
    assert with_features < without - 0.15, (with_features, without)

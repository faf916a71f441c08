"""The synthetic speech corpus, the wav_folder builder and load_audio_dataset."""

import json
import os
import shutil
import socket
import time
import warnings

import numpy as np
import pytest
import scipy.io.wavfile

from arzoo.data import (
    DatasetUnavailableError,
    audio_dataset_info,
    load_audio_dataset,
    read_wav,
    wav_folder_config,
)
from arzoo.data import audio_load, sources, speech_corpus
from arzoo.data.speech_corpus import SynthesisError, default_corpus_dir, make_speech_corpus

SENTENCES = ["Hello there.", "The cat sat down."]
TINY_VOICES = ["festival_kal", "festival_ked", "espeak_m1", "espeak_f2"]
needs_synthesisers = pytest.mark.skipif(
    shutil.which("text2wave") is None or shutil.which("espeak-ng") is None,
    reason="festival / espeak-ng not installed (make system-deps)",
)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    """2 sentences x (2 festival + 2 espeak-ng voices) at 16 kHz; (folder, seconds to build)."""
    if shutil.which("text2wave") is None or shutil.which("espeak-ng") is None:
        pytest.skip("festival / espeak-ng not installed (make system-deps)")
    out_dir = str(tmp_path_factory.mktemp("corpus") / "tiny")
    start = time.perf_counter()
    make_speech_corpus(out_dir, 16000, voices=TINY_VOICES, sentences=SENTENCES, progress=False)
    return out_dir, time.perf_counter() - start


def _mtimes(folder):
    return {
        os.path.relpath(os.path.join(root, name), folder): os.stat(os.path.join(root, name)).st_mtime_ns
        for root, _, names in os.walk(folder)
        for name in names
        if name.endswith((".wav", ".txt"))
    }


# ---- the corpus ----------------------------------------------------------------


def test_tiny_corpus_layout_transcripts_and_manifest(tiny_corpus):
    out_dir, _ = tiny_corpus
    assert sorted(os.listdir(out_dir)) == sorted(TINY_VOICES + ["corpus.json"])
    with open(os.path.join(out_dir, "corpus.json")) as f:
        manifest = json.load(f)
    assert manifest["sample_rate"] == 16000 and manifest["count"] == 8
    assert sorted(manifest["speakers"]) == sorted(TINY_VOICES)
    assert manifest["speakers"]["festival_ked"]["voice"] == "ked_diphone"
    for speaker in TINY_VOICES:
        assert sorted(os.listdir(os.path.join(out_dir, speaker))) == ["000.txt", "000.wav", "001.txt", "001.wav"]
        for index, sentence in enumerate(SENTENCES):
            stem = os.path.join(out_dir, speaker, f"{index:03d}")
            with open(stem + ".txt") as f:
                assert f.read().strip() == sentence
            audio, rate = read_wav(stem + ".wav")
            assert rate == 16000
            assert abs(np.abs(audio).max() - 0.9) <= 1 / 32768  # peak-normalised
            seconds = manifest["durations"][f"{speaker}/{index:03d}.wav"]
            assert seconds == pytest.approx(len(audio) / 16000, abs=1e-4)
            assert 0.5 < seconds < 5.0
    total = sum(manifest["durations"].values())
    assert manifest["total_seconds"] == pytest.approx(total, abs=1e-2)


def test_rerun_skips_existing_files_and_redoes_missing_ones(tiny_corpus):
    out_dir, build_seconds = tiny_corpus
    before = _mtimes(out_dir)
    start = time.perf_counter()
    make_speech_corpus(out_dir, 16000, voices=TINY_VOICES, sentences=SENTENCES, progress=False)
    assert time.perf_counter() - start < build_seconds
    assert _mtimes(out_dir) == before
    os.remove(os.path.join(out_dir, "espeak_m1", "001.wav"))
    make_speech_corpus(out_dir, 16000, voices=TINY_VOICES, sentences=SENTENCES, progress=False)
    after = _mtimes(out_dir)
    changed = {path for path in before if after[path] != before[path]}
    assert changed == {os.path.join("espeak_m1", "001.wav")}


def test_rerun_with_other_rate_or_sentences_is_refused(tiny_corpus):
    out_dir, _ = tiny_corpus
    with pytest.raises(ValueError, match="holds a corpus at 16000 Hz, not sample_rate=8000"):
        make_speech_corpus(out_dir, 8000, voices=TINY_VOICES, sentences=SENTENCES, progress=False)
    with pytest.raises(ValueError, match=r"000\.txt' says 'Hello there\.', not 'Goodbye\.'"):
        make_speech_corpus(out_dir, 16000, voices=TINY_VOICES, sentences=["Goodbye."], progress=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"unknown \['festival_bob'\]; allowed: festival_kal, "):
        make_speech_corpus("unused", voices=["festival_bob"])
    with pytest.raises(ValueError, match=r"sentences\[1\]='' must be a non-empty one-line string"):
        make_speech_corpus("unused", sentences=["Fine.", ""])
    with pytest.raises(ValueError, match="max_sentences must be a positive integer or None, got max_sentences=0"):
        make_speech_corpus("unused", max_sentences=0)
    with pytest.raises(ValueError, match="sample_rate must be a positive integer number of Hz, got sample_rate=0"):
        make_speech_corpus("unused", sample_rate=0)
    assert not os.path.exists("unused")


def test_missing_binary_names_the_debian_package(monkeypatch, tmp_path):
    real_which = shutil.which
    monkeypatch.setattr(
        speech_corpus.shutil, "which", lambda name: None if name == "espeak-ng" else real_which(name)
    )
    with pytest.raises(SynthesisError) as raised:
        make_speech_corpus(str(tmp_path), voices=["espeak_m1", "espeak_f2"], sentences=["Hi."])
    message = str(raised.value)
    assert "`espeak-ng` not found" in message and "espeak_m1, espeak_f2" in message
    assert "Debian package espeak-ng" in message and "make system-deps" in message


@needs_synthesisers
def test_voices_not_installed_are_skipped_with_a_warning_and_none_is_an_error(monkeypatch):
    monkeypatch.setattr(speech_corpus, "_festival_voices", lambda: {"kal_diphone"})
    with pytest.warns(UserWarning, match=r"'ked_diphone' \(speaker festival_ked\) is not installed.*festvox-kdlpc16k"):
        found = speech_corpus.installed_voices(
            [speech_corpus.VOICES["festival_kal"], speech_corpus.VOICES["festival_ked"]]
        )
    assert [v.speaker for v in found] == ["festival_kal"]
    monkeypatch.setattr(speech_corpus, "_festival_voices", lambda: set())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SynthesisError, match="none of the voices festival_ked is installed.*festvox-kdlpc16k"):
            speech_corpus.installed_voices([speech_corpus.VOICES["festival_ked"]])


def test_default_corpus_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path / "data"))
    assert default_corpus_dir() == str(tmp_path / "data" / "speech_corpus")
    monkeypatch.delenv("ARZOO_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_corpus_dir() == str(tmp_path / "cache" / "arzoo" / "speech_corpus")


# ---- wav_folder builder and load_audio_dataset ---------------------------------

# speaker -> (sample rate, tone Hz, number of files)
SPEAKERS = {"alice": (16000, 440.0, 5), "bob": (22050, 880.0, 4)}


def _tone(rate, frequency, seconds):
    t = np.arange(int(rate * seconds)) / rate
    return np.round(0.5 * np.sin(2 * np.pi * frequency * t) * 32767).astype(np.int16)


@pytest.fixture
def sine_folder(tmp_path):
    """alice: 5 x 16 kHz 440 Hz tones, bob: 4 x 22.05 kHz 880 Hz tones, lengths 0.1 s to 0.5 s;
    transcripts for alice only; one loose file at the top (speaker "unknown")."""
    folder = tmp_path / "voices"
    for speaker, (rate, frequency, count) in SPEAKERS.items():
        (folder / speaker).mkdir(parents=True)
        for i in range(count):
            scipy.io.wavfile.write(folder / speaker / f"{i}.wav", rate, _tone(rate, frequency, 0.1 * (i + 1)))
            if speaker == "alice":
                (folder / speaker / f"{i}.txt").write_text(f"alice says {i}\n")
    scipy.io.wavfile.write(folder / "loose.wav", 8000, _tone(8000, 200.0, 0.2))
    return folder


def _all_examples(folder, split, data_dir, sample_rate=16000):
    config = wav_folder_config(folder, sample_rate)
    builder = audio_load.AUDIO_BUILDERS["wav_folder"](config=config, data_dir=data_dir)
    builder.download_and_prepare()
    return list(builder.as_dataset(split=split).as_numpy_iterator()), builder


def test_wav_folder_speakers_splits_resampling_transcripts(sine_folder, tmp_path):
    data_dir = str(tmp_path / "tfds")
    train, builder = _all_examples(sine_folder, "train", data_dir)
    test, _ = _all_examples(sine_folder, "test", data_dir)
    names = builder.info.features["speaker"].names
    assert names == ["alice", "bob", "unknown"]
    assert builder.info.features["audio"].sample_rate == 16000
    # Stratified: both speakers with >= 2 files in both splits; the lone file in train.
    assert sorted(names[e["speaker"]] for e in test) == ["alice", "bob"]
    assert sorted(names[e["speaker"]] for e in train) == ["alice"] * 4 + ["bob"] * 3 + ["unknown"]
    by_name = {e["filename"].decode(): e for e in train + test}
    assert sorted(by_name) == sorted(
        [f"alice/{i}.wav" for i in range(5)] + [f"bob/{i}.wav" for i in range(4)] + ["loose.wav"]
    )
    for name, example in by_name.items():
        speaker = names[example["speaker"]]
        audio = example["audio"]
        assert audio.dtype == np.int16
        if speaker == "unknown":
            continue
        rate, frequency, _ = SPEAKERS[speaker]
        i = int(name.split("/")[1][0])
        assert len(audio) == int(np.ceil(int(rate * 0.1 * (i + 1)) * 16000 / rate))
        transcript = example["transcript"].decode()
        assert transcript == (f"alice says {i}" if speaker == "alice" else "")
        if i >= 1:  # >= 0.2 s: 5 Hz FFT bins
            spectrum = np.abs(np.fft.rfft(audio.astype(np.float64) * np.hanning(len(audio))))
            assert abs(np.argmax(spectrum) * 16000 / len(audio) - frequency) <= 16000 / len(audio)


def test_wav_folder_split_is_deterministic_per_file(sine_folder, tmp_path):
    def test_files():
        examples, _ = _all_examples(sine_folder, "test", str(tmp_path / f"tfds{len(seen)}"))
        return {e["filename"].decode() for e in examples}

    seen = []
    seen.append(test_files())
    seen.append(test_files())
    assert seen[0] == seen[1]  # same files, same split (in a fresh data_dir)
    # A new file for alice leaves bob's split alone and moves at most one of alice's.
    for i in range(3):
        scipy.io.wavfile.write(sine_folder / "alice" / f"extra{i}.wav", 16000, _tone(16000, 440.0, 0.1))
    seen.append(test_files())
    assert {f for f in seen[2] if f.startswith("bob/")} == {f for f in seen[0] if f.startswith("bob/")}
    old_alice = {f for f in seen[0] if f.startswith("alice/")}
    assert len(old_alice - seen[2]) <= 1
    assert len([f for f in seen[2] if f.startswith("alice/")]) == 1  # round(0.1 * 8) = 1


@pytest.mark.parametrize(
    "name, write, pattern",
    [
        ("stereo.wav", lambda p: scipy.io.wavfile.write(p, 16000, np.zeros((50, 2), np.int16)), r"has 2 channels"),
        ("empty.wav", lambda p: scipy.io.wavfile.write(p, 16000, np.zeros(0, np.int16)), r"is empty"),
        ("broken.wav", lambda p: p.write_bytes(b"RIFF....garbage"), r"cannot read WAV file"),
    ],
)
def test_wav_folder_bad_file_is_named(sine_folder, tmp_path, name, write, pattern):
    write(sine_folder / "bob" / name)
    with pytest.raises(ValueError, match=pattern) as raised:
        _all_examples(sine_folder, "train", str(tmp_path / "tfds"))
    assert name in str(raised.value)


def test_wav_folder_config_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        wav_folder_config(tmp_path / "nowhere", 16000)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .wav files found"):
        wav_folder_config(tmp_path / "empty", 16000)
    with pytest.raises(ValueError, match="sample_rate must be a positive integer number of Hz, got sample_rate=None"):
        wav_folder_config(tmp_path / "empty", None)


def test_load_audio_dataset_wav_folder(sine_folder, tmp_path):
    data_dir = str(tmp_path / "tfds")
    examples = list(
        load_audio_dataset("wav_folder", "train", 8000, wav_folder=str(sine_folder), data_dir=data_dir)
    )
    assert len(examples) == 8
    for example in examples:
        audio = example["audio"].numpy()
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert -1.0 <= audio.min() and audio.max() <= 1.0
        assert 0.45 < np.abs(audio).max() < 0.55  # the tones' amplitude, 0.5
        assert example["speaker"].dtype.name == "int32"
    info = audio_dataset_info("wav_folder", 8000, wav_folder=str(sine_folder), data_dir=data_dir)
    assert (info.num_speakers, info.speaker_names) == (3, ("alice", "bob", "unknown"))
    assert info.split_sizes == {"train": 8, "test": 2}
    with pytest.raises(ValueError, match="needs wav_folder=<path"):
        load_audio_dataset("wav_folder", "train", 8000)
    with pytest.raises(ValueError, match="applies only to name='wav_folder', got name='vctk'"):
        load_audio_dataset("vctk", "train", 8000, wav_folder=str(sine_folder))


def test_load_speech_corpus_reads_the_corpus_folder(tiny_corpus, monkeypatch, tmp_path):
    out_dir, _ = tiny_corpus
    monkeypatch.setattr(audio_load, "ensure_speech_corpus", lambda sample_rate: out_dir)
    dataset = load_audio_dataset("speech_corpus", "test", 16000, data_dir=str(tmp_path))
    speakers = sorted(int(e["speaker"]) for e in dataset)
    assert speakers == [0, 1, 2, 3]  # one of the two sentences per speaker
    info = audio_dataset_info("speech_corpus", 16000, data_dir=str(tmp_path))
    assert info.speaker_names == tuple(sorted(TINY_VOICES))


def test_catalogue_audio_info_offline_and_fast_failure(monkeypatch, tmp_path):
    info = audio_dataset_info("speech_commands", 8000, data_dir=str(tmp_path))
    assert (info.native_sample_rate, info.sample_rate, info.num_speakers) == (16000, 8000, 12)
    assert audio_dataset_info("vctk", data_dir=str(tmp_path)).num_speakers == 110

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sources.socket, "getaddrinfo", no_dns)
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as raised:
        load_audio_dataset("speech_commands", "train", 16000, data_dir=str(tmp_path))
    assert time.perf_counter() - start < 5
    message = str(raised.value)
    assert "'speech_commands'" in message and "speech_corpus, wav_folder" in message
    with pytest.raises(ValueError, match="Unknown audio dataset name='no_such_set'"):
        load_audio_dataset("no_such_set", "train", 16000, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="has no audio feature"):
        audio_dataset_info("mnist", data_dir=str(tmp_path))


@needs_synthesisers
def test_data_command_writes_where_speech_corpus_reads(tmp_path, monkeypatch, capsys):
    """README's order: `arzoo data speech-corpus`, then a config naming
    `speech_corpus` trains on that corpus, without synthesising it again."""
    from arzoo.cli import main

    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path))
    assert main(["data", "speech-corpus", "--voices", "espeak_m1", "--max-sentences", "2", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["out"] == os.path.join(default_corpus_dir(), "16000hz")
    assert report["out"].startswith(str(tmp_path)) and "reads this folder" in report["use"]

    def no_synthesis(*args, **kwargs):
        raise AssertionError("the corpus was synthesised again")

    monkeypatch.setattr(speech_corpus, "make_speech_corpus", no_synthesis)
    source = audio_load.open_audio_source("speech_corpus", 16000, data_dir=str(tmp_path / "tfds"))
    assert source.speaker_names == ("espeak_m1",)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.undo()
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path))
    assert main(["data", "speech-corpus", "--out", str(elsewhere), "--voices", "espeak_m1", "--max-sentences", "1",
                 "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert f"--set data.dataset=wav_folder --set data.wav_folder={elsewhere}" in report["use"]

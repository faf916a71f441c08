"""The `arzoo` command line for audio: corpus, train, eval, sample to WAV."""

import numpy as np
import pytest

from arzoo.cli import main
from arzoo.data.audio import read_wav, write_wav
from tests.test_case import REPO
from tests.test_cli import last_json

TINY = str(REPO / "zoo_configs" / "tiny" / "wavenet.yaml")
RATE = 8000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_audio") / "corpus"
    code = main(["data", "speech-corpus", "--out", str(out), "--sample-rate", str(RATE),
                 "--voices", "festival_kal", "espeak_f2", "--max-sentences", "3", "--no-progress"])
    assert code == 0
    return out


def run_folder(root, corpus, name, *overrides):
    out = root / name
    code = main(["train", TINY, "--output", str(out), "--no-progress",
                 "--set", "data.dataset=wav_folder", "--set", f"data.wav_folder={corpus}",
                 "--set", "model.num_levels=256", "--set", f"model.sample_rate={RATE}",
                 "--set", "data.clip_length=256", "--set", "training.steps=40",
                 "--set", "training.learning_rate=0.003",
                 "--set", "training.checkpoint_every=15", *overrides])
    assert code == 0
    return out


def test_corpus_has_two_speakers(corpus, capsys):
    speakers = sorted(p.name for p in corpus.iterdir() if p.is_dir())
    assert speakers == ["espeak_f2", "festival_kal"]
    audio, rate = read_wav(next((corpus / "festival_kal").glob("*.wav")))
    assert rate == RATE and audio.size > RATE // 2


def test_train_eval_sample_with_speakers(corpus, tmp_path, capsys):
    run = run_folder(tmp_path, corpus, "speakers", "--set", "model.num_speakers=2")
    capsys.readouterr()
    assert main(["eval", str(run), "--speaker-id"]) == 0
    report = last_json(capsys.readouterr().out)
    # (Learning itself is asserted in tests/models/test_wavenet_learning.py;
    # 40 steps of the tiny model on two held-out clips prove only the plumbing.)
    assert report["num_clips"] >= 2 and np.isfinite(report["bits_per_sample"]) and report["bits_per_sample"] > 0
    assert report["baselines"]["uniform"]["bits_per_sample"] == 8.0
    assert report["nats_per_clip"] == pytest.approx(report["bits_per_sample"] * 256 * np.log(2), rel=1e-6)
    assert report["speaker_identification"]["num_clips"] >= 2
    out = tmp_path / "samples"
    assert main(["sample", str(run), "--n", "2", "--seconds", "0.01", "--speaker", "1", "--out", str(out)]) == 0
    report = last_json(capsys.readouterr().out)
    audio, rate = read_wav(report["wavs"][1])
    assert rate == RATE and audio.shape == (80,)
    assert np.load(report["levels"]).shape == (2, 80)
    assert (out / "spectrograms.png").stat().st_size > 0
    # An unknown speaker is a one-line error, exit code 2.
    assert main(["sample", str(run), "--speaker", "5", "--out", str(out)]) == 2
    assert "speakers 0 ... 1" in capsys.readouterr().err


def test_vocoder_and_continuation(corpus, tmp_path, capsys):
    run = run_folder(tmp_path, corpus, "vocoder", "--set", "model.local_channels=8")
    reference = next((corpus / "espeak_f2").glob("*.wav"))
    out = tmp_path / "vocoded"
    capsys.readouterr()
    assert main(["sample", str(run), "--n", "1", "--features-from", str(reference),
                 "--seconds", "0.02", "--out", str(out)]) == 0
    report = last_json(capsys.readouterr().out)
    assert read_wav(report["wavs"][0])[0].shape == (160,)
    # A WAV at the wrong rate is refused with both rates named.
    wrong = tmp_path / "wrong.wav"
    write_wav(wrong, np.zeros(4000, np.float32), 16000)
    assert main(["sample", str(run), "--features-from", str(wrong), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "16000" in err and "8000" in err
    # Continuing a prefix keeps it.
    plain = run_folder(tmp_path, corpus, "plain")
    capsys.readouterr()
    assert main(["sample", str(plain), "--n", "1", "--continue-from", str(reference),
                 "--prefix-seconds", "0.01", "--seconds", "0.02", "--out", str(tmp_path / "cont")]) == 0
    report = last_json(capsys.readouterr().out)
    levels = np.load(report["levels"])
    prefix, _ = read_wav(reference)
    from arzoo.likelihoods import mu_law_encode

    np.testing.assert_array_equal(levels[0, :80], mu_law_encode(prefix[:80]).numpy())

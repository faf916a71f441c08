"""`arzoo sample` on large and bad requests: a draw is sized before anything
is allocated (memory and disk), drawn in batches that give the same samples
as one call, written as it completes, and an interrupted draw keeps what it
finished and leaves no temporary behind."""

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from arzoo.cli import main
from tests.test_case import REPO

TINY = REPO / "zoo_configs" / "tiny"


def run_cli(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def hidden(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def saved(family, folder):
    """A .keras file of the tiny `family` (fixed weights, unlike a config,
    which is built afresh at each command)."""
    import arzoo

    path = str(folder / f"{family}.keras")
    arzoo.build_model(arzoo.load_config(str(TINY / f"{family}.yaml"))).save(path)
    return path


@pytest.mark.parametrize("family", ["gated_pixelcnn"])
def test_batched_draw_equals_one_call(tmp_path, capsys, family):
    config = saved(family, tmp_path)
    assert run_cli(["sample", config, "--n", "10", "--seed", "3", "--out", str(tmp_path / "one.png")], capsys)[0] == 0
    code, err = run_cli(["sample", config, "--n", "10", "--seed", "3", "--batch-size", "3",
                         "--out", str(tmp_path / "batched.png")], capsys)
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "batched.npy"), np.load(tmp_path / "one.npy"))
    assert hidden(tmp_path) == []
    assert run_cli(["sample", config, "--n", "10", "--seed", "4", "--out", str(tmp_path / "other.png")], capsys)[0] == 0
    assert not np.array_equal(np.load(tmp_path / "other.npy"), np.load(tmp_path / "one.npy"))  # the seed matters


def test_text_and_audio_batched_draws_equal_one_call(tmp_path, capsys):
    text = saved("char_rnn", tmp_path)
    for batch, out in (("5", "one"), ("2", "batched")):
        assert run_cli(["sample", text, "--n", "5", "--length", "12", "--batch-size", batch,
                        "--out", str(tmp_path / out)], capsys)[0] == 0
    assert (tmp_path / "batched.txt").read_text() == (tmp_path / "one.txt").read_text()
    audio = saved("wavenet", tmp_path)
    for batch, out in (("3", "one"), ("2", "batched")):
        assert run_cli(["sample", audio, "--n", "3", "--seconds", "0.01", "--batch-size", batch,
                        "--out", str(tmp_path / out)], capsys)[0] == 0
    np.testing.assert_array_equal(np.load(tmp_path / "batched" / "samples.npy"), np.load(tmp_path / "one" / "samples.npy"))
    assert sorted(os.listdir(tmp_path / "batched")) == [
        "sample_0.wav", "sample_1.wav", "sample_2.wav", "samples.npy", "spectrograms.png"
    ]


# (argv, the one error line's pattern); @ is the test's folder
TOO_LARGE = [
    (["sample", str(TINY / "pixelcnn.yaml"), "--n", "100", "--max-memory", "1K", "--out", "@g.png"],
     r"--n 100 images of \[4, 4, 1\] needs about .* KiB of memory at once \(100 rows of about .* each being "
     r"drawn\), over the limit of 1\.0 KiB \(--max-memory"),
    (["sample", str(TINY / "pixelcnn.yaml"), "--n", "100000", "--max-memory", "300K", "--out", "@g.png"],
     r"over the limit of 300\.0 KiB .*draw at most \d+ rows at once \(--batch-size \d+\)"),
    (["sample", str(TINY / "pixelcnn.yaml"), "--n", "10000000000000", "--out", "@g.png"],
     r"--n 10000000000000 images .* writes about .* TiB to .*, which has .* free"),
    (["sample", str(TINY / "wavenet.yaml"), "--seconds", "1e9", "--out", "@clips"],
     r"--n 16 clips of 1e\+09 s \(16000000000000 samples at 16000 Hz\) needs about .* PiB of memory at once"),
    (["sample", str(TINY / "char_rnn.yaml"), "--length", "1000000000", "--out", "@t"],
     r"--n 16 texts of 1000000000 characters needs about"),
    (["sample", str(TINY / "pixelcnn.yaml"), "--max-memory", "lots"],
     r"argument --max-memory: must be a size such as 8G, 512M or 1000000 \(bytes\), got 'lots'"),
    (["sample", str(TINY / "pixelcnn.yaml"), "--batch-size", "0"], r"argument --batch-size: must be an integer >= 1"),
]


@pytest.mark.parametrize("argv,message", TOO_LARGE, ids=[" ".join(a[2:])[:50] for a, _ in TOO_LARGE])
def test_oversize_draw_is_refused_before_anything_is_written(tmp_path, capsys, argv, message):
    code, err = run_cli([str(tmp_path / a[1:]) if a.startswith("@") else a for a in argv], capsys)
    assert code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and re.search(message, lines[0]), err
    assert os.listdir(tmp_path) == []  # nothing written, no empty output folder


def test_audio_bad_inputs(tmp_path, capsys):
    audio = str(TINY / "wavenet.yaml")
    (tmp_path / "stub.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00")  # 30 bytes
    (tmp_path / "a_file").write_text("not a folder")
    cases = [
        (["--continue-from", str(tmp_path / "stub.wav"), "--out", str(tmp_path / "o1")],
         r"cannot read WAV file .*stub\.wav' \(truncated or not a WAV file\)"),
        (["--out", str(tmp_path / "a_file")], r"--out '.*a_file' is a file; audio samples go into a folder"),
    ]
    for extra, message in cases:
        code, err = run_cli(["sample", audio, "--n", "1", "--seconds", "0.01"] + extra, capsys)
        assert code == 2 and re.search(message, err), err
    assert sorted(os.listdir(tmp_path)) == ["a_file", "stub.wav"]


def test_sigterm_keeps_the_finished_rows_and_no_temporary(tmp_path):
    out = tmp_path / "grid.png"
    command = [sys.executable, "-m", "arzoo.cli", "sample", str(TINY / "pixelcnn.yaml"), "--n", "10000000",
               "--batch-size", "64", "--out", str(out)]
    log = open(tmp_path / "err.log", "w")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            done = [int(n) for n in re.findall(r"\| (\d+)/10000000", (tmp_path / "err.log").read_text())]
            if done and max(done) >= 192:
                break  # a few batches are done
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    err = (tmp_path / "err.log").read_text()
    assert code == 128 + signal.SIGTERM, err[-2000:]
    match = re.search(r"stopped after (\d+) of 10000000 rows; they are in (\S+)", err)
    assert match, err[-2000:]
    partial = np.load(match.group(2))
    assert match.group(2) == str(tmp_path / "grid.partial.npy")
    assert partial.shape == (int(match.group(1)), 4, 4, 1) and partial.shape[0] % 64 == 0
    assert partial.min() >= 0 and partial.max() < 3
    assert sorted(os.listdir(tmp_path)) == ["err.log", "grid.partial.npy"]  # no temporary, no half .npy


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_caught_and_reraised_by_a_library_still_exits_as_the_signal(signum, monkeypatch):
    """tf.function's tracing catches the handler's SystemExit and raises a
    TypeError in its place (CI saw exit status 1 instead of 143); the command
    exits 128 + signal whatever exception the signal became, and puts the
    previous handlers back."""
    import arzoo.events
    import arzoo.runs

    class Space:
        def refuse_other_sample_options(self, args):
            pass

        def sample_command(self, args, run_):
            try:
                os.kill(os.getpid(), signum)
                time.sleep(5)  # the handler raises before this ends
            except BaseException as error:
                raise TypeError("Could not generate a generic TraceType") from error
            raise AssertionError("the signal's handler did not raise")

    monkeypatch.setattr(arzoo.runs, "open_run", lambda path: type("Run", (), {"model": None})())
    monkeypatch.setattr(arzoo.events, "event_space", lambda model: Space())
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", "unused_run", "--max-memory", "1G"])
    assert exit_info.value.code == 128 + signum
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_an_error_without_a_signal_is_not_mistaken_for_one(monkeypatch):
    import arzoo.events
    import arzoo.runs

    class Space:
        def refuse_other_sample_options(self, args):
            pass

        def sample_command(self, args, run_):
            raise TypeError("a bug, not a signal")

    monkeypatch.setattr(arzoo.runs, "open_run", lambda path: type("Run", (), {"model": None})())
    monkeypatch.setattr(arzoo.events, "event_space", lambda model: Space())
    with pytest.raises(TypeError, match="a bug, not a signal"):
        main(["sample", "unused_run", "--max-memory", "1G"])

"""The commands every modality gets: `arzoo audit` and `arzoo client sample`
for audio, text and vectors (images have tests/test_cli.py), and a command
line that parses without TensorFlow and keeps its start-up lines quiet."""

import os
import subprocess
import sys
import types

import numpy as np
import pytest

from arzoo.cli import main
from arzoo.data.audio import read_wav
from arzoo.serving import export_model
from arzoo.serving.server import ModelEntry, Server
from tests.models.test_char_rnn import build as build_char_rnn
from tests.models.test_rnade import build as build_rnade
from tests.serving.compat_helpers import build_tiny_audio
from tests.test_case import REPO
from tests.test_cli import last_json

TINY = REPO / "zoo_configs" / "tiny"
START_UP_LINES = ("cudart_stub", "cpu_feature_guard", "absl::InitializeLog", "oneDNN")


def arzoo_command(*args, timeout=300):
    """The `arzoo` console script's entry point, in a fresh process."""
    code = "import sys, arzoo_command; sys.exit(arzoo_command.main(sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


# ----- the command line itself --------------------------------------------------


@pytest.mark.parametrize("command", [[], ["train"], ["audit"], ["client", "sample"]])
def test_help_parses_without_importing_tensorflow(command):
    code = (
        "import sys, arzoo_command\n"
        "try:\n"
        f"    arzoo_command.main({command + ['--help']!r})\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print('imported:', sorted(m for m in ('tensorflow', 'keras', 'arzoo.models') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "usage: arzoo" in result.stdout
    assert "imported: []" in result.stdout


@pytest.mark.slow
def test_commands_keep_tensorflow_start_up_lines_quiet():
    result = arzoo_command("audit", str(TINY / "rnade.yaml"))
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if any(s in line for s in START_UP_LINES)], result.stderr
    assert last_json(result.stdout)["causal"] is True


def test_deferred_import_still_gives_the_api():
    code = (
        "import os, sys\n"
        "os.environ['ARZOO_DEFER_IMPORTS'] = '1'\n"
        "import arzoo\n"
        "assert 'arzoo.models' not in sys.modules\n"
        "model = arzoo.build_model(arzoo.load_config(sys.argv[1]))\n"
        "import keras\n"
        "assert keras.saving.get_registered_object('arzoo>WaveNet') is not None\n"
        "print(type(model).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(TINY / "wavenet.yaml")], capture_output=True,
                            text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("WaveNet")


# ----- audit ------------------------------------------------------------------------


def test_audit_of_a_wavenet_shows_its_receptive_field(tmp_path, capsys):
    png = tmp_path / "audit.png"
    assert main(["audit", str(TINY / "wavenet.yaml"), "--length", "40", "--step", "30", "--out", str(png)]) == 0
    out = capsys.readouterr().out
    summary = last_json(out)
    import arzoo

    field = arzoo.build_model(arzoo.load_config(str(TINY / "wavenet.yaml"))).receptive_field
    assert summary["causal"] and summary["reads_later"] == 0
    # Step 30 reads exactly the `field` samples before it (the kernel's
    # current tap is not an input of a causal WaveNet's step).
    assert summary["receptive_field"] == field and summary["reads_earlier"] == field
    assert summary["unread_earlier"] == 30 - field
    strip = out.splitlines()[2]
    assert strip == "." * (30 - field) + "#" * field + "X" + "-" * 9
    assert png.stat().st_size > 0


@pytest.mark.parametrize("config, length", [("char_rnn.yaml", 20), ("rnade.yaml", None)])
def test_audit_of_text_and_vectors_reads_the_whole_past(config, length, capsys):
    args = ["audit", str(TINY / config), "--step", "2"] + (["--length", str(length)] if length else [])
    assert main(args) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["causal"] and summary["reads_later"] == 0
    assert summary["reads_earlier"] == 2 and summary["unread_earlier"] == 0


@pytest.mark.parametrize("config, option", [
    ("pixelcnn.yaml", ["--step", "3"]),
    ("wavenet.yaml", ["--row", "1"]),
    ("rnade.yaml", ["--length", "99"]),
])
def test_audit_refuses_options_of_another_kind_of_event(config, option, capsys):
    assert main(["audit", str(TINY / config), *option]) == 2
    err = capsys.readouterr().err
    assert option[0] in err and "error" in err


# ----- client sample on every modality ----------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("every_modality")
    models = types.SimpleNamespace(
        wave=build_tiny_audio(seed=0, num_speakers=2),
        flow=build_tiny_audio("parallel_wavenet", seed=1, num_speakers=2, num_levels=65536),
        chars=build_char_rnn(seed=3, vocabulary="ab \n", num_classes=2),
        vector=build_rnade(4, seed=2),
    )
    for name, model in vars(models).items():
        export_model(model, base, name, max_batch_size=4, max_length=None if name == "vector" else 64)
    server = Server([ModelEntry(name, str(base / name)) for name in vars(models)],
                    poll_wait_seconds=60.0, max_workers=4).start()
    yield server, models
    server.stop()


def client_sample(server, name, *options):
    return main(["client", "sample", "--target", server.address, "--model", name, "--batch-size", "3", *options])


@pytest.mark.parametrize("name", ["wave", "flow"])  # WaveNet's loop; a Parallel WaveNet's one pass
def test_client_sample_of_audio_writes_the_served_samples_as_wav(served, name, tmp_path, capsys):
    server, models = served
    out = tmp_path / "wavs"
    assert client_sample(server, name, "--n", "5", "--seed", "2", "--seconds", "0.002", "--out", str(out)) == 0
    report = last_json(capsys.readouterr().out)
    model = getattr(models, name)
    length = int(round(0.002 * model.sample_rate))
    expected = model.sample(5, seed=2, condition=np.arange(5, dtype=np.int32) % 2, length=length).numpy()
    np.testing.assert_array_equal(np.load(report["levels"]), expected)
    assert len(report["wavs"]) == 5
    audio, rate = read_wav(report["wavs"][3])
    assert rate == model.sample_rate and audio.shape == (length,)
    decoded = np.asarray(model.decode_audio(expected[3]))
    np.testing.assert_allclose(audio, decoded, atol=1.5 / 32768)  # 16-bit PCM


def test_client_sample_of_text_prints_the_served_text(served, tmp_path, capsys):
    server, models = served
    out = tmp_path / "texts.txt"
    assert client_sample(server, "chars", "--n", "4", "--seed", "5", "--length", "12", "--label", "1",
                         "--out", str(out)) == 0
    captured = capsys.readouterr()
    report = last_json(captured.out)
    model = models.chars
    expected = model.decode_text(model.sample(4, seed=5, condition=np.ones(4, np.int32), length=12).numpy())
    assert report["texts"] == expected
    assert all(text in captured.err for text in expected)
    assert out.read_text(encoding="utf-8").count("-" * 40) == 3

    assert client_sample(server, "chars", "--n", "2", "--prompt", "ab a", "--length", "5", "--label", "0",
                         "--out", str(tmp_path / "prompted.txt")) == 0
    texts = last_json(capsys.readouterr().out)["texts"]
    assert [len(t) for t in texts] == [9, 9] and all(t.startswith("ab a") for t in texts)

    # A second draw into the same file is refused (it replaced the first
    # silently, and `arzoo sample` shares the default), unless --overwrite.
    before = out.read_text(encoding="utf-8")
    assert client_sample(server, "chars", "--n", "1", "--length", "3", "--label", "0", "--out", str(out)) == 2
    assert f"{out} exists: give --out another name, or --overwrite" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == before
    assert client_sample(server, "chars", "--n", "1", "--length", "3", "--label", "0", "--out", str(out),
                         "--overwrite") == 0
    assert len(out.read_text(encoding="utf-8")) == 3


def test_client_sample_of_vectors_writes_npy(served, tmp_path, capsys):
    server, models = served
    assert client_sample(server, "vector", "--n", "4", "--seed", "1", "--out", str(tmp_path / "v.png")) == 0
    report = last_json(capsys.readouterr().out)
    np.testing.assert_allclose(np.load(report["samples"]), models.vector.sample(4, seed=1).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, option", [
    ("wave", ["--label", "1"]), ("wave", ["--length", "5"]), ("chars", ["--seconds", "1"]),
    ("chars", []),  # class-conditional: --label is needed
    ("vector", ["--speaker", "0"]),
])
def test_client_sample_refuses_what_the_served_model_does_not_take(served, name, option, tmp_path, capsys):
    server, _ = served
    assert client_sample(server, name, "--n", "2", *option, "--out", str(tmp_path / "out.png")) == 2
    err = capsys.readouterr().err
    assert "error" in err and (not option or option[0] in err), err
    assert not list(tmp_path.iterdir())  # nothing written

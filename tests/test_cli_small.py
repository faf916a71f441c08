"""Small command-line promises: `arzoo --version`, the training bar's unit
per kind of event, and no TFDS banner on stdout (where commands print JSON)."""

import json
import subprocess
import sys

import pytest

from arzoo.training.progress import ProgressBar
from tests.test_case import REPO


def test_version():
    done = subprocess.run([sys.executable, "-c", "import arzoo_command, sys; sys.exit(arzoo_command.main())",
                           "--version"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("arzoo ") and done.stdout.split()[1][0].isdigit(), done.stdout


@pytest.mark.parametrize("family, label", [
    ("gated_pixelcnn", "bits/dim"), ("wavenet", "bits/sample"), ("char_rnn", "bits/character"), ("rnade", "bits/dim"),
])
def test_training_bar_names_the_unit_of_the_events(family, label, capsys):
    from arzoo.events import event_space
    from tests import test_case

    bar = ProgressBar(10, metric=event_space(test_case.build_tiny(family)).training_metric)
    bar.update(3, 1.25)
    bar.close()
    err = capsys.readouterr().err
    assert f"{label}=1.2500" in err, err
    if label != "bits/dim":
        assert "bits/dim" not in err


def test_preparing_a_dataset_prints_one_line_and_keeps_stdout_json(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "arzoo.cli", "eval", "zoo_configs/digits/gated_pixelcnn.yaml", "--max-examples", "8",
         "--no-baselines"], capture_output=True, text=True, cwd=REPO,
        timeout=300, env={**__import__("os").environ, "ARZOO_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    json.loads(done.stdout[done.stdout.index("{"):])  # after the headline, nothing but the command's JSON
    assert "Downloading and preparing" not in done.stdout + done.stderr
    assert "Generating splits" not in done.stderr
    assert "arzoo: preparing the digits dataset" in done.stderr


def test_launch_script_falls_back_to_arzoo_serve_without_a_docker_daemon(tmp_path):
    """serving/launch.sh chose Docker whenever a docker program existed, even
    with no daemon; now it runs `arzoo serve` with the same flags and says why."""
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    (bin_dir / "arzoo").write_text("#!/bin/sh\necho \"arzoo $*\"\n")
    for stub in ("docker", "arzoo"):
        (bin_dir / stub).chmod(0o755)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "models.config").write_text("model_config_list {}\n")
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")
    done = subprocess.run(["bash", str(REPO / "serving" / "launch.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "docker is installed but its daemon does not answer" in done.stderr
    assert "serving with arzoo serve" in done.stderr
    config = os.path.realpath(tmp_path / "exports" / "models.config")
    assert done.stdout.split() == ["arzoo", "serve", "--port=8500", "--rest_api_port=8501",
                                   f"--model_config_file={config}", "--file_system_poll_wait_seconds=5"]


def test_launch_script_enables_xla_for_an_xla_export(tmp_path):
    """An export whose graph must be XLA-compiled (`arzoo export --xla`)
    needs --xla_cpu_compilation_enabled=true on the server; launch.sh adds it
    only then."""
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "arzoo").write_text("#!/bin/sh\necho \"arzoo $*\"\n")
    (bin_dir / "arzoo").chmod(0o755)
    config = tmp_path / "exports" / "models.config"
    for name, graph in (("portable", b"\x00graph without it\x00"), ("compiled", b"\x00_XlaMustCompile\x00")):
        (tmp_path / "exports" / name / "1").mkdir(parents=True)
        (tmp_path / "exports" / name / "1" / "saved_model.pb").write_bytes(graph)
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")

    def launch(*names):
        entries = "".join(f'config {{ name: "{n}" base_path: "{tmp_path / "exports" / n}" }}\n' for n in names)
        config.write_text(f"model_config_list {{\n{entries}}}\n")
        done = subprocess.run(["bash", str(REPO / "serving" / "launch.sh")], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert "--xla_cpu_compilation_enabled=true" not in launch("portable")
    assert launch("portable", "compiled")[-1] == "--xla_cpu_compilation_enabled=true"

"""Bad input on the command line: each is one clear error line that names
the value and what is allowed (argparse's exit code 2, or `arzoo <cmd>:
error:` and 2), never a traceback, a silently changed value or a file
written half-way."""

import os
import re

import pytest

from arzoo.cli import main
from tests.test_case import REPO

DIGITS = str(REPO / "zoo_configs" / "digits" / "gated_pixelcnn.yaml")
TINY = str(REPO / "zoo_configs" / "tiny" / "pixelcnn.yaml")
SMALL = ["--set", "model.num_filters=8", "--set", "model.num_layers=1", "--set", "model.num_output_filters=8"]


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A trained image run, a file, a broken YAML file and a broken models.config."""
    root = tmp_path_factory.mktemp("bad")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARZOO_DATA_DIR", str(root / "data"))
        assert main(["train", DIGITS, "--output", str(root / "run"), "--no-progress",
                     "--set", "training.steps=2", "--set", "training.checkpoint_every=2"] + SMALL) == 0
    (root / "a_file").write_text("not a folder")
    (root / "broken.yaml").write_text("model: [family: pixelcnn\n")
    (root / "bad.config").write_text("model_config_list { config { name: ")
    (root / "bad_batching.config").write_text("max_batch_size { value: 8 }\nbatch_timeout { value: 1 }\n")
    (root / "exports" / "empty").mkdir(parents=True)
    return root


def fill(argv, root):
    return [str(root / a[1:]) if a.startswith("@") else a for a in argv]


# (argv with @name for a path in `place`, the message the one error line must hold)
BAD = [
    # eval
    (["eval", "@run", "--max-examples", "0"], r"argument --max-examples: must be an integer >= 1, got '0'"),
    (["eval", "@run", "--max-examples", "-5"], r"argument --max-examples: must be an integer >= 1, got '-5'"),
    (["eval", "@run", "--batch-size", "0"], r"argument --batch-size: must be an integer >= 1, got '0'"),
    (["eval", "@run", "--ensemble", "two"], r"argument --ensemble: must be an integer >= 1, got 'two'"),
    (["eval", "@run", "--speaker-id", "--no-baselines"], r"speaker_id does not apply to image models"),
    (["eval", TINY, "--max-examples", "4"],  # a 4x4 model on 8x8 digits, baselines on: was an IndexError
     r"The 'test' split yields images of shape \(8, 8, 1\) but the model has image_shape=\[4, 4, 1\]"),
    # sample
    (["sample", "@run", "--seconds", "0"], r"argument --seconds: must be a finite number > 0, got '0'"),
    (["sample", "@run", "--seconds", "1e-9", "--out", "@s.png"], r"--seconds does not apply to image models"),
    (["sample", "@run", "--temperature", "inf"], r"argument --temperature: must be a finite number > 0, got 'inf'"),
    (["sample", "@run", "--temperature", "nan"], r"argument --temperature: must be a finite number > 0, got 'nan'"),
    (["sample", "@run", "--temperature", "-1"], r"argument --temperature: must be a finite number > 0, got '-1'"),
    (["sample", "@run", "--n", "0"], r"argument --n: must be an integer >= 1, got '0'"),
    (["sample", "@run", "--label", "-1"], r"argument --label: must be an integer >= 0, got '-1'"),
    (["sample", "@run", "--out", "@im.jpg"], r"--out '.*im.jpg' must end in .png"),
    (["sample", "@run", "--speaker", "1", "--out", "@s.png"], r"--speaker does not apply to image models"),
    (["sample", "@run", "--prompt", "The ", "--out", "@s.png"], r"--prompt does not apply to image models"),
    (["sample", "@run", "--prefix-seconds", "1", "--out", "@s.png"], r"--prefix-seconds does not apply"),
    # train and config
    (["train", "@broken.yaml", "--output", "@r1"], r"broken.yaml: not valid YAML"),
    (["train", "@exports", "--output", "@r2"], r"is a folder; give a YAML config file"),
    (["train", TINY, "--set", "data.image_size=4", "--output", "@r3"], r"data.image_size must be a list or null, got 4"),
    (["train", TINY, "--set", "training.steps=many", "--output", "@r4"], r"training.steps must be an integer, got 'many'"),
    (["train", TINY, "--set", "training.learning_rate=true", "--output", "@r5"],
     r"training.learning_rate must be a number, got True"),
    (["train", TINY, "--set", "data.batch_size=[1", "--output", "@r6"], r"the value is not valid YAML"),
    # export
    (["export", "@run", "--base", "@a_file"], r"export base '.*a_file' is a file, not a folder"),
    (["export", "@run", "--max-batch-size", "0"], r"argument --max-batch-size: must be an integer >= 1, got '0'"),
    (["export", "@run", "--version", "0"], r"argument --version: must be an integer >= 1, got '0'"),
    # serve
    (["serve", "--port", "70000", "--model_base_path", "@exports/empty"],
     r"argument --port: must be an integer in 0..65535, got '70000'"),
    (["serve", "--port", "0", "--model_base_path", "@exports/missing"], r"--model_base_path '.*missing' is not a folder"),
    (["serve", "--port", "0", "--model_config_file", "@bad.config"], r"not a valid TF Serving models.config"),
    (["serve", "--port", "0", "--file_system_poll_wait_seconds", "0", "--model_base_path", "@exports/empty"],
     r"argument --file_system_poll_wait_seconds\S*: must be a finite number > 0, got .0."),
    (["serve", "--port", "0", "--rest_api_port", "65536", "--model_base_path", "@exports/empty"],
     r"argument --rest_api_port\S*: must be an integer in 0..65535, got '65536'"),
    (["serve", "--port", "0", "--max_request_bytes", "0", "--model_base_path", "@exports/empty"],
     r"argument --max_request_bytes\S*: must be an integer >= 1, got '0'"),
    (["serve", "--port", "0", "--batching_parameters_file", "@absent.config", "--model_base_path", "@exports/empty"],
     r"--batching_parameters_file .*absent.config does not exist"),
    (["serve", "--port", "0", "--batching_parameters_file", "@bad_batching.config", "--model_base_path",
      "@exports/empty"], r"bad_batching.config is not a valid TF Serving batching parameters file.*batch_timeout"),
    # client (refused before any connection is made)
    (["client", "sample", "--model", "m", "--target", "grpc://localhost:8500"],
     r"target 'grpc://localhost:8500': give host:port \(gRPC\) or http://host:port \(REST\)"),
    (["client", "sample", "--model", "m", "--n", "0"], r"argument --n: must be an integer >= 1, got '0'"),
    (["client", "sample", "--model", "m", "--seed", "4294967301"],
     r"argument --seed: must be an integer in -2147483648..2147483647, got '4294967301'"),
    (["sample", "@run", "--seed", "4294967301"], r"argument --seed: must be an integer in -2147483648..2147483647"),
    (["client", "sample", "--model", "m", "--timeout", "-1"], r"argument --timeout: must be a finite number > 0"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_is_one_line_naming_the_value(place, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(place)
    monkeypatch.setenv("ARZOO_DATA_DIR", str(place / "data"))
    try:
        code = main(fill(argv, place))
    except SystemExit as exit_info:  # argparse
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert re.search(message, lines[0]), lines[0]


def test_failed_training_leaves_no_run_folder(place):
    """The config is read and checked before anything is written."""
    for name in ("r1", "r2", "r3", "r4", "r5", "r6"):
        assert not (place / name).exists(), name


def test_export_writes_its_model_config_into_the_export_base(place, capsys, monkeypatch):
    """Nothing is written relative to the working directory unless asked."""
    work = place / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["export", str(place / "run"), "--base", "out", "--name", "digits"]) == 0
    capsys.readouterr()
    assert os.listdir(work) == ["out"]
    assert sorted(os.listdir(work / "out")) == ["digits", "models.config"]
    assert 'name: "digits"' in (work / "out" / "models.config").read_text()
    assert main(["export", str(place / "run"), "--base", "out", "--name", "digits",
                 "--batching-config-file", "out/batching.config", "--max-batch-size", "8"]) == 0
    assert "max_batch_size { value: 8 }" in (work / "out" / "batching.config").read_text()

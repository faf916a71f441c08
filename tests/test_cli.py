"""The `arzoo` command line, end to end on offline data."""

import json

import numpy as np
import pytest
from PIL import Image

from arzoo.cli import main
from tests.test_case import REPO

DIGITS = str(REPO / "zoo_configs" / "digits" / "gated_pixelcnn.yaml")
SMALL = ["--set", "model.num_filters=8", "--set", "model.num_layers=1", "--set", "model.num_output_filters=8"]


def last_json(text):
    start = text.rindex("\n{") + 1 if "\n{" in text else text.index("{")
    return json.loads(text[start:])


@pytest.mark.parametrize("command", [[], ["train"], ["eval"], ["sample"], ["audit"], ["demo"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(command + ["--help"])
    assert exit_info.value.code == 0
    assert "usage: arzoo" in capsys.readouterr().out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARZOO_DATA_DIR", str(root / "data"))
        out = root / "run"
        code = main(["train", DIGITS, "--output", str(out), "--no-progress",
                     "--set", "training.steps=20", "--set", "training.checkpoint_every=10"] + SMALL)
        assert code == 0
        yield out


def test_train_writes_a_run_folder(trained_run):
    assert (trained_run / "model.keras").exists() and (trained_run / "config.yaml").exists()
    assert any((trained_run / "checkpoints").iterdir())


def test_eval_reports_nll_and_baselines(trained_run, capsys):
    assert main(["eval", str(trained_run), "--max-examples", "50"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["num_examples"] == 50 and report["dataset"] == "digits"
    assert 0 < report["bits_per_dim"] < report["baselines"]["uniform"]["bits_per_dim"]
    assert report["baselines"]["uniform"]["bits_per_dim"] == pytest.approx(np.log2(17))
    assert report["nats_per_image"] == pytest.approx(report["bits_per_dim"] * 64 * np.log(2), rel=1e-6)


def test_sample_writes_png_and_npy(trained_run, tmp_path, capsys):
    png = tmp_path / "grid.png"
    assert main(["sample", str(trained_run), "--n", "4", "--seed", "3", "--out", str(png)]) == 0
    report = last_json(capsys.readouterr().out)
    samples = np.load(report["samples"])
    assert samples.shape == (4, 8, 8, 1) and samples.max() < 17
    assert Image.open(png).size[0] > 8
    # Same seed, same samples.
    assert main(["sample", str(trained_run), "--n", "4", "--seed", "3", "--out", str(tmp_path / "b.png")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), samples)


def test_audit_shows_the_blind_spot_of_pixelcnn_only(tmp_path, capsys):
    args = ["--set", "model.image_shape=[9,9,1]", "--set", "model.num_filters=16", "--row", "6", "--col", "3"]
    png = tmp_path / "audit.png"
    assert main(["audit", str(REPO / "zoo_configs/tiny/pixelcnn.yaml"), "--out", str(png)] + args) == 0
    out = capsys.readouterr().out
    pixelcnn = last_json(out)
    assert pixelcnn["causal"] and pixelcnn["unread_earlier"] > 0 and png.exists()
    assert "X" in out
    assert main(["audit", str(REPO / "zoo_configs/tiny/gated_pixelcnn.yaml"), "--row", "3", "--col", "3",
                 "--set", "model.num_filters=16"]) == 0
    gated = last_json(capsys.readouterr().out)
    assert gated["causal"] and gated["unread_earlier"] == 0 and gated["reads_earlier"] == 15


def test_errors_name_the_problem(capsys, tmp_path):
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert "No config file" in capsys.readouterr().err
    assert main(["train", DIGITS, "--set", "model.num_filterz=3", "--output", str(tmp_path / "x")]) == 2
    assert "Unknown key model.num_filterz" in capsys.readouterr().err
    assert main(["sample", str(tmp_path)]) == 2
    assert "has no model.keras" in capsys.readouterr().err
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    assert main(["sample", str(bad)]) == 2
    assert "Cannot load the model" in capsys.readouterr().err


def test_made_run_evaluates_mask_zero_and_the_ensemble(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path / "data"))
    config = str(REPO / "zoo_configs" / "tiny" / "made.yaml")
    out = tmp_path / "made"
    assert main(["train", config, "--output", str(out), "--no-progress", "--set", "training.steps=30",
                 "--set", "model.image_shape=[8, 8, 1]", "--set", "training.learning_rate=0.01"]) == 0
    capsys.readouterr()
    assert main(["eval", str(out), "--max-examples", "60"]) == 0
    report = last_json(capsys.readouterr().out)
    ensemble = report["ensemble"]
    assert ensemble["num_members"] == 3 and report["num_examples"] == 60
    # Binary data: nats per image are the headline; the ensemble is scored on the same images.
    assert report["headline"].endswith("nats/image") and ensemble["headline"].endswith("nats/image")
    assert 0 < ensemble["nats_per_image"] < report["baselines"]["uniform"]["nats_per_image"]
    assert main(["eval", str(out), "--max-examples", "60", "--ensemble", "2", "--no-baselines"]) == 0
    assert last_json(capsys.readouterr().out)["ensemble"]["num_members"] == 2
    assert main(["eval", str(out), "--max-examples", "60", "--ensemble", "5", "--no-baselines"]) != 0
    assert "num_members=5 but the model has num_masks=3" in capsys.readouterr().err

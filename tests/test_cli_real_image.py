"""The commands on a real-valued image model, end to end on the offline dead
leaves: train, eval (the dequantization bound beside Gaussian baselines),
sample (PNG grid and float .npy, and at a larger size: texture synthesis),
audit one pixel, export, serve and `client sample`; and the errors."""

import math

import numpy as np
import pytest
from PIL import Image

from arzoo.cli import main
from tests.test_case import REPO
from tests.test_cli import last_json

TINY = REPO / "zoo_configs" / "tiny" / "spatial_lstm.yaml"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The tiny config trained for a few steps on 3x4 dead leaves."""
    base = tmp_path_factory.mktemp("real_image_run")
    run = base / "run"
    assert main(["train", str(TINY), "--output", str(run), "--set", f"data.data_dir={base / 'data'}",
                 "--set", "training.steps=6", "--set", "training.log_every=3",
                 "--set", "training.checkpoint_every=6"]) == 0
    return run


def test_eval_reports_the_dequantization_bound_beside_gaussians(run_dir, capsys):
    assert main(["eval", str(run_dir), "--max-examples", "64"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["num_examples"] == 64 and report["dequantized_levels"] == 256
    dims = 12
    assert report["bits_per_dim"] == pytest.approx(report["nats_per_image"] / (dims * math.log(2)) + 8, rel=1e-6)
    baselines = report["baselines"]
    # The full covariance fits the training split at least as well as independent pixels do on the test split
    # of correlated images.
    assert baselines["gaussian"]["bits_per_dim"] < baselines["independent_gaussians"]["bits_per_dim"] < 8.5
    assert "bits/dim (dequantization bound" in report["headline"]


def test_sample_writes_a_grid_and_floats_at_any_size(run_dir, tmp_path, capsys):
    out = tmp_path / "images.png"
    assert main(["sample", str(run_dir), "--n", "3", "--seed", "4", "--out", str(out)]) == 0
    report = last_json(capsys.readouterr().out)
    images = np.load(report["samples"])
    assert images.shape == (3, 3, 4, 1) and images.dtype == np.float32 and np.isfinite(images).all()
    assert Image.open(out).format == "PNG"
    assert main(["sample", str(run_dir), "--n", "2", "--size", "9x12", "--out", str(tmp_path / "texture.png")]) == 0
    larger = last_json(capsys.readouterr().out)
    assert larger["image_shape"] == [9, 12, 1] and np.load(larger["samples"]).shape == (2, 9, 12, 1)


@pytest.mark.parametrize("options, message", [
    (["--size", "9by12"], "--size '9by12': give the image size as <height>x<width>"),
    (["--size", "0x4"], "give the image size as <height>x<width>"),
    (["--label", "1"], "--label does not apply to real_image models"),
    (["--seconds", "1"], "--seconds does not apply"),
])
def test_sample_names_bad_options(run_dir, tmp_path, capsys, options, message):
    assert main(["sample", str(run_dir), "--n", "1", "--out", str(tmp_path / "s.png"), *options]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
    assert main(["sample", str(REPO / "zoo_configs" / "tiny" / "pixelcnn.yaml"), "--size", "8x8",
                 "--out", str(tmp_path / "s.png")]) == 2
    assert "--size does not apply to image models" in capsys.readouterr().err


def test_audit_of_a_pixel_reads_the_region_above_and_left(capsys):
    assert main(["audit", str(TINY), "--row", "2", "--col", "2"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["causal"] and report["step"] == 2 * 4 + 2
    # Every earlier pixel: rows 0 and 1 through the states above and their
    # neighbourhoods (which reach one column right), and row 2's left.
    assert report["reads_earlier"] == 2 * 4 + 2 and report["unread_earlier"] == 0
    assert main(["audit", str(TINY), "--step", "3"]) == 2
    assert "--step does not apply to real-valued image models" in capsys.readouterr().err


def test_served_model_samples_through_the_client(run_dir, tmp_path, capsys):
    from arzoo.runs import open_run
    from arzoo.serving.client import Client
    from arzoo.serving.server import ModelEntry, Server

    assert main(["export", str(run_dir), "--base", str(tmp_path / "exports"), "--name", "leaves"]) == 0
    capsys.readouterr()
    server = Server([ModelEntry("leaves", str(tmp_path / "exports" / "leaves"))], poll_wait_seconds=60.0).start()
    try:
        out = tmp_path / "served.png"
        assert main(["client", "sample", "--target", server.address, "--model", "leaves", "--n", "3",
                     "--seed", "4", "--out", str(out)]) == 0
        report = last_json(capsys.readouterr().out)
        client = Client(server.address, "leaves")
        assert client.model_info()["modality"] == "real_image"
        x = np.random.default_rng(0).uniform(size=(2, 3, 4, 1)).astype(np.float32)
        served = client.log_density(x)["log_prob"]
    finally:
        server.stop()
    model = open_run(str(run_dir)).model
    np.testing.assert_allclose(served, model.log_prob(x).numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.load(report["samples"]), model.sample(3, seed=4).numpy(), rtol=1e-5, atol=1e-5)
    assert Image.open(out).format == "PNG"


def test_rnade_reads_the_same_images_flattened_and_reports_the_same_bound(run_dir, tmp_path):
    """RNADE (a vector model) trains on an image set flattened, dequantized as
    the real-valued image models read it, and reports the same bound."""
    import arzoo
    from arzoo.evaluation.run import evaluate
    from arzoo.runs import Run
    from arzoo.training import train

    config = arzoo.load_config(REPO / "zoo_configs" / "tiny" / "rnade.yaml", [
        "data.dataset=dead_leaves/3x4", f"data.data_dir={run_dir.parent / 'data'}", "model.num_dims=12",
        "training.steps=4", "data.max_test_examples=50",
    ])
    result = train(config, str(tmp_path / "run"), progress=False)
    report = evaluate(Run(result.model, config, str(tmp_path / "run")))
    assert report["num_examples"] == 50
    assert report["bits_per_dim"] == pytest.approx(report["nats_per_example"] / (12 * math.log(2)) + 8, rel=1e-6)
    assert "bits/dim, dequantization bound" in report["headline"]


def test_mean_removed_images_are_scored_on_their_free_pixels(run_dir, tmp_path):
    """The BSDS300 protocol end to end: data.remove_mean with a zero_mean
    model trains and reports nats per image of the H W - 1 free values and
    bits per scored dimension (no 8-bit bound), the Gaussians fitted to the
    same values; RNADE reads the same images flattened without the last
    pixel; a model and data that disagree on the mean are refused."""
    import arzoo
    from arzoo.evaluation.run import evaluate
    from arzoo.runs import Run
    from arzoo.training import train

    data = [f"data.data_dir={run_dir.parent / 'data'}", "data.remove_mean=true",  # the 3x4 leaves run_dir built "data.max_test_examples=40",
            "training.steps=3", "training.log_every=3", "training.checkpoint_every=3"]
    config = arzoo.load_config(REPO / "zoo_configs" / "tiny" / "mcgsm.yaml", data + ["model.zero_mean=true"])
    result = train(config, str(tmp_path / "mcgsm"), progress=False)
    report = evaluate(Run(result.model, config, str(tmp_path / "mcgsm")))
    assert report["scored_dims"] == 11 and "dequantized_levels" not in report
    assert report["bits_per_dim"] == pytest.approx(report["nats_per_image"] / (11 * math.log(2)), rel=1e-6)
    assert "free mean-removed values" in report["headline"]
    baselines = report["baselines"]
    assert baselines["gaussian"]["nats_per_image"] < baselines["independent_gaussians"]["nats_per_image"]
    assert np.isfinite(baselines["gaussian"]["nats_per_image"])  # fitted to 11 free values, not a singular 12

    rnade = arzoo.load_config(REPO / "zoo_configs" / "tiny" / "rnade.yaml", data + [
        "data.dataset=dead_leaves/3x4", "model.num_dims=11"])
    result = train(rnade, str(tmp_path / "rnade"), progress=False)
    report = evaluate(Run(result.model, rnade, str(tmp_path / "rnade")))
    assert report["bits_per_dim"] == pytest.approx(report["nats_per_example"] / (11 * math.log(2)), rel=1e-6)
    assert "11 mean-removed values" in report["headline"]

    mismatched = arzoo.load_config(REPO / "zoo_configs" / "tiny" / "mcgsm.yaml", data)
    with pytest.raises(ValueError, match="data.remove_mean is True but the model has zero_mean=False"):
        train(mismatched, str(tmp_path / "mismatched"), progress=False)
    levels = arzoo.load_config(REPO / "zoo_configs" / "tiny" / "gated_pixelcnn.yaml", data)
    with pytest.raises(ValueError, match="data.remove_mean applies to the real-valued models"):
        train(levels, str(tmp_path / "levels"), progress=False)

"""The models with a code on the command line, end to end on the offline
digits: `arzoo train` logs PixelVAE's KL, `arzoo eval` says what its figure
bounds and prints the ELBO, KL and reconstruction beside the IW bound (k
from --iw-samples), `arzoo sample` writes the latent interpolations beside
the grid; the auto-encoder evaluates its reconstruction and samples given
the codes of test images."""

import contextlib
import io

import numpy as np
import pytest
from PIL import Image

from arzoo.cli import main
from tests.test_case import REPO
from tests.test_cli import last_json

DIGITS = ["--set", "model.image_shape=[8, 8, 1]", "--set", "model.num_levels=17",
          "--set", "training.steps=30", "--set", "training.log_every=10", "--set", "training.checkpoint_every=30"]


def run_cli(argv):
    """(exit code, the JSON the command printed last)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, last_json(out.getvalue()) if "{" in out.getvalue() else None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("latent_cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARZOO_DATA_DIR", str(root / "data"))
        result = {}
        for family in ("pixel_vae", "pixelcnn_autoencoder"):
            out = root / family
            code, summary = run_cli(["train", str(REPO / "zoo_configs" / "tiny" / f"{family}.yaml"),
                                     "--output", str(out), "--no-progress"] + DIGITS)
            assert code == 0
            result[family] = (out, summary)
        yield result


def test_pixel_vae_training_logs_the_kl(runs):
    _, summary = runs["pixel_vae"]
    diagnostics = summary["diagnostics"]
    assert np.isfinite(diagnostics["kl_nats"]) and diagnostics["kl_nats"] >= 0
    assert 0 <= diagnostics["active_latent_dims"] <= 2
    # The summary warns exactly when the KL is below the collapse threshold.
    assert ("warnings" in summary) == (diagnostics["kl_nats"] < 0.1)


def test_pixel_vae_eval_reports_the_bound_and_its_terms(runs):
    out, _ = runs["pixel_vae"]
    code, report = run_cli(["eval", str(out), "--max-examples", "20", "--iw-samples", "3", "--no-baselines"])
    assert code == 0
    assert report["likelihood"] == "a lower bound: importance-weighted, k=3"
    assert "upper bound on the NLL" in report["headline"] and "k=3" in report["headline"]
    bound = report["bound"]
    assert bound["iw_samples"] == 3
    assert bound["negative_iw_bound_nats"] == pytest.approx(report["nats_per_image"], rel=1e-6)
    # -ELBO = -E log p(x | z) + KL, all in nats per image.
    assert bound["negative_elbo_nats"] == pytest.approx(
        bound["negative_reconstruction_nats"] + bound["kl_nats"], rel=1e-5, abs=1e-4)
    assert bound["kl_nats"] >= 0


def test_pixel_vae_sample_writes_interpolations(runs, tmp_path):
    out, _ = runs["pixel_vae"]
    code, report = run_cli(["sample", str(out), "--n", "4", "--out", str(tmp_path / "grid.png")])
    assert code == 0
    assert np.load(report["samples"]).shape == (4, 8, 8, 1)
    with Image.open(report["interpolations"]) as image:
        width, height = image.size
    # 4 rows (pairs of test images) of 10 cells (image a, 8 decodings, image b), square cells.
    assert width / height == pytest.approx(10 / 4, rel=0.05)


def test_autoencoder_eval_says_it_is_a_reconstruction(runs):
    out, _ = runs["pixelcnn_autoencoder"]
    code, report = run_cli(["eval", str(out), "--max-examples", "20", "--no-baselines"])
    assert code == 0
    assert "reconstruction" in report["likelihood"] and "reconstruction" in report["headline"]
    assert "bound" not in report["headline"]
    assert report["nats_per_image"] > 0 and "bound" not in report


def test_autoencoder_refuses_iw_samples(runs, capsys):
    out, _ = runs["pixelcnn_autoencoder"]
    assert main(["eval", str(out), "--iw-samples", "5"]) != 0
    assert "--iw-samples applies to latent-variable models" in capsys.readouterr().err


def test_autoencoder_samples_given_test_codes_and_interpolates(runs, tmp_path):
    out, _ = runs["pixelcnn_autoencoder"]
    code, report = run_cli(["sample", str(out), "--n", "3", "--out", str(tmp_path / "grid.png")])
    assert code == 0
    samples = np.load(report["samples"])
    assert samples.shape == (3, 8, 8, 1) and samples.max() < 17
    with Image.open(report["interpolations"]) as image:
        assert image.size[0] / image.size[1] == pytest.approx(10 / 4, rel=0.05)

"""`make run`'s demo, shortened: train, evaluate, sample, complete, write PNGs."""

import numpy as np
import pytest
from PIL import Image

from arzoo.demo import run_demo


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARZOO_DATA_DIR", str(tmp_path / "data"))
    result = run_demo(
        str(tmp_path / "out"), steps=30, max_test_examples=200,
        num_samples=2, num_completed_images=1, completions_per_image=2,
    )
    out = capsys.readouterr().out
    assert "test bits/dim" in out and "samples:" in out and "completions:" in out
    assert result["num_examples"] == 200
    independent = result["baselines"]["independent_pixels"]["bits_per_dim"]
    assert result["baselines"]["uniform"]["bits_per_dim"] == 8.0
    assert 0 < result["bits_per_dim"] < 8.0 and independent < 8.0
    samples = np.asarray(Image.open(result["samples_png"]))
    completions = np.asarray(Image.open(result["completions_png"]))
    assert samples.ndim == 3 and completions.shape[1] > completions.shape[0]  # one row of 4 panels
    assert (tmp_path / "out" / "run" / "model.keras").exists()
    # The samples came over gRPC from the export; its log_prob matches the model's.
    assert "served over gRPC" in out and result["log_prob_gap"] < 1e-3
    assert result["export"].endswith("/1") and (tmp_path / "out" / "exports" / "models.config").exists()

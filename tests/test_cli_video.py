"""The commands on a video model, end to end on the offline moving
Fashion-MNIST: train, eval (nats per frame beside the baselines), sample
(PNG strip, animated GIF, .npy), continue a video from its first frames,
audit one (frame, row, column, channel), export, serve and `client sample`;
and the errors of each."""

import numpy as np
import pytest
from PIL import Image

from arzoo.cli import main
from tests.test_case import REPO
from tests.test_cli import last_json
from tests.data.test_moving_fashion_mnist import needs_files

TINY = REPO / "zoo_configs" / "tiny" / "video_pixel_network.yaml"
pytestmark = [pytest.mark.slow, needs_files]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The tiny config trained for a few steps on 2-frame 2x3 moving sprites."""
    base = tmp_path_factory.mktemp("video_run")
    run = base / "run"
    assert main(["train", str(TINY), "--output", str(run), "--set", f"data.data_dir={base / 'data'}",
                 "--set", "training.steps=6",
                 "--set", "training.log_every=3", "--set", "training.checkpoint_every=6"]) == 0
    return run


def test_eval_reports_nats_per_frame_beside_the_baselines(run_dir, capsys):
    assert main(["eval", str(run_dir), "--max-examples", "64"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["num_examples"] == 64 and len(report["nats_by_frame"]) == 2
    assert report["nats_per_frame"] == pytest.approx(np.mean(report["nats_by_frame"]), rel=1e-3)
    assert report["nats_per_video"] == pytest.approx(2 * report["nats_per_frame"], rel=1e-3)
    assert report["bits_per_dim"] == pytest.approx(report["nats_per_frame"] / (6 * np.log(2)), rel=1e-4)
    uniform = report["baselines"]["uniform"]
    assert uniform["bits_per_dim"] == 1.0 and uniform["nats_per_frame"] == pytest.approx(6 * np.log(2))
    assert 0 < report["baselines"]["independent_subpixels"]["nats_per_frame"] < uniform["nats_per_frame"]
    assert "nats/frame" in report["headline"]


def test_sample_writes_a_strip_a_gif_and_the_levels(run_dir, tmp_path, capsys):
    out = tmp_path / "videos.png"
    assert main(["sample", str(run_dir), "--n", "3", "--seed", "4", "--out", str(out)]) == 0
    report = last_json(capsys.readouterr().out)
    videos = np.load(report["samples"])
    assert videos.shape == (3, 2, 2, 3, 1) and videos.dtype == np.int32 and set(np.unique(videos)) <= {0, 1}
    assert report["frames_per_second"] > 0
    strip = Image.open(out)
    assert strip.format == "PNG"
    gif = Image.open(report["gif"])
    assert gif.format == "GIF" and gif.n_frames == 2 and gif.info.get("loop") == 0

    # Continuing the first frames of those videos keeps them and draws the rest.
    assert main(["sample", str(run_dir), "--n", "4", "--seed", "5", "--context-from", report["samples"],
                 "--context-frames", "1", "--out", str(tmp_path / "continued.png")]) == 0
    continued = last_json(capsys.readouterr().out)
    assert continued["context"] == {"file": report["samples"], "frames": 1}
    drawn = np.load(continued["samples"])
    np.testing.assert_array_equal(drawn[:, 0], videos[[0, 1, 2, 0], 0])  # rows cycle through the file's videos


@pytest.mark.parametrize("options, message", [
    (["--context-frames", "1"], "--context-frames needs --context-from"),
    (["--context-from", "{video}", "--context-frames", "2"], "leaves nothing to draw"),
    (["--context-from", "{video}", "--context-frames", "5"], "leaves nothing to draw"),
    (["--context-from", "{junk}"], "is not a readable .npy file"),
    (["--context-from", "{wrong_frames}"], "expected videos"),
    (["--context-from", "{missing}"], "is not a readable .npy file"),
    (["--seconds", "1"], "--seconds does not apply"),
])
def test_sample_names_bad_context(run_dir, tmp_path, capsys, options, message):
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    np.save(tmp_path / "video.npy", np.zeros((2, 2, 3, 1), np.int32))
    np.save(tmp_path / "wrong_frames.npy", np.zeros((1, 2, 4, 4, 1), np.int32))
    paths = {name: str(tmp_path / f"{name}.npy") for name in ("video", "junk", "wrong_frames", "missing")}
    options = [o.format(**paths) for o in options]
    assert main(["sample", str(run_dir), "--n", "1", "--out", str(tmp_path / "s.png"), *options]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()


def test_audit_of_a_video_reads_the_earlier_frames(capsys):
    assert main(["audit", str(TINY), "--frame", "1", "--row", "1", "--col", "1"]) == 0
    captured = capsys.readouterr().out
    report = last_json(captured)
    assert report["causal"] and report["frame"] == 1 and report["step"] == 6 + 4
    assert report["reads_earlier_by_frame"][0] > 0 and report["reads_earlier_by_frame"][1] > 0
    assert "frame 0:" in captured and "frame 1:" in captured
    assert main(["audit", str(TINY), "--frame", "2"]) == 2
    assert "outside the video [2, 2, 3, 1]" in capsys.readouterr().err
    assert main(["audit", str(REPO / "zoo_configs" / "tiny" / "pixelcnn.yaml"), "--frame", "1"]) == 2
    assert "--frame does not apply to image models" in capsys.readouterr().err


def test_served_video_model_samples_through_the_client(run_dir, tmp_path, capsys):
    from arzoo.runs import open_run
    from arzoo.serving.server import ModelEntry, Server

    assert main(["export", str(run_dir), "--base", str(tmp_path / "exports"), "--name", "video"]) == 0
    capsys.readouterr()
    server = Server([ModelEntry("video", str(tmp_path / "exports" / "video"))], poll_wait_seconds=60.0).start()
    try:
        out = tmp_path / "served.png"
        assert main(["client", "sample", "--target", server.address, "--model", "video", "--n", "3",
                     "--seed", "4", "--out", str(out)]) == 0
        report = last_json(capsys.readouterr().out)
    finally:
        server.stop()
    model = open_run(str(run_dir)).model
    np.testing.assert_array_equal(np.load(report["samples"]), model.sample(3, seed=4).numpy())
    assert Image.open(report["gif"]).n_frames == 2 and Image.open(out).format == "PNG"

"""The end-to-end offline demo behind `make run`.

Trains a small Gated PixelCNN on real Fashion-MNIST (offline, Debian's
dataset-fashion-mnist; scikit-learn's digits if that is missing), prints test
bits/dim next to the uniform and independent-pixel baselines, exports it for
TensorFlow Serving, starts `arzoo serve` (the embedded gRPC PredictionService)
in the background, and over gRPC draws a PNG grid of samples and a PNG of
completions (top half given, bottom half sampled, as in figure 1 of the
PixelRNN paper) and checks a log_prob against the in-process model.
"""

import contextlib
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "zoo_configs" / "fashion_mnist" / "gated_pixelcnn_demo.yaml"
FALLBACK_CONFIG = REPO / "zoo_configs" / "digits" / "gated_pixelcnn.yaml"


def _say(message):
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def _choose_config(overrides):
    import arzoo
    from arzoo.events.image import load_image_split as load_split

    if not DEMO_CONFIG.exists():
        raise FileNotFoundError(
            f"{DEMO_CONFIG} is missing: run the demo from an arzoo checkout (`make run`)."
        )
    config = arzoo.load_config(DEMO_CONFIG, overrides)
    try:
        load_split(config["data"], "test[:1]", config["model"]["num_levels"])
        return config
    except FileNotFoundError as err:
        _say(f"Fashion-MNIST is not available offline ({err}); using scikit-learn's digits.")
        return arzoo.load_config(FALLBACK_CONFIG, [o for o in overrides if not o.startswith("data.max")])


def _completion_batch(model, test, num_images, per_image):
    """Test images with their bottom half unknown, repeated once per completion."""
    images = np.stack([example["image"].numpy() for example in test.take(num_images)])
    known = np.zeros_like(images)
    known[:, : model.image_shape[0] // 2] = 1
    repeated = np.repeat(images, per_image, axis=0)
    return images, known, repeated, np.repeat(known, per_image, axis=0)


@contextlib.contextmanager
def background_server(model_config_file, timeout=120):
    """`arzoo serve` in a subprocess on a free port; yields its address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "arzoo.cli", "serve", "--model_config_file", model_config_file,
         "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    try:
        deadline = time.time() + timeout
        address = None
        while address is None and time.time() < deadline:
            line = process.stdout.readline()
            if not line:
                if process.poll() is not None:
                    raise RuntimeError(f"arzoo serve exited with code {process.returncode}")
                continue
            match = re.search(r"listening on (\S+)", line)
            address = match.group(1) if match else None
        if address is None:
            raise RuntimeError(f"arzoo serve did not start within {timeout} s")
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_demo(
    output="demo_output",
    steps=None,
    max_test_examples=None,
    num_samples=16,
    num_completed_images=4,
    completions_per_image=3,
):
    """Train, evaluate, export, serve, sample and complete over gRPC; print
    where everything went."""
    from arzoo.evaluation.run import evaluate
    from arzoo.figures import completion_rows, save_grid
    from arzoo.runs import Run
    from arzoo.serving import Client, export_model
    from arzoo.serving.client import row_seeds
    from arzoo.serving.config_files import update_model_config
    from arzoo.training import train
    from arzoo.events.image import load_image_split as load_split

    overrides = []
    if steps is not None:
        overrides.append(f"training.steps={steps}")
    if max_test_examples is not None:
        overrides.append(f"data.max_test_examples={max_test_examples}")
    config = _choose_config(overrides)
    data = config["data"]
    run_dir = os.path.join(output, "run")  # `train` writes its config.yaml

    _say(f"training {config['model']['family']} on {data.dataset} for {config['training'].steps} steps")
    start = time.time()
    result = train(config, run_dir, progress=True)
    train_seconds = time.time() - start
    model = result.model

    _say("evaluating test log-likelihood and baselines")
    report = evaluate(Run(model, config, run_dir))

    name = config["model"]["family"]
    export_path = export_model(model, os.path.join(output, "exports"), name)
    model_config_file = os.path.join(output, "exports", "models.config")  # as `arzoo export` keeps it
    update_model_config(model_config_file, name, os.path.join(output, "exports", name))
    _say(f"exported {export_path}; starting arzoo serve")

    test = load_split(data, data.test_split, model.num_levels)
    images, known, repeated, repeated_known = _completion_batch(
        model, test, num_completed_images, completions_per_image
    )
    with background_server(model_config_file) as address:
        _say(
            f"gRPC {address}: sampling {num_samples} images and {num_completed_images}x"
            f"{completions_per_image} completions ({model.num_steps} steps each)"
        )
        with Client(address, name) as client:
            start = time.time()
            samples = client.sample(row_seeds(2024, num_samples))
            sample_seconds = time.time() - start
            drawn = client.complete(repeated, repeated_known, row_seeds(7, len(repeated)))
            served_log_prob = client.log_prob(images)["log_prob"]
    local_log_prob = model.log_prob(images).numpy()
    log_prob_gap = float(abs(served_log_prob - local_log_prob).max())
    completions = drawn.reshape(
        (num_completed_images, completions_per_image) + model.image_shape
    ).transpose(1, 0, 2, 3, 4)

    samples_png = save_grid(os.path.join(output, "samples.png"), samples, model.num_levels)
    completions_png = save_grid(
        os.path.join(output, "completions.png"),
        completion_rows(images, known, completions),
        model.num_levels,
        columns=completions_per_image + 2,
    )
    baselines = report["baselines"]
    print()
    print(f"arzoo demo: {type(model).__name__} on {data.dataset} ({list(model.image_shape)}, {model.num_levels} levels)")
    print(f"  trained {result.step} steps in {train_seconds:.0f} s")
    print(f"  test bits/dim ({report['num_examples']} test images):")
    print(f"    Gated PixelCNN           {report['bits_per_dim']:.4f}")
    print(f"    independent pixels       {baselines['independent_pixels']['bits_per_dim']:.4f}")
    print(f"    uniform                  {baselines['uniform']['bits_per_dim']:.4f}")
    print(f"  served over gRPC ({address}): {num_samples} samples in {sample_seconds:.1f} s; "
          f"log_prob served vs in-process differs by {log_prob_gap:.2e} nats")
    print(f"  export:       {os.path.abspath(export_path)}")
    print(f"  samples:      {os.path.abspath(samples_png)}")
    print(f"  completions:  {os.path.abspath(completions_png)}  (original | top half given | {completions_per_image} completions)")
    print(f"  model:        {os.path.abspath(os.path.join(run_dir, 'model.keras'))}")
    return {
        "bits_per_dim": report["bits_per_dim"],
        "baselines": baselines,
        "num_examples": report["num_examples"],
        "train_seconds": train_seconds,
        "sample_seconds": sample_seconds,
        "log_prob_gap": log_prob_gap,
        "export": export_path,
        "samples_png": samples_png,
        "completions_png": completions_png,
    }

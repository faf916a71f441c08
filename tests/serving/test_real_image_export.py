"""A real-valued image model's export (the spatial LSTM) runs without arzoo:
the TF2 loader and the TF1 session loader (`saved_model_cli run`) in
processes that cannot import arzoo, and TensorFlow's C API (what TF Serving
calls), each against arzoo in-process."""

import subprocess

import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.sampling.seeds import step_uniforms
from arzoo.serving import export_model
from arzoo.serving.signatures import flatten_state, unflatten_state
from tests import test_case
from tests.serving import compat_helpers as ch

BATCH = 3
POSITION = 5  # the streamed state's step (every row at the same one: they advance together)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    model = test_case.build_case("spatial_lstm", "rgb")  # noisy weights, coupled channels
    height, width, channels = model.image_shape
    base = tmp_path_factory.mktemp("real_image_exports")
    path = export_model(model, base, "ride")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(BATCH,) + model.image_shape).astype(np.float32)
    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(11), BATCH).numpy()
    temperature = np.array([0.5, 1.0, 1.5], np.float32)
    known = np.zeros(x.shape, np.int32)
    known[:, :1] = 1  # the first row known, whole pixels
    state = model.initial_state(BATCH)
    steps = model.to_steps(x).numpy()
    previous = np.zeros((BATCH, channels), np.float32)
    for t in range(POSITION):
        _, state = model.step(previous, state)
        previous = steps[:, t]
    state = {k: np.asarray(v) for k, v in flatten_state(state).items()}
    inputs = ch.signature_inputs(x, known, seeds, temperature, previous, state)

    template = model.initial_state(BATCH)
    params, new_state = model.step(previous, unflatten_state(template, {k: tf.constant(v) for k, v in state.items()}))
    uniforms_t = step_uniforms(seeds, model.num_steps, model.uniforms_per_step)[:, POSITION]
    values = model.draw_step(params, uniforms_t, tf.constant(temperature))
    expected = {
        "log_prob": {"log_prob": model.log_prob(x).numpy()},
        "sample": {"samples": model.sample(seeds=seeds, temperature=temperature).numpy()},
        "complete": {"samples": model.complete(x, known, seeds=seeds, temperature=temperature).numpy()},
        "initial_state": {k: np.asarray(v) for k, v in flatten_state(model.initial_state(BATCH)).items()},
        "step": {"params": params.numpy(), "values": values.numpy(),
                 **{k: np.asarray(v) for k, v in flatten_state(new_state).items()}},
        "metadata": ch.metadata_rows(BATCH, {"image_shape": [height, width, channels],
                                             "num_steps": height * width, "max_batch_size": ch.MAX_BATCH_SIZE,
                                             "zero_mean": 0}),
    }
    expected["serving_default"] = expected["log_prob"]
    paths = ch.save_inputs(inputs, base / "inputs")
    return model, path, inputs, expected, paths


@pytest.fixture(scope="module")
def loader(export, tmp_path_factory):
    _, path, _, _, paths = export
    work = tmp_path_factory.mktemp("real_image_loader")
    report = ch.run_python_loader([{"key": "ride", "export_dir": str(path), "inputs": paths, "out": str(work / "ride")}],
                                  work)
    outputs = {s: ch.load_outputs(work / "ride" / s) for s in ch.SIGNATURES}
    return report, outputs, ch.load_outputs(work / "ride" / "stream")


def test_every_signature_without_arzoo_matches_arzoo(export, loader):
    report, outputs, _ = loader
    assert report["ride"]["signatures"] == sorted(ch.SIGNATURES)
    assert not {"PyFunc", "EagerPyFunc"} & set(ch.graph_op_types(export[1]))
    for signature in ch.SIGNATURES:
        ch.assert_outputs_close(outputs[signature], export[3][signature], f"loader {signature}")
    inputs = export[2]
    known = inputs["complete"]["known_mask"] == 1
    np.testing.assert_array_equal(outputs["complete"]["samples"][known], inputs["complete"]["x"][known])


def test_streaming_step_reproduces_sample(export, loader):
    model, *_ = export
    _, outputs, stream = loader
    np.testing.assert_allclose(stream["values"], model.to_steps(outputs["sample"]["samples"]).numpy(),
                               rtol=1e-5, atol=1e-5)


def test_saved_model_cli_runs_log_prob_and_sample(export, loader, tmp_path):
    _, path, _, _, paths = export
    commands = [ch.saved_model_cli_command([
        "run", "--dir", str(path), "--tag_set", "serve", "--signature_def", signature,
        "--inputs", ";".join(f"{n}={p}" for n, p in paths[signature].items()), "--outdir", str(tmp_path / signature),
    ]) for signature in ("log_prob", "sample")]
    for signature, (rc, out, err) in zip(("log_prob", "sample"), ch.run_many(commands, cwd=str(tmp_path), workers=1)):
        assert rc == 0, err[-3000:]
        assert "NO_ARZOO_OK" in out
        ch.assert_outputs_close(ch.load_outputs(tmp_path / signature), loader[1][signature], f"saved_model_cli {signature}")


def test_c_api_runs_every_signature(export, loader, tmp_path):
    _, path, inputs, _, _ = export
    binary = ch.compile_capi(tmp_path)
    tensors = ch.signature_tensors(path)
    argv, files = ch.capi_command(binary, path, [(s, tensors[s], inputs[s]) for s in ch.SIGNATURES], tmp_path / "runs")
    proc = subprocess.run(argv, capture_output=True, text=True, env=ch.blocked_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for signature in ch.SIGNATURES:
        got = {name: ch.read_capi_output(p) for name, p in files[signature].items()}
        ch.assert_outputs_close(got, loader[1][signature], f"C API {signature}")


def test_bad_input_is_invalid_argument(export):
    loaded = tf.saved_model.load(str(export[1]))
    x = export[2]["log_prob"]["x"].copy()
    x[0, 0, 0, 0] = np.inf
    with pytest.raises(tf.errors.InvalidArgumentError, match="input 'x' is not finite"):
        loaded.signatures["log_prob"](x=tf.constant(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size must be <= 64"):
        loaded.signatures["log_prob"](x=tf.zeros((65,) + export[0].image_shape))
    step = dict(export[2]["step"])
    step["state_position"] = np.array([POSITION, POSITION - 1, POSITION], np.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="same in every row"):
        loaded.signatures["step"](**{k: tf.constant(v) for k, v in step.items()})


def test_a_zero_mean_export_samples_and_scores_as_in_process(tmp_path):
    """The BSDS300 protocol's model served: `sample` and `complete` set the
    last pixel to minus the sum of the others, as in process, and
    `log_prob` leaves it out."""
    model = test_case.build_tiny("mcgsm", image_shape=[2, 3, 1], zero_mean=True)
    loaded = tf.saved_model.load(str(export_model(model, tmp_path, "bsds")))
    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(3), BATCH).numpy()
    temperature = np.ones(BATCH, np.float32)
    samples = loaded.signatures["sample"](seed=tf.constant(seeds), temperature=tf.constant(temperature))["samples"]
    np.testing.assert_allclose(samples, model.sample(seeds=seeds).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.sum(samples, axis=(1, 2, 3)), 0.0, atol=1e-5)
    known = np.zeros((BATCH, 2, 3, 1), np.int32)
    known[:, 0] = 1
    completed = loaded.signatures["complete"](x=samples, known_mask=tf.constant(known), seed=tf.constant(seeds),
                                              temperature=tf.constant(temperature))["samples"]
    np.testing.assert_allclose(np.sum(completed, axis=(1, 2, 3)), 0.0, atol=1e-5)
    moved = samples.numpy().copy()
    moved[:, -1, -1] += 3.0
    served = loaded.signatures["log_prob"](x=tf.constant(moved))["log_prob"]
    np.testing.assert_allclose(served, model.log_prob(samples).numpy(), rtol=1e-5, atol=1e-5)
    assert loaded.signatures["metadata"](seed=tf.constant(seeds))["zero_mean"].numpy().tolist() == [1] * BATCH

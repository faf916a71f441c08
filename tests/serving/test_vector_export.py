"""RNADE's export runs without arzoo: the TF2 loader and TF1 session loader
(`saved_model_cli run`) in processes that cannot import arzoo, and
TensorFlow's C API (what TF Serving calls), each against arzoo in-process."""

import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf

import arzoo
from arzoo.models import RNADE
from arzoo.sampling.seeds import step_uniforms
from arzoo.serving import export_model
from arzoo.serving.signatures import flatten_state
from tests.serving import compat_helpers as ch

BATCH = 3
NUM_DIMS = 5


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    keras.utils.set_random_seed(4)
    model = RNADE(num_dims=NUM_DIMS, num_hidden=8, num_components=3, ordering="random", ordering_seed=3)
    rng = np.random.default_rng(0)
    # Non-zero biases so a mix-up of dimensions or steps shows in the numbers.
    model.set_weights([w + rng.normal(scale=0.3, size=w.shape) for w in model.get_weights()])
    base = tmp_path_factory.mktemp("vector_exports")
    path = export_model(model, base, "rnade")

    x = rng.normal(size=(BATCH, NUM_DIMS)).astype(np.float32)
    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(11), BATCH).numpy()
    temperature = np.array([0.5, 1.0, 1.5], np.float32)
    known = (rng.uniform(size=(BATCH, NUM_DIMS)) < 0.5).astype(np.int32)
    # A state two steps in, teacher-forced with x.
    state = model.initial_state(BATCH)
    steps = x[:, model.ordering]
    previous = np.zeros((BATCH, 1), np.float32)
    for t in range(2):
        _, state = model.step(previous, state)
        previous = steps[:, t : t + 1]
    state = {k: np.asarray(v) for k, v in flatten_state(state).items()}
    inputs = ch.signature_inputs(x, known, seeds, temperature, previous, state)

    params, new_state = model.step(previous, _state(model, state))
    uniforms_t = step_uniforms(seeds, NUM_DIMS, 2)[:, 2]
    values = model.head.step_sample(params, uniforms_t, tf.constant(temperature))[:, 0]
    expected = {
        "log_prob": {"log_prob": model.log_prob(x).numpy()},
        "sample": {"samples": model.sample(seeds=seeds, temperature=temperature).numpy()},
        "complete": {"samples": model.complete(x, known, seeds=seeds, temperature=temperature).numpy()},
        "initial_state": {k: np.asarray(v) for k, v in flatten_state(model.initial_state(BATCH)).items()},
        "step": {"params": params.numpy(), "values": values.numpy()[:, None],
                 **{k: np.asarray(v) for k, v in flatten_state(new_state).items()}},
        "metadata": {"num_dims": np.full(BATCH, NUM_DIMS, np.int32),
                     "num_steps": np.full(BATCH, NUM_DIMS, np.int32),
                     "max_batch_size": np.full(BATCH, ch.MAX_BATCH_SIZE, np.int32)},
    }
    expected["serving_default"] = expected["log_prob"]
    paths = ch.save_inputs(inputs, base / "inputs")
    return model, path, inputs, expected, paths


def _state(model, flat):
    from arzoo.serving.signatures import unflatten_state

    return unflatten_state(model.initial_state(1), {k: tf.constant(v) for k, v in flat.items()})


@pytest.fixture(scope="module")
def loader(export, tmp_path_factory):
    _, path, _, _, paths = export
    work = tmp_path_factory.mktemp("vector_loader")
    report = ch.run_python_loader([{"key": "rnade", "export_dir": str(path), "inputs": paths, "out": str(work / "rnade")}], work)
    outputs = {s: ch.load_outputs(work / "rnade" / s) for s in ch.SIGNATURES}
    return report, outputs, ch.load_outputs(work / "rnade" / "stream")


def test_every_signature_without_arzoo_matches_arzoo(export, loader):
    report, outputs, _ = loader
    assert report["rnade"]["signatures"] == sorted(ch.SIGNATURES)
    assert "PyFunc" not in ch.graph_op_types(export[1]) and "EagerPyFunc" not in ch.graph_op_types(export[1])
    for signature in ch.SIGNATURES:
        ch.assert_outputs_close(outputs[signature], export[3][signature], f"loader {signature}")
    # Known dimensions are kept exactly.
    _, _, inputs, _, _ = export
    known = inputs["complete"]["known_mask"] == 1
    np.testing.assert_array_equal(outputs["complete"]["samples"][known], inputs["complete"]["x"][known])


def test_streaming_step_reproduces_sample(export, loader):
    model, *_ = export
    report, outputs, stream = loader
    streamed = stream["values"][:, :, 0]  # [B, D] in step order
    np.testing.assert_allclose(streamed, outputs["sample"]["samples"][:, model.ordering], rtol=1e-5, atol=1e-5)
    assert "state_position must be < num_steps=5" in report["rnade"]["stream_refused_past_end"]


@pytest.mark.parametrize("signature", ["log_prob", "sample", "step"])
def test_saved_model_cli_run(export, loader, signature, tmp_path):
    _, path, _, _, paths = export
    inputs = ";".join(f"{n}={p}" for n, p in paths[signature].items())
    (rc, out, err), = ch.run_many([ch.saved_model_cli_command([
        "run", "--dir", str(path), "--tag_set", "serve", "--signature_def", signature,
        "--inputs", inputs, "--outdir", str(tmp_path),
    ])], cwd=str(tmp_path), workers=1)
    assert rc == 0, err[-3000:]
    assert "NO_ARZOO_OK" in out
    ch.assert_outputs_close(ch.load_outputs(tmp_path), loader[1][signature], f"saved_model_cli {signature}")


def test_c_api_runs_every_signature(export, loader, tmp_path):
    _, path, inputs, _, _ = export
    binary = ch.compile_capi(tmp_path)
    tensors = ch.signature_tensors(path)
    runs = [(s, tensors[s], inputs[s]) for s in ch.SIGNATURES]
    argv, files = ch.capi_command(binary, path, runs, tmp_path / "runs")
    proc = subprocess.run(argv, capture_output=True, text=True, env=ch.blocked_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for signature in ch.SIGNATURES:
        got = {name: ch.read_capi_output(p) for name, p in files[signature].items()}
        ch.assert_outputs_close(got, loader[1][signature], f"C API {signature}")


def test_bad_input_is_invalid_argument(export):
    loaded = tf.saved_model.load(str(export[1]))
    x = export[2]["log_prob"]["x"].copy()
    x[0, 0] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="input 'x' is not finite"):
        loaded.signatures["log_prob"](x=tf.constant(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size must be <= 64"):
        loaded.signatures["log_prob"](x=tf.zeros([65, NUM_DIMS]))
    seeds = export[2]["sample"]["seed"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"temperature.{0,3} must be > 0"):
        loaded.signatures["sample"](seed=tf.constant(seeds), temperature=tf.zeros([BATCH]))

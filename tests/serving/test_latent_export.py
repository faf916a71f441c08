"""A PixelVAE export runs without arzoo: every signature, `encode` and
`decode` too, through the TF2 loader in a process that cannot import arzoo
and through TensorFlow's C API (what TF Serving calls), each against arzoo
in-process. Its `log_prob` is the importance-weighted bound, with the ELBO,
KL and reconstruction beside it, and `metadata` says it is a bound."""

import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import arzoo
import arzoo.sampling
from arzoo.sampling.seeds import step_uniforms
from arzoo.serving import export_model
from arzoo.serving.signatures import flatten_state, unflatten_state
from tests import test_case
from tests.serving import compat_helpers as ch

BATCH = 3
SIGNATURES = ch.SIGNATURES + ("encode", "decode")
TERMS = ("log_prob", "iw_bound", "elbo", "reconstruction", "kl")


def _teacher_forced_state(model, seeds, x, steps_taken):
    """The streaming state after `steps_taken` steps fed with x's values."""
    state = model.initial_state_for_seeds(tf.constant(seeds))
    steps = model.to_steps(x).numpy()
    previous = np.zeros([len(x), model.values_per_step], np.int32)
    for t in range(steps_taken):
        _, state = model.step(tf.constant(previous), state)
        previous = steps[:, t]
    return {k: np.asarray(v) for k, v in flatten_state(state).items()}, previous


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    model = test_case.build_tiny("pixel_vae", image_shape=[3, 3, 1], num_levels=4)
    model.jit_sampling = False  # the export's loops are graphs; XLA's equals them in test_contract
    base = tmp_path_factory.mktemp("latent_exports")
    path = export_model(model, base, "vae")
    rng = np.random.default_rng(0)
    x = test_case.random_images(model, BATCH, seed=1)
    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(21), BATCH).numpy()
    temperature = np.array([0.6, 1.0, 1.4], np.float32)
    known = np.zeros_like(x)
    known[:, 0] = 1
    code = rng.normal(size=(BATCH, model.latent_dim)).astype(np.float32)
    state, inputs_t = _teacher_forced_state(model, seeds, x, 4)
    inputs = {
        **ch.signature_inputs(x, known, seeds, temperature, inputs_t, state),
        "encode": {"x": x},
        "decode": {"code": code, "seed": seeds, "temperature": temperature},
    }

    template = model.initial_state_for_seeds(tf.constant(seeds))
    params, new_state = model.step(tf.constant(inputs_t), unflatten_state(template, {k: tf.constant(v) for k, v in state.items()}))
    uniforms_t = step_uniforms(seeds, model.num_steps, model.head.num_uniforms)[:, 4]
    terms = {k: v.numpy() for k, v in model.log_prob_terms(tf.constant(x)).items()}
    encoded = model.encode(x)
    expected = {
        "log_prob": {**terms, "bits_per_dim": (-terms["log_prob"] / (9 * np.log(2.0))).astype(np.float32)},
        "sample": {"samples": model.sample(seeds=seeds, temperature=temperature).numpy()},
        "complete": {"samples": model.complete(x, known, seeds=seeds, temperature=temperature).numpy()},
        "initial_state": {k: np.asarray(v) for k, v in flatten_state(template).items()},
        "step": {"params": params.numpy(),
                 "values": model.head.step_sample(params, uniforms_t, tf.constant(temperature)).numpy(),
                 **{k: np.asarray(v) for k, v in flatten_state(new_state).items()}},
        "metadata": ch.metadata_rows(BATCH, {"num_levels": 4, "image_shape": [3, 3, 1], "num_steps": 9,
                                             "max_batch_size": ch.MAX_BATCH_SIZE, "likelihood_is_exact": 0,
                                             "latent_dim": model.latent_dim}),
        "encode": {"mean": encoded["mean"].numpy(), "log_variance": encoded["log_variance"].numpy()},
        "decode": {"samples": model.decode(code, seeds, temperature=temperature).numpy()},
    }
    expected["serving_default"] = expected["log_prob"]
    paths = ch.save_inputs(inputs, base / "inputs")
    return model, path, inputs, expected, paths


@pytest.fixture(scope="module")
def loader(export, tmp_path_factory):
    _, path, _, _, paths = export
    work = tmp_path_factory.mktemp("latent_loader")
    report = ch.run_python_loader([{"key": "vae", "export_dir": str(path), "inputs": paths, "out": str(work / "vae")}], work)
    outputs = {s: ch.load_outputs(work / "vae" / s) for s in SIGNATURES}
    return report, outputs, ch.load_outputs(work / "vae" / "stream")


def test_every_signature_without_arzoo_matches_arzoo(export, loader):
    model, path, inputs, expected, _ = export
    report, outputs, _ = loader
    assert report["vae"]["signatures"] == sorted(SIGNATURES)
    assert report["_arzoo"]["loaded"] == [] and report["_arzoo"]["attempts"] == []
    ops = ch.graph_op_types(path)
    assert not ops & set(ch.FORBIDDEN_OPS) and "XlaDynamicUpdateSlice" not in ops
    for signature in SIGNATURES:
        ch.assert_outputs_close(outputs[signature], expected[signature], f"loader {signature}")
    # The bound's terms add up, and log_prob is the bound (above the ELBO here).
    lp = outputs["log_prob"]
    np.testing.assert_allclose(lp["elbo"], lp["reconstruction"] - lp["kl"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(lp["log_prob"], lp["iw_bound"])
    known = inputs["complete"]["known_mask"] == 1
    np.testing.assert_array_equal(outputs["complete"]["samples"][known], inputs["complete"]["x"][known])
    # decode with the prior draws `sample` uses gives `sample`'s images.
    z = model.prior_latents(tf.constant(inputs["sample"]["seed"])).numpy()
    np.testing.assert_array_equal(
        model.decode(z, inputs["sample"]["seed"], temperature=inputs["sample"]["temperature"]).numpy(),
        outputs["sample"]["samples"],
    )


def test_streaming_step_reproduces_sample(export, loader):
    """initial_state draws each row's latent from its seed, as `sample` does,
    and carries it in the state: streaming `step` draws `sample`'s images."""
    model, *_ = export
    report, outputs, stream = loader
    np.testing.assert_array_equal(stream["values"], model.to_steps(outputs["sample"]["samples"]).numpy())
    assert "state_position must be < num_steps=9" in report["vae"]["stream_refused_past_end"]


def test_c_api_runs_every_signature(export, loader, tmp_path):
    _, path, inputs, _, _ = export
    binary = ch.compile_capi(tmp_path)
    tensors = ch.signature_tensors(path)
    runs = [(s, tensors[s], inputs[s]) for s in SIGNATURES]
    argv, files = ch.capi_command(binary, path, runs, tmp_path / "runs")
    proc = subprocess.run(argv, capture_output=True, text=True, env=ch.blocked_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for signature in SIGNATURES:
        got = {name: ch.read_capi_output(p) for name, p in files[signature].items()}
        ch.assert_outputs_close(got, loader[1][signature], f"C API {signature}")


def test_bad_codes_are_invalid_argument(export):
    loaded = tf.saved_model.load(str(export[1]))
    decode = export[2]["decode"]
    code = decode["code"].copy()
    code[0, 0] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input .{0,2}code.{0,2} is not finite"):
        loaded.signatures["decode"](code=tf.constant(code), seed=tf.constant(decode["seed"]),
                                    temperature=tf.constant(decode["temperature"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"input .{0,2}code.{0,2} must have the same batch size"):
        loaded.signatures["decode"](code=tf.constant(decode["code"][:2]), seed=tf.constant(decode["seed"]),
                                    temperature=tf.constant(decode["temperature"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="has a level >= num_levels=4"):
        loaded.signatures["encode"](x=tf.fill([1, 3, 3, 1], 4))


@pytest.mark.slow
def test_the_embedded_server_serves_encode_decode_and_the_bound(export, loader):
    """Through arzoo's embedded gRPC server (TF Serving's API): encode,
    decode, the bound and its terms, and a sample streamed `step` by `step`
    with the latent in the state, each equal to the loaders' numbers."""
    from arzoo.serving import Client, Server

    model, path, inputs, _, _ = export
    _, outputs, _ = loader
    server = Server.from_flags(model_name="vae", model_base_path=os.path.dirname(path)).start()
    try:
        with Client(server.address, "vae", timeout=60.0) as client:
            assert client.model_info()["likelihood_is_exact"] == 0
            ch.assert_outputs_close(client.encode(inputs["encode"]["x"]), outputs["encode"], "server encode")
            decode = inputs["decode"]
            np.testing.assert_array_equal(
                client.decode(decode["code"], decode["seed"], decode["temperature"]), outputs["decode"]["samples"])
            ch.assert_outputs_close(client.log_prob(inputs["log_prob"]["x"]), outputs["log_prob"], "server log_prob")
            sample = inputs["sample"]
            streamed = client.stream_images(sample["seed"], sample["temperature"])
            np.testing.assert_array_equal(streamed, outputs["sample"]["samples"])
    finally:
        server.stop()

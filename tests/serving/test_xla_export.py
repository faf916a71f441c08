"""XLA-compiled exports (`export_model(..., xla=True)`, `arzoo export --xla`).

Same seed, same sample: every family's XLA export draws what the portable
export draws (tests/serving/test_compat.py checks the portable one against
arzoo in-process, loop for loop), and what in-process XLA sampling draws.
TensorFlow's C API (the loader TF Serving calls) and the TF1 session loader
(`saved_model_cli run`) run an XLA export's signatures with the Python
loader's answers. Only the sampling loops are compiled: the other signatures
stay portable.
"""

import json
import pathlib
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml
from tensorflow.python.saved_model import loader_impl

from arzoo.cli import main
from arzoo.models import RNADE
from arzoo.serving import export_model
from arzoo.serving.signatures import batch_buckets
from arzoo.serving.xla import xla_signatures
from tests import test_case
from tests.serving import compat_helpers as ch
from tests.serving.test_compat import _build

# One worker runs this module: its exports are built once.
pytestmark = pytest.mark.xdist_group("xla_export")

SAMPLING = ("sample", "complete")
# One export per kind of event through the session loader, the image and
# audio ones through the C API and against in-process XLA sampling too.
LOADER_KEYS = ("gated_pixelcnn-class", "wavenet-both", "char_rnn-class")
CAPI_KEYS = LOADER_KEYS[:2]


def _one_per_family(cases):
    """One of test_compat's export cases per family (its last variant, or
    the one LOADER_KEYS names): the compiled loop is the family's, whatever
    the conditioning; test_compat runs every variant's portable export."""
    chosen = {}
    for family, variant in cases:
        if chosen.get(family) not in LOADER_KEYS:
            chosen[family] = f"{family}-{variant}"
    return tuple(chosen.values())


KEYS = _one_per_family(ch.export_cases())


def _run(loaded, signature, inputs):
    return {k: v.numpy() for k, v in loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()}).items()}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """{key: (model, inputs, XLA export path)} for every family (one variant each)."""
    base = tmp_path_factory.mktemp("xla_exports")
    return {
        key: (model, ch.make_inputs(model), pathlib.Path(export_model(model, base, key.replace("-", "_"), xla=True,
                                                                      warmup=False)))
        for key, model in ((key, _build(key)) for key in KEYS)
    }


def test_batch_buckets():
    assert batch_buckets(64) == [1, 2, 4, 8, 16, 32, 64]
    assert batch_buckets(48) == [1, 2, 4, 8, 16, 32, 48]
    assert batch_buckets(1) == [1] and batch_buckets(2) == [1, 2] and batch_buckets(6) == [1, 2, 4, 6]


@pytest.mark.parametrize("key", KEYS)
def test_xla_export_samples_equal_in_process(exports, key):
    """sample and complete of the XLA export equal arzoo's in-process graph
    loop (which the portable export equals), and only they need XLA."""
    model, inputs, path = exports[key]
    loaded = tf.saved_model.load(str(path))
    expected = ch.expected_outputs(model, inputs)
    for signature in SAMPLING:
        got = _run(loaded, signature, inputs[signature])
        ch.assert_outputs_close(got, expected[signature], f"XLA export {key}/{signature}")
    meta_graph = loader_impl.parse_saved_model(str(path)).meta_graphs[0]
    assert xla_signatures(meta_graph) == set(SAMPLING)
    if model.modality == "audio":  # the compiled loop writes WaveNet's queues in place
        assert "XlaDynamicUpdateSlice" in ch.graph_op_types(path)
    assert _run(loaded, "metadata", inputs["metadata"])["xla"].tolist() == [1] * len(inputs["metadata"]["seed"])


def test_portable_export_needs_no_xla(tmp_path):
    model = test_case.build_tiny("gated_pixelcnn")
    path = export_model(model, tmp_path, "portable", max_batch_size=4, warmup=False)
    meta_graph = loader_impl.parse_saved_model(path).meta_graphs[0]
    assert xla_signatures(meta_graph) == set()
    metadata = tf.saved_model.load(path).signatures["metadata"](seed=tf.zeros([1, 2], tf.int32))
    assert "xla" not in metadata


@pytest.mark.parametrize("key", ["wavenet-both"])
def test_xla_export_samples_in_row_groups(exports, key, tmp_path, monkeypatch):
    """An XLA export cuts a batch into row groups (compiled calls side by
    side) as in-process sampling does: the same samples at every count."""
    from arzoo.serving import signatures

    monkeypatch.setattr(signatures, "max_row_groups", lambda max_groups: 3)  # 1, 2 or 3 groups
    model, inputs, _ = exports[key]
    grouped = tf.saved_model.load(export_model(model, tmp_path, "grouped", max_batch_size=16, xla=True, warmup=False))
    portable = tf.saved_model.load(export_model(model, tmp_path, "portable", max_batch_size=16, warmup=False))
    for rows in (5, 8, 13):  # one group of 5; two of 4; three of 4, 4 and 5 (each padded to 4 or 8)
        request = {k: np.resize(v, (rows,) + v.shape[1:]) for k, v in inputs["sample"].items()}
        request["seed"] = np.stack([np.arange(rows), np.full(rows, 3)], axis=1).astype(np.int32)
        np.testing.assert_array_equal(_run(grouped, "sample", request)["samples"],
                                      _run(portable, "sample", request)["samples"])


@pytest.mark.parametrize("key", CAPI_KEYS)
def test_three_paths_give_the_same_samples(exports, key, tmp_path):
    """In-process XLA sampling, the portable export and the XLA export: one
    seed per row, the same samples, at batch sizes padded to a bucket and not."""
    model, inputs, xla_path = exports[key]
    portable = tf.saved_model.load(export_model(model, tmp_path, "portable", warmup=False))
    compiled = tf.saved_model.load(str(xla_path))
    model.jit_sampling = True
    try:
        for rows in (1, 3):  # 3 runs padded to the bucket of 4
            request = {k: np.resize(v, (rows,) + v.shape[1:]) for k, v in inputs["sample"].items()}
            request["seed"] = np.stack([np.arange(rows), np.full(rows, 7)], axis=1).astype(np.int32)
            from_portable = _run(portable, "sample", request)["samples"]
            np.testing.assert_array_equal(_run(compiled, "sample", request)["samples"], from_portable)
            condition = ch.model_condition(model, request)
            length = request["length"][0] if "length" in request else None
            in_process = model.sample(seeds=request["seed"], condition=condition, temperature=request["temperature"],
                                      length=length).numpy()
            np.testing.assert_array_equal(in_process, from_portable)
    finally:
        model.jit_sampling = False


def test_latent_and_vector_xla_exports_equal_in_process(tmp_path):
    """The families outside test_compat's cases: PixelVAE's sample, complete
    and decode (its decoder's loop), and RNADE's real-valued draws (equal
    within float rounding: XLA may fuse the inverse CDF's arithmetic)."""
    vae = test_case.build_tiny("pixel_vae", image_shape=[3, 3, 1], num_levels=4)
    vae.jit_sampling = False
    loaded = tf.saved_model.load(export_model(vae, tmp_path, "vae", max_batch_size=4, xla=True, warmup=False))
    seeds = np.array([[1, 2], [3, 4], [5, 6]], np.int32)
    temperature = np.array([0.7, 1.0, 1.3], np.float32)
    x = test_case.random_images(vae, 3, seed=1)
    known = np.zeros_like(x)
    known[:, 0] = 1
    code = np.random.default_rng(0).normal(size=(3, vae.latent_dim)).astype(np.float32)
    got = {
        "sample": _run(loaded, "sample", {"seed": seeds, "temperature": temperature})["samples"],
        "complete": _run(loaded, "complete", {"x": x, "known_mask": known, "seed": seeds,
                                              "temperature": temperature})["samples"],
        "decode": _run(loaded, "decode", {"code": code, "seed": seeds, "temperature": temperature})["samples"],
    }
    np.testing.assert_array_equal(got["sample"], vae.sample(seeds=seeds, temperature=temperature).numpy())
    np.testing.assert_array_equal(got["complete"], vae.complete(x, known, seeds=seeds, temperature=temperature).numpy())
    np.testing.assert_array_equal(got["decode"], vae.decode(code, seeds, temperature=temperature).numpy())
    meta_graph = loader_impl.parse_saved_model(str(tmp_path / "vae" / "1")).meta_graphs[0]
    assert xla_signatures(meta_graph) == {"sample", "complete", "decode"}

    keras.utils.set_random_seed(4)
    rnade = RNADE(num_dims=5, num_hidden=8, num_components=3)
    rnade.jit_sampling = False
    loaded = tf.saved_model.load(export_model(rnade, tmp_path, "rnade", max_batch_size=4, xla=True, warmup=False))
    samples = _run(loaded, "sample", {"seed": seeds, "temperature": temperature})["samples"]
    np.testing.assert_allclose(samples, rnade.sample(seeds=seeds, temperature=temperature).numpy(), rtol=1e-5,
                               atol=1e-5)


# ----- the loaders TF Serving and saved_model_cli use ----------------------------


@pytest.fixture(scope="module")
def capi_binary(tmp_path_factory):
    return ch.compile_capi(tmp_path_factory.mktemp("xla_capi_build"))


@pytest.fixture(scope="module")
def python_outputs(exports):
    """Every signature of the LOADER_KEYS exports through the TF2 loader."""
    result = {}
    for key in LOADER_KEYS:
        _, inputs, path = exports[key]
        loaded = tf.saved_model.load(str(path))
        result[key] = {s: _run(loaded, s, inputs[s]) for s in ch.SIGNATURES}
    return result


@pytest.mark.parametrize("key", CAPI_KEYS)
def test_c_api_runs_an_xla_export(exports, python_outputs, capi_binary, key, tmp_path):
    """TF_LoadSessionFromSavedModel + TF_SessionRun of every signature of an
    XLA export: the Python loader's answers (the C++ loader TF Serving runs
    compiles the jit function itself)."""
    _, inputs, path = exports[key]
    tensors = ch.signature_tensors(path)
    argv, files = ch.capi_command(capi_binary, path, [(s, tensors[s], inputs[s]) for s in ch.SIGNATURES], tmp_path / "runs")
    proc = subprocess.run(argv, capture_output=True, text=True, env=ch.blocked_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for signature in ch.SIGNATURES:
        got = {name: ch.read_capi_output(p) for name, p in files[signature].items()}
        ch.assert_outputs_close(got, python_outputs[key][signature], f"C API {key}/{signature}")


def test_session_loader_runs_an_xla_export(exports, python_outputs, tmp_path):
    """`saved_model_cli run` (the TF1 session loader), arzoo blocked, on the
    compiled `sample` of every LOADER_KEYS export (`complete` runs the same
    compiled function)."""
    jobs, labels = [], []
    for key in LOADER_KEYS:
        _, inputs, path = exports[key]
        paths = ch.save_inputs({"sample": inputs["sample"]}, tmp_path / "inputs" / key)
        for signature in ("sample",):
            jobs.append({"command": "run", "dir": str(path), "signature": signature,
                         "inputs": ";".join(f"{n}={p}" for n, p in paths[signature].items()),
                         "outdir": str(tmp_path / "out" / key / signature)})
            labels.append((key, signature))
    for (key, signature), (rc, out, err) in zip(labels, ch.run_session_jobs(jobs, cwd=str(tmp_path))):
        assert rc == 0, f"saved_model_cli run {key}/{signature}: {err[-3000:]}"
        assert "NO_ARZOO_OK" in out
        ch.assert_outputs_close(ch.load_outputs(tmp_path / "out" / key / signature), python_outputs[key][signature],
                                f"saved_model_cli {key}/{signature}")


def test_export_command_xla_option_and_config(tmp_path, capsys):
    """`arzoo export --xla`, and the config's export section (the option wins)."""
    config = tmp_path / "tiny.yaml"
    raw = yaml.safe_load((test_case.REPO / "zoo_configs" / "tiny" / "gated_pixelcnn.yaml").read_text())
    config.write_text(yaml.safe_dump(dict(raw, export={"xla": True, "max_batch_size": 4})))
    base = tmp_path / "exports"

    def export(*options):
        assert main(["export", str(config), "--base", str(base), *options]) in (0, None)
        out = capsys.readouterr().out
        return json.loads(out[out.index("{"):])

    by_config = export()
    assert by_config["xla"] is True and by_config["serve_with"] == "--xla_cpu_compilation_enabled=true"
    portable = export("--no-xla", "--no-warmup")
    assert portable["xla"] is False and "serve_with" not in portable
    for result, needs_xla, warm in ((by_config, {"sample", "complete"}, True), (portable, set(), False)):
        meta_graph = loader_impl.parse_saved_model(result["export"]).meta_graphs[0]
        assert xla_signatures(meta_graph) == needs_xla
        assert (pathlib.Path(result["export"]) / "assets.extra" / "tf_serving_warmup_requests").exists() == warm
        metadata = tf.saved_model.load(result["export"]).signatures["metadata"](seed=tf.zeros([1, 2], tf.int32))
        assert metadata["max_batch_size"].numpy().tolist() == [4]

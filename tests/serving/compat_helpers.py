"""Helpers for the serving compatibility tests (tests/serving/test_compat.py).

The tests prove an export runs without arzoo, the way a server runs it:
the TF2 Python loader and the TF1 session loader (`saved_model_cli`) in a
process that cannot import arzoo, and TensorFlow's C API from a small C
program (`capi/run_signature.c`). This module builds the inputs, the values
arzoo computes in-process for them, and runs those processes.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
PYTHON = sys.executable
SAVED_MODEL_CLI = str(pathlib.Path(sys.executable).parent / "saved_model_cli")
LOADER_SCRIPT = HERE / "compat_loader.py"
CAPI_SOURCE = HERE / "capi" / "run_signature.c"

SIGNATURES = ("serving_default", "log_prob", "sample", "complete", "initial_state", "step", "metadata")
# The exports' max_batch_size (export_model's default), which `metadata` reports.
MAX_BATCH_SIZE = 64
# Samples per audio request: a multiple of the tiny WaveNet's hop_length (4).
AUDIO_LENGTH = 16
FORBIDDEN_OPS = ("PyFunc", "PyFuncStateless", "EagerPyFunc")


def image_export_cases():
    """[(family, variant)] of the image exports test_compat.py runs through
    the C API and a Python loader that cannot import arzoo (one of them also
    through `saved_model_cli run`): every family class-conditional (with its
    tiny config's head: the channel-coupled mixture for PixelCNN++ and
    PixelSNAIL); the first one also grey and unconditional; the first family
    whose tiny config has the mixture head also with it on RGB pixels
    (channel coupled, one step per pixel), unconditional. Each export costs
    tens of seconds, so not every family runs every variant: the head's and
    the condition's part of an export are the same for every family
    (tests/models/test_contract.py round-trips other variants through the
    Python loader)."""
    import arzoo
    from tests import test_case

    # The models with a code (PixelVAE) take no class: tests/serving/test_latent_export.py exports them.
    families = [f for f in arzoo.list_models("image") if arzoo.models.get_model_class(f).external_conditions]
    mixture_families = [
        f for f in families if test_case.tiny_config(f)["model"].get("likelihood") == "logistic_mixture"
    ]
    return (
        [(families[0], "grey")]
        + [(family, "mixture") for family in mixture_families[:1]]
        + [(family, "class") for family in families]
    )


# The audio and text variants (of tests/test_case.py's EVENT_VARIANTS) that
# test_compat.py exports: unconditional, and conditioned on everything the
# family takes (audio: speaker + local features, upsampled by a learned
# transposed convolution; text: a class).
SEQUENCE_EXPORT_VARIANTS = {"audio": ("plain", "both"), "text": ("plain", "class")}
# A Parallel WaveNet student exports WaveNet's audio signatures (the plain
# ones are WaveNet's cases) with its flow inside: its conditioned case alone.
FAMILY_EXPORT_VARIANTS = {"parallel_wavenet": ("both",)}
# Video families export their class-conditional case (its signatures are
# the image ones over [T, H, W, C]; the others round-trip in test_contract).
VIDEO_EXPORT_VARIANTS = ("class",)


def export_cases():
    """[(family, variant)] of every export test_compat.py runs."""
    import arzoo

    return image_export_cases() + [
        (family, variant)
        for modality, variants in SEQUENCE_EXPORT_VARIANTS.items()
        for family in arzoo.list_models(modality)
        for variant in FAMILY_EXPORT_VARIANTS.get(family, variants)
    ] + [(family, variant) for family in arzoo.list_models("video") for variant in VIDEO_EXPORT_VARIANTS]


# Exit code of run_signature.c when TF_SessionRun fails (see its header).
CAPI_RUN_FAILED = 20
TF_INVALID_ARGUMENT = 3

# Put first in a child process: `arzoo` is installed (editable) into the venv,
# so a clean sys.path is not enough; this finder refuses it outright.
BLOCK_ARZOO = r'''
import sys as _sys


class _NoArzoo:
    """Refuses to import arzoo: the export must run without it."""

    attempts = []

    def find_spec(self, name, path=None, target=None):
        if name == "arzoo" or name.startswith("arzoo."):
            _NoArzoo.attempts.append(name)
            raise ModuleNotFoundError(f"arzoo is blocked in this process ({name})", name=name)
        return None


_sys.meta_path.insert(0, _NoArzoo())
try:
    import arzoo  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("ARZOO_IMPORTABLE: the blocker failed")
_NoArzoo.attempts.clear()


def _assert_no_arzoo():
    loaded = [m for m in _sys.modules if m == "arzoo" or m.startswith("arzoo.")]
    assert not loaded and not _NoArzoo.attempts, (loaded, _NoArzoo.attempts)
    print("NO_ARZOO_OK", flush=True)
'''

# Runs a console script (saved_model_cli) under BLOCK_ARZOO.
_RUN_SCRIPT = BLOCK_ARZOO + r'''
import atexit, runpy
atexit.register(_assert_no_arzoo)
script = _sys.argv[1]
_sys.argv = _sys.argv[1:]
runpy.run_path(script, run_name="__main__")
'''


# Runs many `saved_model_cli show --all` / `run` jobs in one arzoo-blocked
# interpreter through the functions the console script's commands call
# (`_show_all`, `load_inputs_from_input_arg_string`,
# `run_saved_model_with_feed_dict`: the TF1 session loader), so TensorFlow
# starts once rather than once per job. Prints "RESULTS <json>": per job
# [returncode, stdout, stderr].
_SESSION_JOBS_SCRIPT = BLOCK_ARZOO + r'''
import contextlib, io, json, traceback
from tensorflow.python.tools import saved_model_cli as smcli
results = []
for job in json.loads(_sys.argv[1]):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            if job["command"] == "show":
                smcli._show_all(job["dir"])
            else:
                feed = smcli.load_inputs_from_input_arg_string(job["inputs"], "", "")
                smcli.run_saved_model_with_feed_dict(job["dir"], "serve", job["signature"], feed, job["outdir"], False)
        results.append([0, out.getvalue(), ""])
    except BaseException:
        results.append([1, out.getvalue(), traceback.format_exc()])
_assert_no_arzoo()
print("RESULTS " + json.dumps(results), flush=True)
'''


def run_session_jobs(jobs, cwd, timeout=900):
    """Run `saved_model_cli`-style jobs ({"command": "show", "dir"} or
    {"command": "run", "dir", "signature", "inputs", "outdir"}) in one
    arzoo-blocked process; [(returncode, stdout, stderr)] in order, each
    stdout ending with the process's NO_ARZOO_OK check when it passed."""
    proc = subprocess.run(
        [PYTHON, "-I", "-c", _SESSION_JOBS_SCRIPT, json.dumps(jobs)], cwd=cwd, env=blocked_env(),
        capture_output=True, text=True, timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULTS ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    marker = "\nNO_ARZOO_OK" if "NO_ARZOO_OK" in proc.stdout else ""
    return [(rc, out + marker, err) for rc, out, err in json.loads(lines[-1][len("RESULTS "):])]


def blocked_env():
    """Environment of a child: no PYTHONPATH, quiet TF, CPU only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1", PYTHONNOUSERSITE="1")
    return env


def run_python_blocked(args, cwd, timeout=600):
    """`python -I <args>` with arzoo blocked by the script itself, cwd outside the repo."""
    return subprocess.run(
        [PYTHON, "-I", *args], cwd=cwd, env=blocked_env(),
        capture_output=True, text=True, timeout=timeout,
    )


def saved_model_cli_command(args):
    """argv running `.venv/bin/saved_model_cli <args>` in an arzoo-blocked interpreter."""
    return [PYTHON, "-I", "-c", _RUN_SCRIPT, SAVED_MODEL_CLI, *args]


def run_many(commands, cwd, workers=2, timeout=600):
    """Run argv lists, `workers` at a time; returns CompletedProcess-like tuples
    (returncode, stdout, stderr) in order."""
    results = [None] * len(commands)
    pending = list(enumerate(commands))
    running = []
    while pending or running:
        while pending and len(running) < workers:
            i, cmd = pending.pop(0)
            proc = subprocess.Popen(
                cmd, cwd=cwd, env=blocked_env(), text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            running.append((i, proc))
        i, proc = running.pop(0)
        out, err = proc.communicate(timeout=timeout)
        results[i] = (proc.returncode, out, err)
    return results


# ----- the model side ---------------------------------------------------------


SEQUENCE_MODALITIES = ("audio", "text")


def make_inputs(model, batch=3, seed=0):
    """{signature: {input name: array}} for every signature of `model`'s export."""
    if model.modality in SEQUENCE_MODALITIES:
        return make_sequence_inputs(model, batch, seed=seed)
    return make_image_inputs(model, batch, seed)


def expected_outputs(model, inputs):
    """What arzoo computes in-process for `inputs` (as from `make_inputs`)."""
    if model.modality in SEQUENCE_MODALITIES:
        return expected_sequence_outputs(model, inputs)
    return expected_image_outputs(model, inputs)


def model_condition(model, inputs):
    """The `condition` argument of the model's methods for one signature's inputs."""
    if model.modality == "audio":
        return model.join_condition(inputs.get("speaker"), inputs.get("features"))
    return inputs.get("condition")


def make_image_inputs(model, batch=3, seed=0):
    import tensorflow as tf

    import arzoo
    from arzoo.serving.signatures import flatten_state
    from tests import test_case

    x = test_case.random_events(model, batch, seed=seed)  # images, or videos
    condition = test_case.random_condition(model, batch, seed=seed)
    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(1234 + seed), batch).numpy()
    temperature = np.linspace(0.7, 1.3, batch).astype(np.float32)
    known = np.zeros_like(x)
    known[:, : x.shape[1] // 2] = 1  # top rows (first frames) known, whole pixels
    known[0, -1, -1] = 1             # and one pixel (row) past the frontier
    cond = {} if condition is None else {"condition": condition}

    # A state in the middle of streaming, teacher-forced with x: row b has
    # taken 2b + 1 steps (rows are independent, so each is stepped alone and
    # the states are stacked along the batch).
    steps = model.to_steps(x).numpy()                       # [B, T, V]
    positions = np.minimum(np.arange(batch) * 2 + 1, model.num_steps - 1).astype(np.int32)
    rows = []
    for b in range(batch):
        row_cond = None if condition is None else condition[b : b + 1]
        state = model.initial_state(1, row_cond)
        previous = np.zeros([1, model.values_per_step], np.int32)
        for t in range(positions[b]):
            _, state = model.step(tf.constant(previous), state, row_cond)
            previous = steps[b : b + 1, t]
        rows.append({k: np.asarray(v) for k, v in flatten_state(state).items()})
    state = {k: np.concatenate([r[k] for r in rows], 0) for k in rows[0]}
    np.testing.assert_array_equal(state["state_position"], positions)
    inputs_t = steps[np.arange(batch), positions - 1].astype(np.int32)

    return signature_inputs(x, known, seeds, temperature, inputs_t, state, cond)


def signature_inputs(x, known, seeds, temperature, inputs_t, state, condition=None, sample_extra=None):
    """{signature: {input name: array}} for the seven signatures every export
    has, from the pieces: `condition` {name: array} goes to every signature
    but metadata, `sample_extra` {name: array} to `sample` only (a length)."""
    cond = condition or {}
    log_prob = {"x": x, **cond}
    return {
        "serving_default": log_prob,
        "log_prob": log_prob,
        "sample": {"seed": seeds, "temperature": temperature, **(sample_extra or {}), **cond},
        "complete": {"x": x, "known_mask": known, "seed": seeds, "temperature": temperature, **cond},
        "initial_state": {"seed": seeds, **cond},
        "step": {"inputs_t": inputs_t, "seed": seeds, "temperature": temperature, **state, **cond},
        "metadata": {"seed": seeds},
    }


def expected_image_outputs(model, inputs):
    import tensorflow as tf

    from arzoo.sampling import step_uniforms
    from arzoo.serving.signatures import flatten_state, unflatten_state

    out = {}
    lp = inputs["log_prob"]
    cond = lp.get("condition")
    out["log_prob"] = {
        "log_prob": model.log_prob(lp["x"], cond).numpy(),
        "bits_per_dim": model.bits_per_dim(lp["x"], cond).numpy(),
    }
    out["serving_default"] = out["log_prob"]
    s = inputs["sample"]
    out["sample"] = {
        "samples": model.sample(seeds=s["seed"], condition=cond, temperature=s["temperature"]).numpy()
    }
    c = inputs["complete"]
    out["complete"] = {
        "samples": model.complete(
            c["x"], c["known_mask"], seeds=c["seed"], condition=cond, temperature=c["temperature"]
        ).numpy()
    }
    i = inputs["initial_state"]
    batch = i["seed"].shape[0]
    out["initial_state"] = {
        k: np.asarray(v) for k, v in flatten_state(model.initial_state(batch, cond)).items()
    }
    st = inputs["step"]
    template = model.initial_state(batch, cond)
    state = unflatten_state(template, {k: tf.constant(v) for k, v in st.items() if k.startswith("state_")})
    params, new_state = model.step(tf.constant(st["inputs_t"]), state, cond)
    uniforms = step_uniforms(st["seed"], model.num_steps, model.uniforms_per_step)
    uniforms_t = tf.gather(uniforms, st["state_position"], axis=1, batch_dims=1)
    values = model.draw_step(params, uniforms_t, tf.constant(st["temperature"]))
    out["step"] = {"params": params.numpy(), "values": values.numpy()}
    out["step"].update({k: np.asarray(v) for k, v in flatten_state(new_state).items()})
    metadata = {
        "num_levels": model.num_levels,
        "image_shape": list(model.image_shape),
        "num_steps": model.num_steps,
        "max_batch_size": MAX_BATCH_SIZE,
    }
    if model.modality == "video":  # a video's frames, not the image of its stacked frames
        del metadata["image_shape"]
        metadata.update(num_frames=model.num_frames, frame_shape=list(model.frame_shape))
    size = int(np.prod(model.image_shape))
    if model.num_steps * model.values_per_step != size:  # steps of pixel groups: where each value goes
        index = np.arange(1, size + 1, dtype=np.int32).reshape((1,) + model.image_shape)
        metadata["step_subpixels"] = np.asarray(model.to_steps(index)).reshape(-1) - 1
    out["metadata"] = metadata_rows(batch, metadata)
    return out


def metadata_rows(batch, values):
    return {k: np.tile(np.asarray(v, np.int32)[None], [batch] + [1] * np.ndim(v)) for k, v in values.items()}


def build_tiny_audio(family="wavenet", seed=0, **overrides):
    """The tiny audio model, with random weights in its condition projections
    too: they start at zero (a fresh conditional WaveNet ignores its
    conditions), and an export that dropped a condition must not pass."""
    from tests import test_case

    model = test_case.build_tiny(family, seed=seed, **overrides)
    rng = np.random.default_rng(seed)
    blocks = [layer for layer in model._flatten_layers() if hasattr(layer, "global_projection")]
    assert blocks, "no WaveNet blocks found"
    for block in blocks:
        for layer in (block.global_projection, block.local_projection):
            if layer is not None:
                layer.kernel.assign(rng.normal(scale=0.5, size=layer.kernel.shape))
    return model


def make_sequence_inputs(model, batch=3, length=AUDIO_LENGTH, seed=0, position=5):
    """Levels `[B, length]` (audio, text ids), the condition as the model
    takes it (speaker ids and features; class labels), and a state in the
    middle of streaming (every row teacher-forced with x for `position`
    steps: a WaveNet state's rows advance together)."""
    import tensorflow as tf

    import arzoo
    from arzoo.serving.signatures import flatten_state

    rng = np.random.default_rng(seed)
    x = rng.integers(0, model.num_levels, size=(batch, length)).astype(np.int32)
    cond = {}
    if getattr(model, "num_classes", None):
        cond["condition"] = (np.arange(batch) % model.num_classes).astype(np.int32)
    if getattr(model, "num_speakers", None):
        cond["speaker"] = (np.arange(batch) % model.num_speakers).astype(np.int32)
    if getattr(model, "local_channels", None):
        frames = -(-length // model.hop_length)
        cond["features"] = rng.normal(size=(batch, frames, model.local_channels)).astype(np.float32)
    seeds = arzoo.sampling.row_seeds(arzoo.sampling.as_seed(1234 + seed), batch).numpy()
    temperature = np.linspace(0.7, 1.3, batch).astype(np.float32)
    known = np.zeros_like(x)
    known[:, : length // 2] = 1  # a prefix to continue
    known[0, -2] = 1             # and one sample past it
    condition = model_condition(model, cond)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, 1], tf.int32)
    for t in range(position):
        _, state = model.step(previous, state, condition)
        previous = tf.constant(x[:, t : t + 1])
    state = {k: np.asarray(v) for k, v in flatten_state(state).items()}
    np.testing.assert_array_equal(state["state_position"], np.full([batch], position))
    lengths = {} if getattr(model, "local_channels", None) else {"length": np.full([batch], length, np.int32)}
    return signature_inputs(x, known, seeds, temperature, x[:, position - 1 : position], state, cond, lengths)


def decode_audio(model, levels):
    from arzoo.likelihoods import mu_law_decode

    if hasattr(model, "decode_audio"):
        return model.decode_audio(levels).numpy()
    return mu_law_decode(levels, model.num_levels).numpy()


def expected_sequence_outputs(model, inputs):
    """What arzoo computes in-process (XLA-compiled sampling included) for
    `make_sequence_inputs`'s inputs."""
    import tensorflow as tf

    from arzoo.sampling import step_uniforms
    from arzoo.serving.signatures import flatten_state, unflatten_state

    out = {}
    lp = inputs["log_prob"]
    condition = model_condition(model, lp)
    batch, length = lp["x"].shape
    audio = model.modality == "audio"
    unit = "bits_per_sample" if audio else "bits_per_character"
    out["log_prob"] = {
        "log_prob": model.log_prob(lp["x"], condition).numpy(),
        unit: model.bits_per_step(lp["x"], condition).numpy(),
    }
    out["serving_default"] = out["log_prob"]

    def with_audio(samples):
        return {"samples": samples, "audio": decode_audio(model, samples)} if audio else {"samples": samples}

    s = inputs["sample"]
    samples = model.sample(
        seeds=s["seed"], condition=condition, temperature=s["temperature"], length=length
    ).numpy()
    out["sample"] = with_audio(samples)
    c = inputs["complete"]
    completed = model.complete(
        c["x"], c["known_mask"], seeds=c["seed"], condition=condition, temperature=c["temperature"]
    ).numpy()
    out["complete"] = with_audio(completed)
    out["initial_state"] = {
        k: np.asarray(v) for k, v in flatten_state(model.initial_state(batch, condition)).items()
    }
    st = inputs["step"]
    template = model.initial_state(batch, condition)
    state = unflatten_state(template, {k: tf.constant(v) for k, v in st.items() if k.startswith("state_")})
    params, new_state = model.step(tf.constant(st["inputs_t"]), state, condition)
    uniforms = step_uniforms(st["seed"], length, model.uniforms_per_step)
    uniforms_t = tf.gather(uniforms, st["state_position"], axis=1, batch_dims=1)
    values = model.draw_step(params, uniforms_t, tf.constant(st["temperature"]))
    out["step"] = {"params": params.numpy(), "values": values.numpy()}
    out["step"].update({k: np.asarray(v) for k, v in flatten_state(new_state).items()})
    if not audio:
        out["metadata"] = metadata_rows(batch, {
            "num_levels": model.num_levels,
            "max_length": 10_000,
            "max_batch_size": MAX_BATCH_SIZE,
            "num_classes": model.num_classes or 0,
        })
        out["metadata"]["vocabulary"] = metadata_rows(batch, {"v": [ord(c) for c in model.vocabulary]})["v"]
        return out
    out["metadata"] = metadata_rows(batch, {
        "num_levels": model.num_levels,
        "sample_rate": model.sample_rate,
        "hop_length": model.hop_length,
        "sample_length": model.sample_length,
        "max_length": 10 * model.sample_rate,
        "max_batch_size": MAX_BATCH_SIZE,
        "num_speakers": model.num_speakers or 0,
        "local_channels": model.local_channels or 0,
        "receptive_field": model.receptive_field,
    })
    if model.default_sampling_method == "parallel":
        out["metadata"]["flow"] = metadata_rows(batch, {"f": 1})["f"]
    return out


def save_inputs(inputs, folder):
    """Writes each input as <folder>/<signature>/<name>.npy; returns the paths."""
    paths = {}
    for signature, arrays in inputs.items():
        sub = pathlib.Path(folder) / signature
        sub.mkdir(parents=True, exist_ok=True)
        paths[signature] = {}
        for name, array in arrays.items():
            path = sub / f"{name}.npy"
            np.save(path, array)
            paths[signature][name] = str(path)
    return paths


# ----- the SavedModel side ------------------------------------------------------


def signature_tensors(export_dir):
    """{signature: {"inputs": {key: (tensor, dtype, shape)}, "outputs": {key: (tensor, dtype, shape)}}}
    from saved_model.pb (tag set "serve"); dtype as a numpy dtype name, shape
    with -1 for unknown dims."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((pathlib.Path(export_dir) / "saved_model.pb").read_bytes())
    (meta,) = [m for m in proto.meta_graphs if list(m.meta_info_def.tags) == ["serve"]]
    result = {}
    for name, sig in meta.signature_def.items():
        if name.startswith("__"):
            continue
        result[name] = {
            side: {
                key: (
                    info.name,
                    tf.dtypes.as_dtype(info.dtype).as_numpy_dtype().dtype.name,
                    tuple(d.size for d in info.tensor_shape.dim),
                )
                for key, info in getattr(sig, side).items()
            }
            for side in ("inputs", "outputs")
        }
    return result


def graph_op_types(export_dir):
    """Every op type in the serve MetaGraph: graph nodes and library functions."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((pathlib.Path(export_dir) / "saved_model.pb").read_bytes())
    ops = set()
    for meta in proto.meta_graphs:
        ops.update(n.op for n in meta.graph_def.node)
        for fn in meta.graph_def.library.function:
            ops.update(n.op for n in fn.node_def)
    return ops


def assert_outputs_close(got, want, where):
    """The same output names, shapes and dtypes, values within 1e-5."""
    assert set(got) == set(want), (where, sorted(got), sorted(want))
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.shape == w.shape and g.dtype == w.dtype, (where, name, g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"{where}/{name}")


def load_outputs(folder):
    """{name: array} from <folder>/<name>.npy."""
    return {p.stem: np.load(p) for p in sorted(pathlib.Path(folder).glob("*.npy"))}


def run_python_loader(jobs, workdir):
    """Runs compat_loader.py (arzoo blocked) over `jobs`; returns its JSON report.

    jobs: [{"key", "export_dir", "inputs": {signature: {name: npy path}}, "out"}].
    """
    workdir = pathlib.Path(workdir)
    script = workdir / "compat_loader.py"
    script.write_text(BLOCK_ARZOO + LOADER_SCRIPT.read_text())
    spec = workdir / "jobs.json"
    spec.write_text(json.dumps(jobs))
    proc = run_python_blocked([str(script), str(spec)], cwd=str(workdir))
    assert proc.returncode == 0, (
        f"loader failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    )
    assert "NO_ARZOO_OK" in proc.stdout, proc.stdout[-3000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("REPORT ")][-1]
    return json.loads(line[len("REPORT "):])


# ----- the C API ------------------------------------------------------------------


def tensorflow_dir():
    import tensorflow as tf

    return pathlib.Path(tf.__file__).resolve().parent


def compile_capi(out_dir):
    """gcc run_signature.c against the wheel's headers and libtensorflow_cc."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc is not installed")
    tf_dir = tensorflow_dir()
    binary = pathlib.Path(out_dir) / "run_signature"
    cmd = [
        gcc, "-O1", "-std=c11", "-Wall", "-Wextra", "-D_POSIX_C_SOURCE=200809L",
        f"-I{tf_dir / 'include'}", str(CAPI_SOURCE), "-o", str(binary),
        f"-L{tf_dir}", "-l:libtensorflow_cc.so.2", "-l:libtensorflow_framework.so.2",
        f"-Wl,-rpath,{tf_dir}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"gcc failed: {' '.join(cmd)}\n{proc.stderr}")
    return binary


def capi_command(binary, export_dir, runs, workdir):
    """argv for run_signature: one TF_SessionRun per run, on one loaded session.

    runs: [(label, tensors, arrays)], `tensors` one signature's entry of
    `signature_tensors`, `arrays` its inputs by key.
    Returns (argv, {label: {output key: raw output path}}).
    """
    workdir = pathlib.Path(workdir)
    argv = [str(binary), "--dir", str(export_dir)]
    outputs = {}
    for n, (label, tensors, arrays) in enumerate(runs):
        folder = workdir / label
        folder.mkdir(parents=True, exist_ok=True)
        if n:
            argv.append("--then")
        assert set(arrays) == set(tensors["inputs"]), (sorted(arrays), sorted(tensors["inputs"]))
        for key, array in arrays.items():
            name, dtype, _ = tensors["inputs"][key]
            array = np.ascontiguousarray(array, dtype=dtype)
            path = folder / f"in_{key}.bin"
            array.tofile(path)
            argv += ["--in", name, dtype, ",".join(str(d) for d in array.shape), str(path)]
        outputs[label] = {}
        for key, (name, _, _) in tensors["outputs"].items():
            outputs[label][key] = folder / f"out_{key}.bin"
            argv += ["--out", name, str(outputs[label][key])]
    return argv, outputs


def read_capi_output(path):
    dtype, rank, *dims = pathlib.Path(f"{path}.shape").read_text().split()
    assert int(rank) == len(dims)
    return np.fromfile(path, dtype=dtype).reshape([int(d) for d in dims])

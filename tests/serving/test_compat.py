"""An export runs without arzoo, the way TF Serving runs it.

Three loaders, each compared in numbers with what arzoo computes in-process:
  * `tf.saved_model.load` in a Python process that cannot import arzoo;
  * the TF1 session loader (`saved_model_cli run`), arzoo blocked too;
  * TensorFlow's C API (`TF_LoadSessionFromSavedModel` + `TF_SessionRun`,
    what TF Serving calls) from capi/run_signature.c, built with gcc against
    the tensorflow wheel.
"""

import pathlib
import re
import subprocess
from dataclasses import dataclass

import numpy as np
import pytest

import arzoo
from arzoo.serving import export_model
from tests import test_case
from tests.serving import compat_helpers as ch

FAMILIES = tuple(arzoo.list_models("image"))
AUDIO_FAMILIES = tuple(arzoo.list_models("audio"))
TEXT_FAMILIES = tuple(arzoo.list_models("text"))
KEYS = tuple(f"{family}-{variant}" for family, variant in ch.export_cases())
AUDIO_KEYS = tuple(key for key in KEYS if key.split("-")[0] in AUDIO_FAMILIES)
# saved_model_cli (the TF1 session loader): every signature of one
# class-conditional image export, one conditioned audio export and one
# class-conditional text export (the others run through the two loaders below).
# WaveNet for the audio checks of one family: a Parallel WaveNet student
# exports the same audio signatures (its own export runs the other checks).
AUDIO_FAMILY = "wavenet"
CLI_KEYS = (f"{FAMILIES[0]}-class", f"{AUDIO_FAMILY}-both", f"{TEXT_FAMILIES[0]}-class")
FLOAT_ATOL = 1e-5


def _build(key):
    family, variant = key.split("-")
    modality = arzoo.models.get_model_class(family).modality
    overrides = test_case.EVENT_VARIANTS[modality][variant]
    if modality == "audio":
        return ch.build_tiny_audio(family, **overrides)
    model = test_case.build_tiny(family, **overrides)
    # Exports are not XLA-compiled, so the in-process reference is the same
    # graph loop; that XLA's loop equals it is tests/models/test_contract.py's
    # naive == cached check on the XLA variants (compiling one per export here
    # cost a minute of the suite).
    model.jit_sampling = False
    return model


@dataclass
class Export:
    key: str
    model: object
    path: pathlib.Path
    inputs: dict
    expected: dict
    input_paths: dict
    tensors: dict


def _unescape(message):
    """An assertion's message as written (TF escapes its quotes)."""
    return message.replace("\\'", "'")


def _assert_outputs_equal(got, want, where):
    assert set(got) == set(want), f"{where}: outputs {sorted(got)} != {sorted(want)}"
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.shape == w.shape, f"{where}/{name}: shape {g.shape} != {w.shape}"
        assert g.dtype == w.dtype, f"{where}/{name}: dtype {g.dtype} != {w.dtype}"
        if np.issubdtype(w.dtype, np.floating):
            np.testing.assert_allclose(g, w, rtol=0, atol=FLOAT_ATOL, err_msg=f"{where}/{name}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{where}/{name}")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = tmp_path_factory.mktemp("compat_exports")
    result = {}
    for key in KEYS:
        model = _build(key)
        path = pathlib.Path(export_model(model, base, key.replace("-", "_")))
        inputs = ch.make_inputs(model)
        result[key] = Export(
            key=key, model=model, path=path, inputs=inputs,
            expected=ch.expected_outputs(model, inputs),
            input_paths=ch.save_inputs(inputs, base / "inputs" / key),
            tensors=ch.signature_tensors(path),
        )
    return result


@pytest.fixture(scope="module")
def python_loader(exports, tmp_path_factory):
    """Runs every signature of every export in one arzoo-blocked process."""
    work = tmp_path_factory.mktemp("compat_loader")
    jobs = [
        {"key": e.key, "export_dir": str(e.path), "inputs": e.input_paths, "out": str(work / e.key)}
        for e in exports.values()
    ]
    report = ch.run_python_loader(jobs, work)
    outputs = {
        e.key: {s: ch.load_outputs(work / e.key / s) for s in ch.SIGNATURES} for e in exports.values()
    }
    stream = {e.key: ch.load_outputs(work / e.key / "stream") for e in exports.values()}
    return report, outputs, stream


# ----- the exports themselves ------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_export_has_every_signature_and_no_python_ops(exports, key):
    export = exports[key]
    assert set(export.tensors) == set(ch.SIGNATURES)
    ops = ch.graph_op_types(export.path)
    assert not ops & set(ch.FORBIDDEN_OPS), sorted(ops & set(ch.FORBIDDEN_OPS))
    model = export.model
    for name, spec in export.tensors.items():
        for key_, (tensor, _, shape) in spec["inputs"].items():
            assert shape[0] == -1, f"{name}/{key_} has no free batch dimension: {shape}"
            assert re.fullmatch(r"[\w/]+:\d+", tensor), tensor
        for key_, (_, _, shape) in spec["outputs"].items():
            assert shape[0] == -1, f"{name}/{key_} output has no free batch dimension: {shape}"
    assert set(export.tensors["log_prob"]["inputs"]) == set(export.inputs["log_prob"])
    # The XLA-only in-place update must never be in the graph.
    assert "XlaDynamicUpdateSlice" not in ops
    if model.modality in ch.SEQUENCE_MODALITIES:
        # Any length: T is free in every time axis.
        assert export.tensors["log_prob"]["inputs"]["x"][2] == (-1, -1)
        for name in ("samples", "audio") if model.modality == "audio" else ("samples",):
            assert export.tensors["sample"]["outputs"][name][2] == (-1, -1)
    else:
        assert export.tensors["sample"]["outputs"]["samples"][2] == (-1, *model.event_shape)
    if model.modality == "audio":
        # WaveNet's queues are written by the portable in-place update.
        assert "TensorStridedSliceUpdate" in ops


# ----- 1. tf.saved_model.load without arzoo -------------------------------------------


def test_python_loader_cannot_import_arzoo(python_loader):
    report, _, _ = python_loader
    assert report["_arzoo"] == {"blocked": True, "loaded": [], "attempts": []}


@pytest.mark.parametrize("key", KEYS)
def test_python_loader_matches_arzoo(exports, python_loader, key):
    report, outputs, _ = python_loader
    export = exports[key]
    assert report[key]["signatures"] == sorted(ch.SIGNATURES)
    for signature in ch.SIGNATURES:
        spec = report[key]["specs"][signature]
        assert set(spec["inputs"]) == set(export.inputs[signature]), signature
        _assert_outputs_equal(
            outputs[key][signature], export.expected[signature], f"python loader {key}/{signature}"
        )
    # The same numbers from both names of log_prob, and log_prob within 1e-5 of the model.
    np.testing.assert_array_equal(
        outputs[key]["serving_default"]["log_prob"], outputs[key]["log_prob"]["log_prob"]
    )
    lp = export.inputs["log_prob"]
    model_lp = export.model.log_prob(lp["x"], ch.model_condition(export.model, lp)).numpy()
    np.testing.assert_allclose(outputs[key]["log_prob"]["log_prob"], model_lp, rtol=0, atol=1e-5)
    # complete keeps the known sub-pixels (samples).
    c = export.inputs["complete"]
    known = c["known_mask"] == 1
    np.testing.assert_array_equal(outputs[key]["complete"]["samples"][known], c["x"][known])


@pytest.mark.parametrize("key", AUDIO_KEYS)
def test_audio_outputs_are_levels_and_their_decoding(exports, python_loader, key):
    """`audio` is `samples` decoded into [-1, 1]; the samples vary (a test on
    constant samples would prove little) and are levels of the model."""
    _, outputs, _ = python_loader
    model = exports[key].model
    for signature in ("sample", "complete"):
        got = outputs[key][signature]
        assert got["samples"].shape == (3, ch.AUDIO_LENGTH)
        assert got["samples"].min() >= 0 and got["samples"].max() < model.num_levels
        np.testing.assert_allclose(
            got["audio"], ch.decode_audio(model, got["samples"]), rtol=0, atol=FLOAT_ATOL
        )
        assert np.abs(got["audio"]).max() <= 1.0
    assert len(np.unique(outputs[key]["sample"]["samples"])) > 1


@pytest.mark.parametrize("key", KEYS)
def test_python_loader_streaming_step_reproduces_sample(exports, python_loader, key):
    """initial_state + num_steps calls of `step` (values fed back) draw exactly
    the `sample` signature's image, and a step past the end is refused."""
    report, outputs, stream = python_loader
    model = exports[key].model
    samples = outputs[key]["sample"]["samples"]
    batch = samples.shape[0]
    refused = report[key]["stream_refused_past_end"]
    if model.modality in ch.SEQUENCE_MODALITIES:
        num_steps = samples.shape[1]
        np.testing.assert_array_equal(stream[key]["values"], samples[..., None])
        # Past the sampled length: audio with features has no frame for it;
        # other sequences go on (up to the export's max_length).
        if getattr(model, "local_channels", None):
            assert refused is not None and "input 'features'" in _unescape(refused), refused
        else:
            assert refused is None, refused
    else:
        num_steps = model.num_steps
        # Assembled, the streamed steps are the sample (a step that draws a
        # group of pixels has padding, which from_steps leaves out).
        np.testing.assert_array_equal(model.from_steps(stream[key]["values"]).numpy(), samples)
        assert refused is not None and "num_steps" in refused, refused
    np.testing.assert_array_equal(
        stream[key]["positions"], np.broadcast_to(np.arange(num_steps), (batch, num_steps))
    )
    assert stream[key]["params"].shape == (batch, num_steps, model.params_per_step)


# ----- 2. saved_model_cli (TF1 session loader), arzoo blocked ----------------------


@pytest.fixture(scope="module")
def cli_results(exports, tmp_path_factory):
    """`show --all` and `run` of every signature for each CLI key: the first
    key's show and sample through the console script itself, the rest through
    the same functions in one process (a TensorFlow start per call cost ~7 s)."""
    work = tmp_path_factory.mktemp("compat_cli")
    jobs, labels = [], []
    for key in CLI_KEYS:
        export = exports[key]
        jobs.append({"command": "show", "dir": str(export.path)})
        labels.append((key, "show"))
        for signature in ch.SIGNATURES:
            inputs = ";".join(f"{n}={p}" for n, p in export.input_paths[signature].items())
            jobs.append({"command": "run", "dir": str(export.path), "signature": signature,
                         "inputs": inputs, "outdir": str(work / key / signature)})
            labels.append((key, signature))
    console = [i for i, (key, what) in enumerate(labels) if key == CLI_KEYS[0] and what in ("show", "sample")]
    commands = []
    for i in console:
        job = jobs[i]
        if job["command"] == "show":
            commands.append(ch.saved_model_cli_command(["show", "--dir", job["dir"], "--all"]))
        else:
            commands.append(ch.saved_model_cli_command([
                "run", "--dir", job["dir"], "--tag_set", "serve", "--signature_def", job["signature"],
                "--inputs", job["inputs"], "--outdir", job["outdir"],
            ]))
    results = dict(zip(console, ch.run_many(commands, cwd=str(work), workers=1)))
    rest = [i for i in range(len(jobs)) if i not in results]
    results.update(zip(rest, ch.run_session_jobs([jobs[i] for i in rest], cwd=str(work))))
    return {label: (results[i], work / label[0] / label[1]) for i, label in enumerate(labels)}


@pytest.mark.slow
@pytest.mark.parametrize("key", CLI_KEYS)
def test_saved_model_cli_show_lists_signatures_without_pyfunc(cli_results, key):
    (rc, out, err), _ = cli_results[(key, "show")]
    assert rc == 0, err[-3000:]
    assert "NO_ARZOO_OK" in out, out[-2000:]
    assert "MetaGraphDef with tag-set: 'serve'" in out
    for signature in ch.SIGNATURES:
        assert f"signature_def['{signature}']" in out, signature
    assert "PyFunc" not in out and "EagerPyFunc" not in out
    ops = re.search(r"contains the following ops: \{(.*)\}", out)
    assert ops, "saved_model_cli show --all did not list the ops"
    assert "'While'" in ops.group(1) or "'StatelessWhile'" in ops.group(1)


@pytest.mark.slow
@pytest.mark.parametrize("signature", ch.SIGNATURES)
@pytest.mark.parametrize("key", CLI_KEYS)
def test_saved_model_cli_run_matches_python_loader(cli_results, python_loader, exports, key, signature):
    (rc, out, err), outdir = cli_results[(key, signature)]
    tail = "\n".join(l for l in err.splitlines() if not l.startswith(("I0000", "W0000", "E0000")))
    assert rc == 0, f"saved_model_cli run {key}/{signature} failed:\n{tail[-4000:]}"
    assert "NO_ARZOO_OK" in out, out[-2000:]
    _, outputs, _ = python_loader
    _assert_outputs_equal(
        ch.load_outputs(outdir), outputs[key][signature], f"saved_model_cli {key}/{signature}"
    )


# ----- 3. TensorFlow's C API ----------------------------------------------------------


@pytest.fixture(scope="session")
def capi_binary(tmp_path_factory):
    return ch.compile_capi(tmp_path_factory.mktemp("capi_build"))


@pytest.fixture(scope="module")
def capi_results(capi_binary, exports, tmp_path_factory):
    """Every signature of every export: one run_signature process per export
    (one TF_LoadSessionFromSavedModel, one TF_SessionRun per signature)."""
    work = tmp_path_factory.mktemp("compat_capi")
    commands, files = [], []
    for key, export in exports.items():
        runs = [(s, export.tensors[s], export.inputs[s]) for s in ch.SIGNATURES]
        argv, outputs = ch.capi_command(capi_binary, export.path, runs, work / key)
        commands.append(argv)
        files.append(outputs)
    results = ch.run_many(commands, cwd=str(work), workers=2)
    return {
        (key, signature): (result, outputs[signature])
        for key, result, outputs in zip(exports, results, files)
        for signature in ch.SIGNATURES
    }


def test_capi_binary_links_libtensorflow(capi_binary):
    proc = subprocess.run(["ldd", str(capi_binary)], capture_output=True, text=True)
    assert "libtensorflow_cc.so.2" in proc.stdout and "not found" not in proc.stdout, proc.stdout
    usage = subprocess.run([str(capi_binary)], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage" in usage.stderr


@pytest.mark.parametrize("signature", ch.SIGNATURES)
@pytest.mark.parametrize("key", KEYS)
def test_capi_matches_python_loader(capi_results, python_loader, key, signature):
    (rc, out, err), files = capi_results[(key, signature)]
    errors = [l for l in err.splitlines() if l.startswith("ERROR")]
    group = ch.SIGNATURES.index(signature)
    assert f"run {group} ok" in out.splitlines(), (
        f"run_signature {key}/{signature} (run {group}) exited {rc}: {errors or err[-3000:]}"
    )
    got = {name: ch.read_capi_output(path) for name, path in files.items()}
    _, outputs, _ = python_loader
    _assert_outputs_equal(got, outputs[key][signature], f"C API {key}/{signature}")


BAD_CASES = (
    "level too high", "negative level", "complete level", "oversize batch",
    "oversize log_prob batch", "ragged batch", "zero temperature", "known_mask 2",
    "step past the end", "label too high",
)
# A class-conditional export, so a bad label is one of the cases.
CAPI_BAD_KEY = f"{FAMILIES[-1]}-class"


def _bad_inputs(export):
    """{label: (signature, inputs, words the error message must hold)}."""
    model = export.model
    inputs = export.inputs
    s, c, st, lp = inputs["sample"], inputs["complete"], inputs["step"], inputs["log_prob"]
    big = 65  # the export's max_batch_size is 64
    cases = {}
    x = lp["x"].copy()
    x[0, 0, 0, 0] = model.num_levels
    cases["level too high"] = ("log_prob", dict(lp, x=x), "num_levels")
    x = lp["x"].copy()
    x[-1, -1, -1, -1] = -1
    cases["negative level"] = ("serving_default", dict(lp, x=x), "negative level")
    x = c["x"].copy()
    x[1, 1, 1, 0] = model.num_levels + 5
    cases["complete level"] = ("complete", dict(c, x=x), "num_levels")
    oversize = {
        "seed": np.resize(s["seed"], (big, 2)).astype(np.int32),
        "temperature": np.ones([big], np.float32),
    }
    if "condition" in s:
        oversize["condition"] = np.zeros([big], s["condition"].dtype)
    cases["oversize batch"] = ("sample", oversize, "max_batch_size")
    cases["oversize log_prob batch"] = (
        "log_prob",
        {k: np.resize(v, (big,) + v.shape[1:]).astype(v.dtype) for k, v in lp.items()},
        "max_batch_size",
    )
    cases["ragged batch"] = ("sample", dict(s, temperature=s["temperature"][:-1]), "same batch size")
    cases["zero temperature"] = (
        "sample", dict(s, temperature=np.zeros_like(s["temperature"])), "temperature",
    )
    cases["known_mask 2"] = ("complete", dict(c, known_mask=c["known_mask"] * 2), "known_mask")
    done = np.full_like(st["state_position"], model.num_steps)
    cases["step past the end"] = ("step", dict(st, state_position=done), "num_steps")
    label = s["condition"].copy()
    label[0] = model.num_classes
    cases["label too high"] = ("sample", dict(s, condition=label), "num_classes")
    assert set(cases) == set(BAD_CASES)
    return cases


@pytest.fixture(scope="module")
def capi_bad_results(capi_binary, exports, tmp_path_factory):
    cases = {case: (CAPI_BAD_KEY, signature, arrays)
             for case, (signature, arrays, _) in _bad_inputs(exports[CAPI_BAD_KEY]).items()}
    return _run_bad_cases(capi_binary, exports, cases, tmp_path_factory.mktemp("compat_capi_bad"))


@pytest.mark.parametrize("case", BAD_CASES)
def test_capi_bad_input_is_invalid_argument(capi_bad_results, exports, case):
    """Bad input makes TF_SessionRun return TF_INVALID_ARGUMENT (code 3), with the
    signature's own message; run_signature reports the run failed with 20."""
    *_, words = _bad_inputs(exports[CAPI_BAD_KEY])[case]
    _assert_invalid_argument(capi_bad_results[case], words, case)


def _run_bad_cases(capi_binary, exports, cases, work):
    """Every bad case {case: (export key, signature, arrays)}: one run_signature
    process per export, one TF_SessionRun per case; {case: (the run's stdout
    status line, its ERROR lines)}."""
    by_key = {}
    for case, (key, signature, arrays) in cases.items():
        by_key.setdefault(key, []).append((case, signature, arrays))
    commands, groups = [], []
    for key, runs in by_key.items():
        export = exports[key]
        argv, _ = ch.capi_command(
            capi_binary, export.path,
            [(case.replace(" ", "_"), export.tensors[signature], arrays) for case, signature, arrays in runs],
            work / key,
        )
        commands.append(argv)
        groups.append([case for case, _, _ in runs])
    results = {}
    for cases_run, (rc, out, err) in zip(groups, ch.run_many(commands, cwd=str(work), workers=2)):
        errors = [l for l in err.splitlines() if l.startswith("ERROR")]
        # stderr, in run order: "ERROR TF_SessionRun ..." then "ERROR run <i> failed ...".
        chunks, current = [], []
        for line in errors:
            current.append(line)
            if re.match(r"ERROR run \d+ failed", line):
                chunks.append(current)
                current = []
        status = {int(m.group(1)): m.group(0) for m in re.finditer(r"run (\d+) (ok|failed \(\d+\))", out)}
        failed = iter(chunks)
        for i, case in enumerate(cases_run):
            line = status.get(i, f"run {i} missing (rc {rc}): {err[-2000:]}")
            results[case] = (line, next(failed) if "failed" in line else [])
    return results


def _assert_invalid_argument(result, words, case):
    line, errors = result
    assert f"failed ({ch.CAPI_RUN_FAILED})" in line, (case, line, errors)
    (session_error,) = [l for l in errors if l.startswith("ERROR TF_SessionRun")]
    assert f"code={ch.TF_INVALID_ARGUMENT} (INVALID_ARGUMENT)" in session_error, (case, session_error)
    assert words in _unescape(session_error), (case, session_error)


# ----- bad audio input, through the C API --------------------------------------------

AUDIO_BAD_CASES = (
    "level too high", "empty audio", "oversize audio batch", "unknown speaker",
    "negative speaker", "too-short features", "features not finite", "oversize features",
    "oversize length", "zero length", "mismatched lengths", "known_mask shape",
    "ragged positions", "step past max_length", "step past the features",
)


def _audio_bad_inputs(exports):
    """{label: (export key, signature, inputs, words the error message must hold)}."""
    plain_key, both_key = (f"{AUDIO_FAMILY}-{v}" for v in ("plain", "both"))
    plain, both = exports[plain_key].inputs, exports[both_key].inputs
    model = exports[both_key].model
    max_length = 10 * model.sample_rate  # the exports' default max_length
    big = ch.MAX_BATCH_SIZE + 1
    cases = {}
    x = both["log_prob"]["x"].copy()
    x[1, 3] = model.num_levels
    cases["level too high"] = (both_key, "log_prob", dict(both["log_prob"], x=x), "'x'")
    cases["empty audio"] = (plain_key, "log_prob", {"x": np.zeros([3, 0], np.int32)}, "'x'")
    s = plain["sample"]
    oversize = {k: np.resize(v, (big,) + v.shape[1:]).astype(v.dtype) for k, v in s.items()}
    cases["oversize audio batch"] = (plain_key, "sample", oversize, "max_batch_size")
    speaker = both["sample"]["speaker"].copy()
    speaker[1] = model.num_speakers
    cases["unknown speaker"] = (both_key, "sample", dict(both["sample"], speaker=speaker), "'speaker'")
    speaker = both["step"]["speaker"].copy()
    speaker[0] = -1
    cases["negative speaker"] = (both_key, "step", dict(both["step"], speaker=speaker), "'speaker'")
    lp = both["log_prob"]
    cases["too-short features"] = (
        both_key, "log_prob", dict(lp, features=lp["features"][:, :2].copy()), "'features'",
    )
    features = both["complete"]["features"].copy()
    features[2, 1, 0] = np.nan
    cases["features not finite"] = (
        both_key, "complete", dict(both["complete"], features=features), "'features'",
    )
    frames = max_length // model.hop_length + 1
    features = np.zeros([3, frames, model.local_channels], np.float32)
    cases["oversize features"] = (
        both_key, "sample", dict(both["sample"], features=features), "max_length",
    )
    cases["oversize length"] = (
        plain_key, "sample", dict(s, length=np.full([3], max_length + 1, np.int32)), "max_length",
    )
    cases["zero length"] = (plain_key, "sample", dict(s, length=np.zeros([3], np.int32)), "'length'")
    cases["mismatched lengths"] = (
        plain_key, "sample", dict(s, length=s["length"] + np.array([0, 1, 0], np.int32)), "'length'",
    )
    c = plain["complete"]
    cases["known_mask shape"] = (
        plain_key, "complete", dict(c, known_mask=c["known_mask"][:, :-1].copy()), "'known_mask'",
    )
    st = plain["step"]
    cases["ragged positions"] = (
        plain_key, "step", dict(st, state_position=st["state_position"] + np.array([0, 1, 0], np.int32)),
        "state_position",
    )
    cases["step past max_length"] = (
        plain_key, "step", dict(st, state_position=np.full([3], max_length, np.int32)), "max_length",
    )
    covered = both["step"]["features"].shape[1] * model.hop_length
    cases["step past the features"] = (
        both_key, "step", dict(both["step"], state_position=np.full([3], covered, np.int32)), "'features'",
    )
    assert set(cases) == set(AUDIO_BAD_CASES)
    return cases


@pytest.fixture(scope="module")
def capi_audio_bad_results(capi_binary, exports, tmp_path_factory):
    cases = {case: (key, signature, arrays)
             for case, (key, signature, arrays, _) in _audio_bad_inputs(exports).items()}
    return _run_bad_cases(capi_binary, exports, cases, tmp_path_factory.mktemp("compat_capi_bad_audio"))


@pytest.mark.parametrize("case", AUDIO_BAD_CASES)
def test_capi_bad_audio_input_is_invalid_argument(capi_audio_bad_results, exports, case):
    *_, words = _audio_bad_inputs(exports)[case]
    _assert_invalid_argument(capi_audio_bad_results[case], words, case)

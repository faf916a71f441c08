"""A killed export never leaves a version folder a server would load.

`export_model` writes `<base>/<name>/.incomplete-pid<pid>-<uuid>/` and renames it
to `<base>/<name>/<v>/` only when complete. These tests SIGKILL exporting
processes at random moments and right before the rename, then check that
every integer folder present is a complete, loadable SavedModel, and that the
next export cleans up and takes the next version.
"""

import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from arzoo.serving import existing_versions, export_model
from tests import test_case

REPO = pathlib.Path(__file__).resolve().parents[2]
SIGNATURES = {"serving_default", "log_prob", "sample", "complete", "initial_state", "step", "metadata"}

# A bigger model than the tiny ones, so one export takes a few seconds.
BIG = dict(
    image_shape=[8, 8, 3], num_levels=256, likelihood="logistic_mixture",
    num_mixtures=5, num_filters=64, num_layers=4,
)

CHILD = r"""
import json, os, signal, sys, time
sys.path.insert(0, sys.argv[1])
mode, base, name, overrides = sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
from arzoo.serving import export_model
from tests import test_case

import tensorflow as tf

model = test_case.build_tiny("gated_pixelcnn", **overrides)
real_save = tf.saved_model.save


def save(*args, **kwargs):  # marks the start of the writing phase
    print("SAVING", flush=True)
    return real_save(*args, **kwargs)


tf.saved_model.save = save
if mode == "kill_before_rename":
    real_rename = os.rename

    def rename(src, dst):
        if os.path.basename(dst).isdigit():
            print("KILLING_BEFORE_RENAME", src, dst, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real_rename(src, dst)

    os.rename = rename
print("READY", flush=True)
while True:
    start = time.monotonic()
    path = export_model(model, base, name)
    print("EXPORTED", path, round(time.monotonic() - start, 2), flush=True)
    if mode != "loop":
        break
"""


def _start_child(mode, base, name):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1")
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(REPO), mode, str(base), name, json.dumps(BIG)],
        cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(proc, marker, timeout=300):
    """Reads the child's stdout up to a line starting with `marker`; returns the lines read."""
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith(marker):
            return lines
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"child never printed {marker}: {proc.stderr.read()[-3000:]}")


def _wait_for_temporary(proc, model_dir, known, timeout=300):
    """Polls until a temporary folder not in `known` appears under model_dir."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if set(_temporaries(model_dir)) - known:
            return
        time.sleep(0.002)
    proc.kill()
    raise AssertionError(f"no temporary folder appeared: {proc.stderr.read()[-3000:]}")


def _entries(model_dir):
    return sorted(os.listdir(model_dir)) if os.path.isdir(model_dir) else []


def _temporaries(model_dir):
    return [e for e in _entries(model_dir) if not e.isdigit()]


def _assert_complete_and_loadable(version_dir):
    version_dir = pathlib.Path(version_dir)
    for part in ("saved_model.pb", "variables/variables.index", "model.keras"):
        assert (version_dir / part).is_file(), f"{version_dir} lacks {part}"
    assert zipfile.is_zipfile(version_dir / "model.keras")
    loaded = tf.saved_model.load(str(version_dir))
    assert set(loaded.signatures.keys()) == SIGNATURES, sorted(loaded.signatures.keys())
    spec = loaded.signatures["log_prob"].structured_input_signature[1]["x"]
    x = np.zeros([2, *spec.shape[1:]], np.int32)
    log_prob = loaded.signatures["log_prob"](x=tf.constant(x))["log_prob"].numpy()
    assert log_prob.shape == (2,) and np.all(np.isfinite(log_prob)) and np.all(log_prob < 0)


@pytest.mark.slow
def test_sigkill_during_export_leaves_no_partial_version(tmp_path):
    base, name = tmp_path / "models", "big"
    model_dir = base / name
    rng_seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(rng_seed)
    where = f"(random seed {rng_seed})"

    # Processes exporting version after version, SIGKILLed a random delay
    # after a moment: WRITING, a temporary folder has just appeared (the
    # writing phase, variables, saved_model.pb, model.keras: only the last
    # ~0.2 s of a ~5 s export); EXPORTED, a version is finished (the kill then
    # lands in the next export's tracing or writing).
    history = []
    for moment, longest in (("WRITING", 0.15), ("WRITING", 0.15), ("EXPORTED", 4.0)):
        proc = _start_child("loop", base, name)
        read = _wait_for(proc, "READY")
        if moment == "WRITING":
            _wait_for_temporary(proc, model_dir, set(_temporaries(model_dir)))
        else:
            read += _wait_for(proc, moment)
        delay = rng.uniform(0.0, longest)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, (where, proc.returncode, err[-3000:])
        out = "".join(read) + out
        exported = [l.split()[1] for l in out.splitlines() if l.startswith("EXPORTED")]
        history.append((moment, round(delay, 3), len(exported), _temporaries(model_dir)))
        for path in exported:
            assert pathlib.Path(path).is_dir(), (where, path)

    # A process killed right before the rename: a finished temporary folder,
    # and no integer folder for it.
    before = existing_versions(model_dir)
    proc = _start_child("kill_before_rename", base, name)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, err[-3000:])
    line = [l for l in out.splitlines() if l.startswith("KILLING_BEFORE_RENAME")][-1]
    _, src, dst = line.split()
    assert existing_versions(model_dir) == before, (where, before, history)
    assert not os.path.exists(dst), dst
    assert os.path.isdir(src) and not os.path.basename(src).isdigit()
    assert (pathlib.Path(src) / "saved_model.pb").is_file()
    assert (pathlib.Path(src) / "model.keras").is_file()

    # What a server polling <base>/<name> would see: only complete versions;
    # everything else is named so it can never parse as a version.
    for entry in _entries(model_dir):
        if entry.isdigit():
            _assert_complete_and_loadable(model_dir / entry)
        else:
            assert entry.startswith(".incomplete-"), (where, entry)
            with pytest.raises(ValueError):
                int(entry)
    stale = _temporaries(model_dir)
    assert stale, (where, history)

    # The next export removes the stale temporaries and takes the next version.
    present = existing_versions(model_dir)
    tiny = test_case.build_tiny("pixelcnn", **test_case.VARIANTS["grey"])
    path = export_model(tiny, base, name)
    expected = (present[-1] + 1) if present else 1
    assert path == str(model_dir / str(expected)), (where, path, present, history)
    assert _temporaries(model_dir) == [], (where, _entries(model_dir))
    assert existing_versions(model_dir) == present + [expected]
    _assert_complete_and_loadable(path)
    print(f"kills {where}: (moment, delay s, versions finished, temporaries after) {history}")


@pytest.fixture(scope="module")
def tiny():
    return test_case.build_tiny("pixelcnn", **test_case.VARIANTS["grey"])


def test_export_versions_and_refusals(tiny, tmp_path):
    base = tmp_path / "models"
    model_dir = base / "tiny"
    first = export_model(tiny, base, "tiny")
    assert first == str(model_dir / "1")
    assert existing_versions(model_dir) == [1]
    explicit = export_model(tiny, base, "tiny", version=7)
    assert explicit == str(model_dir / "7")
    assert existing_versions(model_dir) == [1, 7]
    # A stale temporary from a crashed export (its process is gone, or it is
    # unowned and an hour old) is removed by the next export; one of a live
    # export beside it is not.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = model_dir / f".incomplete-pid{int(dead.stdout)}-deadbeef"
    unowned = model_dir / ".incomplete-8-deadbeef"
    live = model_dir / f".incomplete-pid{os.getppid()}-cafe"
    for folder in (stale, unowned, live):
        (folder / "variables").mkdir(parents=True)
        (folder / "saved_model.pb").write_bytes(b"half")
    os.utime(unowned, (time.time() - 7200, time.time() - 7200))
    assert export_model(tiny, base, "tiny") == str(model_dir / "8")
    assert not stale.exists() and not unowned.exists()
    assert live.exists()
    shutil.rmtree(live)
    assert _entries(model_dir) == ["1", "7", "8"]

    # Exporting over an existing version is refused, naming it, and touches nothing.
    before = {p: p.stat().st_mtime_ns for p in model_dir.rglob("*")}
    with pytest.raises(ValueError, match=r"Version 7 already exists") as info:
        export_model(tiny, base, "tiny", version=7)
    assert str(model_dir) in str(info.value)
    assert {p: p.stat().st_mtime_ns for p in model_dir.rglob("*")} == before

    for version in (0, -3, True, "9", 2.0):
        with pytest.raises(ValueError, match="version"):
            export_model(tiny, base, "tiny", version=version)
    assert _entries(model_dir) == ["1", "7", "8"]


@pytest.mark.parametrize(
    "name", ["", "../escape", "a/b", "/abs", ".hidden", "-dash", "with space", "tab\t", "é"],
)
def test_bad_model_name_is_refused(tiny, tmp_path, name):
    base = tmp_path / "models"
    with pytest.raises(ValueError, match="not allowed") as info:
        export_model(tiny, base, name)
    assert repr(name) in str(info.value)
    assert not base.exists() or list(base.iterdir()) == []
    assert not (tmp_path / "escape").exists()


def test_concurrent_exports_take_different_versions(tiny, tmp_path):
    """Two exports of one model at once: each its own version, no traceback,
    neither removing the other's temporary folder."""
    import concurrent.futures

    base = tmp_path / "models"
    export_model(tiny, base, "tiny")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        paths = list(pool.map(lambda _: export_model(tiny, base, "tiny"), range(3)))
    assert sorted(paths) == [str(base / "tiny" / str(v)) for v in (2, 3, 4)]
    assert _entries(base / "tiny") == ["1", "2", "3", "4"]
    for path in paths:
        _assert_complete_and_loadable(path)

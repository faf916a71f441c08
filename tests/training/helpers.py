"""Helpers of the training tests: a tiny model config and worker subprocesses."""

import copy
import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
WORKER = pathlib.Path(__file__).with_name("worker.py")

TINY_MODEL = {
    "family": "gated_pixelcnn",
    "image_shape": [8, 8, 1],
    "num_levels": 4,
    "num_filters": 8,
    "num_layers": 1,
    "num_output_filters": 8,
}


def tiny_config(data=None, training=None, **model):
    """A raw config dict for the tiny model with section overrides."""
    return {
        "model": {**copy.deepcopy(TINY_MODEL), **model},
        "data": {"dataset": "digits", "batch_size": 8, **(data or {})},
        "training": {"log_every": 5, "checkpoint_every": 5, **(training or {})},
    }


def worker_env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def worker_command(config, output_dir, *args):
    return [sys.executable, str(WORKER), json.dumps(config), str(output_dir), *map(str, args)]


def json_lines(stdout):
    """The JSON objects a worker printed, one per line (other lines skipped)."""
    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def run_worker(config, output_dir, *args, timeout=180, env=None):
    """Run worker.py to the end; return its "done" event (fail with its stderr otherwise)."""
    proc = subprocess.run(
        worker_command(config, output_dir, *args),
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env or worker_env(),
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    done = [e for e in json_lines(proc.stdout) if e["event"] == "done"]
    assert len(done) == 1, proc.stdout[-2000:]
    return done[0]

"""MultiWorkerMirroredStrategy: two local worker processes on 127.0.0.1."""

import json
import os
import socket
import subprocess

import numpy as np
import pytest

from tests.training.helpers import REPO, json_lines, tiny_config, worker_command, worker_env

TIMEOUT = 240


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.mark.slow
def test_two_workers_train_in_sync(tmp_path):
    config = tiny_config(training={
        "strategy": "multi_worker", "steps": 6, "log_every": 2, "checkpoint_every": 3,
        "learning_rate": 0.01, "eval_every": 6, "sample_every": 6, "num_samples": 2,
    })
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    output_dir = tmp_path / "run"
    procs = []
    for index in range(2):
        worker_tmp = tmp_path / f"tmp{index}"  # where a non-chief keeps its checkpoints
        worker_tmp.mkdir()
        env = worker_env(
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            TMPDIR=str(worker_tmp),
        )
        procs.append(subprocess.Popen(
            worker_command(config, output_dir, "--synthetic", 64),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
        ))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=TIMEOUT))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (_, stderr) in zip(procs, outputs):
        assert proc.returncode == 0, stderr[-4000:]
    chief, other = [[e for e in json_lines(out) if e["event"] == "done"][0] for out, _ in outputs]

    assert chief["num_replicas"] == other["num_replicas"] == 2
    assert (chief["chief"], other["chief"]) == (True, False)
    assert chief["step"] == other["step"] == 6
    # One synchronous model: both workers see the same global loss.
    np.testing.assert_allclose(np.array(chief["history"]), np.array(other["history"]), rtol=1e-6)
    assert np.all(np.isfinite(np.array(chief["history"])[:, 1]))
    assert chief["test_bits_per_dim"] is not None and other["test_bits_per_dim"] is None

    checkpoints = sorted(os.listdir(output_dir / "checkpoints"))
    assert "ckpt-6.index" in checkpoints and "ckpt-3.index" in checkpoints
    assert (output_dir / "model.keras").exists()
    assert sorted(os.listdir(output_dir)) == ["checkpoints", "config.yaml", "model.keras", "tensorboard"]
    # The non-chief wrote its checkpoints to a temporary folder and removed it.
    assert os.listdir(tmp_path / "tmp1") == []

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


CONFIG = tiny_config(training={
    "strategy": "multi_worker", "steps": 6, "log_every": 2, "checkpoint_every": 3,
    "learning_rate": 0.01, "eval_every": 6, "sample_every": 6, "num_samples": 2,
})


def launch(tmp_path, output_dir, extra=((), ())):
    """Two local workers of CONFIG on fresh ports; worker i gets `extra[i]` arguments."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    procs = []
    for index in range(2):
        worker_tmp = tmp_path / f"tmp{index}"  # where a non-chief keeps its checkpoints
        worker_tmp.mkdir(exist_ok=True)
        env = worker_env(
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            TMPDIR=str(worker_tmp),
        )
        procs.append(subprocess.Popen(
            worker_command(CONFIG, output_dir, "--synthetic", 64, *extra[index]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
        ))
    return procs


def finish(procs):
    """(stdout, stderr) of each worker after it ends; both must succeed."""
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
    return outputs


def done_events(outputs):
    return [[e for e in json_lines(out) if e["event"] == "done"][0] for out, _ in outputs]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    output_dir = tmp_path / "run"
    return tmp_path, output_dir, done_events(finish(launch(tmp_path, output_dir)))


@pytest.mark.slow
def test_two_workers_train_in_sync(uninterrupted):
    tmp_path, output_dir, (chief, other) = uninterrupted
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


@pytest.mark.slow
def test_a_killed_worker_and_a_restart_lose_nothing(tmp_path, uninterrupted):
    """Worker 1 is SIGKILLed at step 4 (after ckpt-3); the chief, blocked in the
    next all-reduce, is killed too, as a cluster manager restarts a job; both
    restarted, training goes on from ckpt-3 and ends where the uninterrupted
    run ends, with the same losses."""
    output_dir = tmp_path / "run"
    procs = launch(tmp_path, output_dir, extra=((), ("--kill-at-step", 4)))
    try:
        procs[1].wait(timeout=TIMEOUT)
        assert procs[1].returncode == -9, procs[1].stderr.read()[-4000:]
        assert procs[0].poll() is None, "the chief ended without its peer"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
    assert "ckpt-3.index" in os.listdir(output_dir / "checkpoints")

    chief, other = done_events(finish(launch(tmp_path, output_dir)))
    assert chief["start_step"] == other["start_step"] == 3
    assert chief["step"] == other["step"] == 6
    _, _, (reference, _) = uninterrupted
    # The logging window of steps 5-6 lies wholly after the resume (the one
    # ending at 4 holds step 4 alone there, steps 3-4 uninterrupted): its mean
    # loss, and the final test figure, are those of the uninterrupted run.
    assert [row[0] for row in chief["history"]] == [4, 6]
    np.testing.assert_allclose(chief["history"][-1], reference["history"][-1], rtol=1e-6)
    assert chief["test_bits_per_dim"] == pytest.approx(reference["test_bits_per_dim"], rel=1e-6)

"""Preemption: SIGKILL a training process, restart it, it resumes from the checkpoint."""

import os
import signal
import subprocess
import time

import pytest
import tensorflow as tf

from tests.training.helpers import REPO, json_lines, run_worker, tiny_config, worker_command, worker_env

CONFIG = tiny_config(training={
    "steps": 100_000, "log_every": 5, "checkpoint_every": 5, "learning_rate": 0.01,
})


def wait_for_checkpoint(directory, proc, min_step, timeout):
    """The newest checkpoint's step once it is >= min_step (the process still running)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-4000:]
        if os.path.exists(os.path.join(directory, "checkpoint")):
            path = tf.train.latest_checkpoint(directory)
            if path and int(path.rsplit("-", 1)[1]) >= min_step:
                return int(path.rsplit("-", 1)[1])
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint >= {min_step} in {directory} after {timeout}s")


@pytest.mark.slow
def test_resume_after_sigkill(tmp_path):
    output_dir = tmp_path / "run"
    checkpoints = str(output_dir / "checkpoints")
    proc = subprocess.Popen(
        worker_command(CONFIG, output_dir, "--synthetic", 64),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=worker_env(),
    )
    try:
        wait_for_checkpoint(checkpoints, proc, min_step=10, timeout=120)
        os.kill(proc.pid, signal.SIGKILL)
        stdout, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    first_logs = [e for e in json_lines(stdout) if e["event"] == "log"]
    assert not [e for e in json_lines(stdout) if e["event"] == "done"]
    saved = int(tf.train.latest_checkpoint(checkpoints).rsplit("-", 1)[1])
    assert saved >= 10 and saved % 5 == 0
    assert not (output_dir / "model.keras").exists()

    done = run_worker(CONFIG, output_dir, "--synthetic", 64, "--steps", saved + 10)
    assert done["start_step"] == saved
    assert done["step"] == saved + 10
    assert [step for step, _ in done["history"]] == [saved + 5, saved + 10]
    # The restored weights are trained ones, not a fresh initialisation.
    assert done["history"][0][1] < first_logs[0]["bits_per_dim"] - 0.1
    assert tf.train.latest_checkpoint(checkpoints).endswith(f"ckpt-{saved + 10}")
    assert (output_dir / "model.keras").exists()


@pytest.mark.slow
def test_resume_after_sigkill_is_exact(tmp_path):
    """Killed at steps between checkpoints (7, then 18) and resumed each time,
    training ends on the weights of a run never stopped, bit for bit: the
    resumed run goes on with the batches the uninterrupted one saw."""
    import keras
    import numpy as np

    config = tiny_config(training={"steps": 30, "log_every": 1, "checkpoint_every": 5, "learning_rate": 0.01})
    run_worker(config, tmp_path / "never_stopped", "--synthetic", 64)
    killed = tmp_path / "killed"
    for kill_at, resumed_from in ((7, 0), (18, 5)):
        proc = subprocess.run(worker_command(config, killed, "--synthetic", 64, "--kill-at-step", kill_at),
                              capture_output=True, text=True, timeout=180, cwd=REPO, env=worker_env())
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
        steps = [e["step"] for e in json_lines(proc.stdout) if e["event"] == "log"]
        assert steps[0] == resumed_from + 1 and steps[-1] == kill_at
    done = run_worker(config, killed, "--synthetic", 64)
    assert (done["start_step"], done["step"]) == (15, 30)
    expected = keras.models.load_model(tmp_path / "never_stopped" / "model.keras").get_weights()
    got = keras.models.load_model(killed / "model.keras").get_weights()
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)

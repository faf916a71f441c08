"""Probability density distillation (`arzoo distill`): the KL's closed form and
its Monte-Carlo estimate, the teacher's continuous densities, a short
distillation on real speech (the KL falls, the output level stays near the
data's), exact resume, and the teachers a student cannot learn from."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import arzoo
from arzoo.cli import main
from arzoo.config import DistillationConfig
from arzoo.data import make_speech_corpus
from arzoo.training import train
from arzoo.training.distillation import (
    Distillation,
    DistillationError,
    check_teacher_and_student,
    distill,
    gaussian_kl,
    monte_carlo_kl,
)
from tests.test_case import REPO

tfd = tfp.distributions
RATE = 8000
TINY_STUDENT = str(REPO / "zoo_configs" / "tiny" / "parallel_wavenet.yaml")


def test_closed_form_kl_is_tfp_and_the_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mu_q, mu_p = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
    ls_q, ls_p = rng.uniform(-2, 0.5, 5).astype(np.float32), rng.uniform(-2, 0.5, 5).astype(np.float32)
    closed = gaussian_kl(mu_q, ls_q, mu_p, ls_p).numpy()
    reference = tfd.kl_divergence(tfd.Normal(mu_q, np.exp(ls_q)), tfd.Normal(mu_p, np.exp(ls_p))).numpy()
    np.testing.assert_allclose(closed, reference, rtol=1e-5, atol=1e-6)
    samples = 200_000
    uniforms = tf.random.stateless_uniform([samples, 5], seed=[1, 2])
    target = tfd.Normal(mu_p, np.exp(ls_p))
    estimate = monte_carlo_kl(mu_q, ls_q, "gaussian", target.log_prob, uniforms).numpy()
    # Standard error of the estimate: the spread of log q - log p over draws.
    draws = mu_q + np.exp(ls_q) * tf.math.ndtri(tf.clip_by_value(uniforms, 1e-5, 1 - 1e-5)).numpy()
    spread = np.std(tfd.Normal(mu_q, np.exp(ls_q)).log_prob(draws) - target.log_prob(draws), axis=0)
    assert np.all(np.abs(estimate - closed) < 4 * spread / np.sqrt(samples) + 1e-4)


def test_teacher_densities_are_the_continuous_heads():
    """A logistic-mixture teacher's density is tfp's mixture of logistics; a
    Gaussian teacher's is tfp's Normal (both with the heads' floors)."""
    mixture_teacher = arzoo.build_model(dict(family="wavenet", num_levels=65536, likelihood="logistic_mixture",
                                             num_mixtures=3, dilations=[1], residual_channels=2,
                                             gate_channels=2, skip_channels=2, output_channels=2))
    distillation = Distillation(mixture_teacher, DistillationConfig())
    params = tf.random.stateless_normal([4, mixture_teacher.head.params_per_pixel], seed=[3, 4])
    audio = tf.random.stateless_uniform([4], seed=[5, 6], minval=-1, maxval=1)
    logits, means, log_scales = params[:, :3], params[:, 3:6], tf.maximum(params[:, 6:9], -7.0)
    reference = tfd.MixtureSameFamily(tfd.Categorical(logits=logits), tfd.Logistic(means, tf.exp(log_scales)))
    np.testing.assert_allclose(distillation.teacher_log_density(params, audio), reference.log_prob(audio),
                               rtol=1e-5, atol=1e-5)
    gaussian_teacher = arzoo.build_model(dict(family="wavenet", num_levels=65536, likelihood="gaussian",
                                              dilations=[1], residual_channels=2, gate_channels=2,
                                              skip_channels=2, output_channels=2))
    distillation = Distillation(gaussian_teacher, DistillationConfig())
    params = tf.constant([[0.1, -3.0], [0.2, -9.0]])
    reference = tfd.Normal([0.1, 0.2], np.exp([-3.0, -7.0])).log_prob([0.105, 0.2001])
    np.testing.assert_allclose(distillation.teacher_log_density(params, tf.constant([0.105, 0.2001])), reference,
                               rtol=1e-5)


def test_bad_teachers_are_refused_naming_both_values():
    student = arzoo.build_model(arzoo.load_config(TINY_STUDENT))
    categorical = arzoo.build_model(dict(family="wavenet", num_levels=3, dilations=[1], residual_channels=2,
                                         gate_channels=2, skip_channels=2, output_channels=2))
    with pytest.raises(DistillationError, match="likelihood is 'categorical'"):
        check_teacher_and_student(categorical, student)
    teacher = arzoo.build_model(dict(family="wavenet", num_levels=3, likelihood="gaussian", input_encoding="scalar",
                                     dilations=[1], residual_channels=2, gate_channels=2, skip_channels=2,
                                     output_channels=2, sample_rate=8000))
    with pytest.raises(DistillationError, match="teacher has sample_rate=8000 but the student has sample_rate=16000"):
        check_teacher_and_student(teacher, student)
    one_hot = arzoo.build_model(dict(family="wavenet", num_levels=3, likelihood="gaussian", dilations=[1],
                                     residual_channels=2, gate_channels=2, skip_channels=2, output_channels=2))
    with pytest.raises(DistillationError, match="input_encoding='one_hot'"):
        check_teacher_and_student(one_hot, student)
    with pytest.raises(DistillationError, match="must be a flow"):
        check_teacher_and_student(teacher, teacher)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distill") / "corpus"
    make_speech_corpus(folder, sample_rate=RATE, voices=["festival_kal", "espeak_f2"], max_sentences=4,
                       progress=False)
    return folder


def data_section(corpus):
    return dict(dataset="wav_folder", wav_folder=str(corpus), batch_size=4, clip_length=1024)


@pytest.fixture(scope="module")
def teacher(corpus, tmp_path_factory):
    """A small speaker-conditioned Gaussian WaveNet over 16-bit PCM, trained briefly on real speech."""
    run = tmp_path_factory.mktemp("distill") / "teacher"
    config = {
        "model": dict(family="wavenet", num_levels=65536, likelihood="gaussian", dilations=[1, 2, 4, 8, 16, 32],
                      residual_channels=16, gate_channels=16, skip_channels=16, output_channels=32,
                      num_speakers=2, sample_rate=RATE),
        "data": data_section(corpus),
        "training": dict(steps=150, learning_rate=3e-3, log_every=50, checkpoint_every=1000, jit_compile=True),
    }
    train(config, run, progress=False)
    return run


def student_config(corpus, steps, **distillation):
    return {
        "model": dict(family="parallel_wavenet", num_levels=65536, num_flows=2, dilations=[1, 2, 4, 8],
                      residual_channels=8, gate_channels=8, skip_channels=8, num_speakers=2, sample_rate=RATE),
        "data": data_section(corpus),
        "training": dict(steps=steps, learning_rate=3e-3, log_every=10, checkpoint_every=1000, grad_clip_norm=10.0),
        "distillation": dict(stft_frame_length=256, stft_frame_step=64, **distillation),
    }


def test_distillation_on_real_speech_lowers_the_kl_and_keeps_the_level(corpus, teacher, tmp_path):
    """The KL and ClariNet's log-scale penalty alone: with a teacher of 150
    steps the student's audio is noise-like, and the power loss (which
    rewards a speech-like spectrum) prefers it quiet (0.044 RMS against
    0.080 without it, data 0.094, in a run of this test); BENCHMARKS.md
    measures it with the trained teacher."""
    logs = []
    result = distill(teacher, student_config(corpus, 80, power_weight=0.0), tmp_path / "student", progress=False,
                     callbacks=[lambda step, values: logs.append(values)])
    kl = [values["distill_kl"] for values in logs]
    assert kl[-1] < 0.5 * kl[0], kl
    assert all(np.isfinite(kl))
    ratio = logs[-1]["student_rms"] / logs[-1]["data_rms"]
    assert 0.5 < ratio < 2.0, logs[-1]
    # The run folder records the teacher; the student loads alone and samples in one pass.
    saved = arzoo.load_config(str(tmp_path / "student" / "config.yaml"))
    assert saved["distillation"].teacher == str(teacher)
    student = result.model
    assert student.distillation is not None
    reloaded = arzoo.runs.open_run(str(tmp_path / "student")).model
    assert reloaded.distillation is None and len(reloaded.trainable_variables) == len(student.trainable_variables)


def test_distillation_resumes_exactly(corpus, teacher, tmp_path):
    config = student_config(corpus, 8)
    straight = distill(teacher, config, tmp_path / "straight", progress=False).model.get_weights()
    distill(teacher, config, tmp_path / "resumed", steps=4, progress=False)
    resumed = distill(teacher, config, tmp_path / "resumed", progress=False).model.get_weights()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)


def test_distill_command_refuses_a_mismatched_teacher(corpus, teacher, tmp_path, capsys):
    code = main(["distill", str(teacher), TINY_STUDENT, "--output", str(tmp_path / "s"), "--no-progress",
                 "--set", "model.num_speakers=2", "--set", "model.num_levels=65536"])
    assert code == 2
    err = capsys.readouterr().err
    assert "sample_rate=8000" in err and "sample_rate=16000" in err
    assert not (tmp_path / "s").exists()

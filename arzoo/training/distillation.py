"""Probability density distillation: a Parallel WaveNet student learns from a
trained WaveNet teacher (van den Oord et al. 2018; Ping et al. 2019).

At every training step the student turns fresh noise into audio in one
parallel pass, with the conditioning (speaker, log-mel) of a batch of real
clips; the teacher, teacher-forced on that audio (one parallel pass too),
gives p_T(x_t | x_<t) at every t; the student's own conditional is
q(x_t | z_<t) = b_t + a_t noise. The loss per step is

    kl_weight * KL(q_t || p_T,t)
    + log_scale_weight * (log a_t - log s_T,t)^2          (Gaussian teacher)
    + power_weight * ||phi(x) - phi(y)||^2 / (||phi(x)||_1 + ||phi(y)||_1)^2   (of the clip, at every step)
    - contrastive_weight * KL(q_t || p_T,t(other speaker))

with phi the mean STFT power per frequency band and y the real clip. The KL
is closed-form for a Gaussian student and a Gaussian teacher (ClariNet);
otherwise it is -H(q_t) - mean_j log p_T,t(b_t + a_t e_j) over `kl_samples`
draws e_j per step (the entropy is exact, the cross-entropy a Monte-Carlo
estimate: reparameterized, so its gradient is unbiased). Both densities
are the continuous ones (the teacher's bins are 2 / 65535 wide); their
log-scales are floored (the student's by construction, the teacher's by its
head), so neither the KL nor its gradient can reach inf or NaN.

Written here because no library distils one density into another: tfp has
the KL of two Normals (used by the tests to check the closed form), not the
teacher-forcing around it.
"""

import numpy as np
import tensorflow as tf

from arzoo.likelihoods import DiscretizedLocationScale, DiscretizedLogisticMixture
from arzoo.likelihoods.discretized_location_scale import noise_quantile, standard_entropy, standard_log_density

TEACHER_HEADS = ("gaussian", "logistic_mixture")


class DistillationError(ValueError):
    """A teacher and a student that cannot be distilled into one another."""


def check_teacher_and_student(teacher, student):
    """A `DistillationError` naming both values unless `student` can learn
    from `teacher`: a continuous head (gaussian or logistic_mixture), the
    teacher reading its inputs as scalars (the student's audio is real-valued),
    and the same levels, sample rate and conditioning."""
    if not hasattr(student, "transform"):
        raise DistillationError(
            f"The student must be a flow (family parallel_wavenet); the config's model is "
            f"{type(student).__name__}."
        )
    if getattr(teacher, "modality", None) != "audio" or not hasattr(teacher, "input_encoding"):
        raise DistillationError(
            f"The teacher must be a trained WaveNet run; got a {type(teacher).__name__} "
            f"(modality {getattr(teacher, 'modality', None)!r})."
        )
    if teacher.likelihood not in TEACHER_HEADS:
        raise DistillationError(
            f"The teacher's likelihood is {teacher.likelihood!r}; a student distils from a continuous head: "
            f"{' or '.join(TEACHER_HEADS)} (a categorical teacher has no density between its levels)."
        )
    if teacher.input_encoding != "scalar":
        raise DistillationError(
            f"The teacher reads its inputs as input_encoding={teacher.input_encoding!r}; distillation feeds it "
            "the student's real-valued audio, which needs input_encoding='scalar'."
        )
    for name in ("num_levels", "sample_rate", "num_speakers", "local_channels", "hop_length"):
        if getattr(teacher, name) != getattr(student, name):
            raise DistillationError(
                f"The teacher has {name}={getattr(teacher, name)!r} but the student has "
                f"{name}={getattr(student, name)!r}; set the student's model.{name} to the teacher's."
            )


class Distillation:
    """The distillation loss of `student` against a frozen `teacher`.

    Args:
      teacher: a trained `WaveNet` (checked by `check_teacher_and_student`).
      settings: a `DistillationConfig`.
      seed: the training seed (the noise of step s comes from (seed, s)).
    """

    def __init__(self, teacher, settings, seed=0):
        self.teacher = teacher
        self.teacher.trainable = False
        self.settings = settings
        self.seed = int(seed)

    # ----- the teacher's densities ------------------------------------------------

    def teacher_params(self, audio, condition):
        """`[B, T, P]`: the teacher's conditionals at every step, teacher-forced
        on float audio `[B, T]` (fed as the fractional levels of its scalar input)."""
        levels = (audio + 1.0) * (self.teacher.num_levels - 1) / 2.0
        return self.teacher(levels, condition)

    def teacher_log_density(self, params, audio):
        """The teacher's continuous log-density of `audio` at each step (params
        `[..., P]`, audio `[...]`), in nats per unit amplitude."""
        head = self.teacher.head
        if isinstance(head, DiscretizedLocationScale):
            mu, log_scale = head.split(params)
            return standard_log_density(head.distribution, (audio - mu) * tf.exp(-log_scale)) - log_scale
        if isinstance(head, DiscretizedLogisticMixture):
            logits, means, log_scales, _ = head._split(params)  # [..., K], [..., K, 1]
            means, log_scales = means[..., 0], log_scales[..., 0]
            z = (audio[..., None] - means) * tf.exp(-log_scales)
            component = standard_log_density("logistic", z) - log_scales
            return tf.reduce_logsumexp(tf.nn.log_softmax(logits, axis=-1) + component, axis=-1)
        raise DistillationError(f"No continuous density for the teacher head {type(head).__name__}.")

    def kl(self, student, out, params, step):
        """KL(q_t || p_T,t) `[B, T]` of the student's conditionals `out`
        (`shift`, `log_scale`) against the teacher's `params`."""
        head = self.teacher.head
        shift, log_scale = out["shift"], out["log_scale"]
        if student.noise == "gaussian" and isinstance(head, DiscretizedLocationScale) and head.distribution == "gaussian":
            return gaussian_kl(shift, log_scale, *head.split(params))
        uniforms = tf.random.stateless_uniform(
            tf.concat([[self.settings.kl_samples], tf.shape(shift)], 0), seed=self._seed(step, 1)
        )
        return monte_carlo_kl(
            shift, log_scale, student.noise, lambda x: self.teacher_log_density(params[None], x), uniforms
        )

    # ----- the loss --------------------------------------------------------------

    def _seed(self, step, stream):
        replica = tf.distribute.get_replica_context()
        replica_id = 0 if replica is None else replica.replica_id_in_sync_group
        step = tf.cast(0 if step is None else step, tf.int32)
        return tf.stack([self.seed * 7919 + stream, step * 64 + tf.cast(replica_id, tf.int32)])

    def terms(self, student, x, condition, step=None):
        """{term: `[B, T]` nats per step} and {diagnostic: `[B]`} of one batch
        of real clips `x` (levels `[B, T]`) and their condition."""
        settings = self.settings
        x = tf.convert_to_tensor(x)
        shape = tf.shape(x)
        uniforms = tf.random.stateless_uniform(shape, seed=self._seed(step, 0))
        out = student.transform(student.noise_from_uniforms(uniforms), condition)
        params = self.teacher_params(out["x"], condition)
        kl = self.kl(student, out, params, step)
        terms = {"kl": kl}
        head = self.teacher.head
        if isinstance(head, DiscretizedLocationScale):
            _, teacher_log_scale = head.split(params)
            terms["log_scale_penalty"] = tf.square(out["log_scale"] - teacher_log_scale)
        real = student.decode_audio(tf.cast(x, tf.int32))
        power = power_loss(out["x"], real, settings.stft_frame_length, settings.stft_frame_step)
        # A property of the whole clip, charged at every step: its weight is
        # then on the scale of the per-step KL whatever the clip length.
        terms["power"] = tf.tile(power[:, None], [1, shape[1]])
        if settings.contrastive_weight > 0:
            terms["contrastive"] = -self.kl(student, out, self.teacher_params(out["x"], other_speakers(condition)),
                                            step)
        diagnostics = {
            "student_rms": tf.sqrt(tf.reduce_mean(tf.square(out["x"]), axis=1)),
            "data_rms": tf.sqrt(tf.reduce_mean(tf.square(real), axis=1)),
        }
        return terms, diagnostics

    def weights(self):
        s = self.settings
        return {"kl": s.kl_weight, "log_scale_penalty": s.log_scale_weight, "power": s.power_weight,
                "contrastive": s.contrastive_weight}

    def loss_per_step(self, student, x, condition, step=None):
        """`[B, T]`: the weighted sum of the terms (what training minimises)."""
        terms, _ = self.terms(student, x, condition, step)
        weights = self.weights()
        return tf.add_n([weights[name] * value for name, value in terms.items()])

    def diagnostics(self, student, x, condition):
        """{name: float}: each term's mean per step (the power term: per clip) and
        the RMS level of the student's audio beside the real clips'."""
        terms, levels = self.terms(student, x, condition, step=None)
        report = {f"distill_{name}": float(tf.reduce_mean(value)) for name, value in terms.items()}
        for name, value in levels.items():
            report[name] = float(tf.reduce_mean(value))
        return report


def distill(teacher_run, config, output_dir, **train_kwargs):
    """Train the config's student (family parallel_wavenet) from the WaveNet
    of `teacher_run` (a run folder or a .keras file) into `output_dir`, with
    the training loop's checkpoints, exact resume, progress bar and
    TensorBoard scalars (each term `train/distill_*`, the output levels
    `train/student_rms` and `train/data_rms`). The run's config.yaml records
    the teacher; running the same call again resumes.

    Args:
      teacher_run: the teacher.
      config: a config dict (`arzoo.load_config`) naming the student, the data
        (the teacher's corpus, clips of `data.clip_length`) and optionally a
        `distillation` section (`DistillationConfig`).
      output_dir: the student's run folder.
      **train_kwargs: passed to `arzoo.training.train` (steps, progress, ...).

    Returns the `TrainResult`.
    """
    import dataclasses
    import os

    from arzoo.config import DistillationConfig
    from arzoo.runs import open_run
    from arzoo.training.loop import _validated, train

    config = _validated(config)
    teacher = open_run(teacher_run).model
    settings = dataclasses.replace(config.get("distillation") or DistillationConfig(),
                                   teacher=os.path.abspath(os.fspath(teacher_run)))
    clip = config["data"].clip_length
    if clip is not None and settings.power_weight > 0 and clip < settings.stft_frame_length:
        raise DistillationError(
            f"data.clip_length={clip} is shorter than distillation.stft_frame_length="
            f"{settings.stft_frame_length}: the power loss needs at least one STFT frame per clip."
        )
    config = dict(config, distillation=settings)

    def attach(student):
        check_teacher_and_student(teacher, student)
        student.attach_teacher(Distillation(teacher, settings, config["training"].seed))

    return train(config, output_dir, setup_model=attach, **train_kwargs)


def monte_carlo_kl(shift, log_scale, noise, target_log_density, uniforms):
    """KL(q || p) per position for q = shift + exp(log_scale) * noise ("gaussian"
    or "logistic"): the exact entropy of q minus a reparameterized Monte-Carlo
    cross-entropy over the draws of `uniforms` `[S, ...]` (`target_log_density`
    maps `[S, ...]` values to log p)."""
    draws = shift + tf.exp(log_scale) * noise_quantile(noise, uniforms)
    cross_entropy = -tf.reduce_mean(target_log_density(draws), axis=0)
    return cross_entropy - (log_scale + standard_entropy(noise))


def gaussian_kl(mu_q, log_scale_q, mu_p, log_scale_p):
    """KL(N(mu_q, s_q^2) || N(mu_p, s_p^2)), elementwise, in nats."""
    return (
        log_scale_p - log_scale_q
        + (tf.exp(2.0 * (log_scale_q - log_scale_p)) + tf.square((mu_q - mu_p) * tf.exp(-log_scale_p))) / 2.0
        - 0.5
    )


def mean_stft_power(audio, frame_length, frame_step):
    """`[B, bands]`: |STFT|^2 averaged over frames (Parallel WaveNet's phi)."""
    stft = tf.signal.stft(audio, frame_length, frame_step, pad_end=False)
    return tf.reduce_mean(tf.square(tf.abs(stft)), axis=1)


def power_loss(audio, real, frame_length, frame_step):
    """`[B]`: Parallel WaveNet's power loss ||phi(x) - phi(y)||^2 over
    frequency bands, divided by (||phi(x)||_1 + ||phi(y)||_1)^2; phi_b the
    mean STFT power of band b over the clip, x the student's audio, y the
    real clip.

    The division makes the figure independent of the level and the frame
    length and bounds it by 1 (a clip of silence among the real ones cannot
    blow it up, as dividing by the real clip's power alone did: a loss of
    11,000 bits at one step), on the scale of the per-step KL. Like the
    original it weighs the bands where the speech has its energy. (A
    per-band log distance, tried first, is minimised by a noise-like student
    well below the data's level: its noise floor above the speech bands
    costs as much as the speech bands.)"""
    student = mean_stft_power(audio, frame_length, frame_step)
    target = mean_stft_power(real, frame_length, frame_step)
    distance = tf.reduce_sum(tf.square(student - target), axis=-1)
    return distance / (tf.square(tf.reduce_sum(student + target, axis=-1)) + 1e-20)


def other_speakers(condition):
    """The condition with every row's speaker replaced by the next row's
    (the contrastive term's "another speaker")."""
    if isinstance(condition, dict):
        return dict(condition, speaker=tf.roll(condition["speaker"], 1, axis=0))
    return tf.roll(condition, 1, axis=0)


def log_spectral_distance(a, b, frame_length=512, frame_step=128, floor=1e-10):
    """The log-spectral distance, in dB, of the long-term spectra of two
    recordings `a`, `b` (float audio `[T]`, not aligned in time: different
    words of one speaker): the root mean square over frequency bands of
    10 log10 of the ratio of their STFT powers averaged over frames."""
    spectra = [
        np.mean(np.square(np.abs(tf.signal.stft(np.asarray(s, np.float32), frame_length, frame_step).numpy())),
                axis=0) + floor
        for s in (a, b)
    ]
    return float(np.sqrt(np.mean(np.square(10.0 * np.log10(spectra[0] / spectra[1])))))


__all__ = [
    "Distillation",
    "DistillationError",
    "check_teacher_and_student",
    "distill",
    "gaussian_kl",
    "monte_carlo_kl",
    "log_spectral_distance",
    "power_loss",
]

"""Parallel WaveNet / ClariNet student: an inverse autoregressive flow over audio."""

import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least, one_of
from arzoo.layers import IAFFlow
from arzoo.likelihoods.discretized_location_scale import (
    DISTRIBUTIONS,
    DiscretizedLocationScale,
    noise_quantile,
)
from arzoo.likelihoods.discretized_logistic_mixture import MIN_LOG_SCALE
from arzoo.models.audio_conditioning import AudioConditioning
from arzoo.models.base import AutoregressiveModel
from arzoo.models.registry import register_model
from arzoo.models.sequence import SequenceEvents


def compose_affine(shift, log_scale, mu, log_s):
    """(b, log a) of x = b + a z after one more flow z' = z exp(log_s) + mu:
    (b exp(log_s) + mu, log a + log_s)."""
    return shift * tf.exp(log_s) + mu, log_scale + log_s


@register_model("parallel_wavenet")
class ParallelWaveNet(AudioConditioning, SequenceEvents, AutoregressiveModel):
    r"""A flow x = f(z) of K inverse autoregressive flows over audio, distilled
    from a WaveNet teacher (`arzoo distill`).

    Flow k maps its input z^(k-1) to z^(k)_t = z^(k-1)_t s^k_t + mu^k_t with
    (mu^k_t, log s^k_t) from a conditional WaveNet over z^(k-1)_<t
    (`arzoo.layers.IAFFlow`); z^(0) is Gaussian or logistic noise and
    x = z^(K). Composed, x_t = b_t + a_t z^(0)_t with a_t = prod_k s^k_t and
    b_t = sum_k mu^k_t prod_{j>k} s^j_t, where (a_t, b_t) depend on z^(0)_<t
    only; since z^(0)_<t is a function of x_<t,

    ```none
    p(x) = prod_t p(x_t | x_<t),   x_t | x_<t ~ b_t + a_t noise,
    ```

    an autoregressive model whose conditionals are one Gaussian (or
    logistic). Over `num_levels` levels of linear PCM each conditional is
    discretized exactly as the teacher's head (`DiscretizedLocationScale`),
    with (a_t, b_t) computed from the bin centres of x_<t, so `log_prob` is
    an exact, normalised distribution over levels, in the teacher's units.

    The mirror image of WaveNet:
      * `sample` is one parallel pass per flow over all time steps (no loop
        over time): draw z^(0), run the K flows, quantize x to levels.
      * `log_prob` inverts the flows one time step after another, an O(T)
        loop (`call`, `step`): z^(k-1)_t = (z^(k)_t - mu^k_t) / s^k_t.

    The parallel sample quantizes the continuous x, whose later steps read
    the continuous x_<t; the density reads the bin centres. What the flows
    read differs by less than half a bin, but inverting a flow divides by
    its scales: a parallel draw is the density's own draw with the same
    uniforms except near ties when the scales are far above a bin, and
    within a level or two of it otherwise (the trained speech student:
    49% of draws moved by a redraw, by half a level on average, against
    conditional scales of about 470 levels; BENCHMARKS.md). Samples clipped at +-1 read 1 in
    the density. The cached and naive sequential samplers
    (`method="cached" | "naive"`) draw the density exactly, one step per
    sample, and `complete` uses them.

    Conditioning is WaveNet's: speaker ids (global) and log-mel frames
    (local), one speaker embedding and one upsampler shared by every flow,
    each flow's blocks with their own projections.

    Args:
      num_levels: levels of x (65,536 for 16-bit PCM); linear companding.
      noise: "gaussian" (ClariNet; a closed-form KL to a Gaussian teacher)
        or "logistic" (Parallel WaveNet).
      num_flows: K.
      layers_per_flow: blocks of every flow: one int, or K ints (the
        paper's 10, 10, 10, 30).
      dilation_cycle: block i of a flow has dilation 2^(i mod cycle).
      dilations: the dilations of every flow's blocks; overrides the two above.
      kernel_size, residual_channels, gate_channels, skip_channels: widths
        of every flow's WaveNet.
      min_log_scale: floor of log a_t (each flow floors its log s at
        min_log_scale / K, so the sum never goes below it).
      initial_scale: a_t of the fresh student (each flow starts as
        z' = z initial_scale^(1/K)): unit noise is 20 dB louder than speech,
        and a distilled student that starts there stays too loud for
        hundreds of steps (its teacher, given loud audio, predicts more).
      num_speakers, speaker_embedding_size, local_channels, hop_length,
      upsampling, sample_rate, sample_length, companding: as WaveNet's.

    Example:
    >>> student = ParallelWaveNet(num_levels=256, num_flows=2, dilations=[1, 2],
    ...                           residual_channels=4, gate_channels=4, skip_channels=4)
    >>> student.sample(2, seed=0, length=64).shape  # one pass, no loop over time
    TensorShape([2, 64])
    >>> student.log_prob(np.zeros((2, 8), "int32")).shape  # a loop over time
    TensorShape([2])

    References:
      [1] van den Oord, Li, Babuschkin, Simonyan, Vinyals, Kavukcuoglu, et al.
          (2018). Parallel WaveNet: Fast High-Fidelity Speech Synthesis.
          arXiv:1711.10433.
      [2] Ping, Peng, Chen (2019). ClariNet: Parallel Wave Generation in
          End-to-End Text-to-Speech. arXiv:1807.07281.
    """

    modality = "audio"
    likelihoods = ()  # the conditionals follow from the flow: `noise` names them
    event_description = "mono audio levels"
    default_sampling_method = "parallel"

    def __init__(
        self,
        num_levels=65536,
        noise="gaussian",
        num_flows=4,
        layers_per_flow=(10, 10, 10, 30),
        dilation_cycle=10,
        dilations=None,
        kernel_size=2,
        residual_channels=64,
        gate_channels=64,
        skip_channels=64,
        min_log_scale=MIN_LOG_SCALE,
        initial_scale=0.05,
        num_speakers=None,
        speaker_embedding_size=16,
        local_channels=None,
        hop_length=256,
        upsampling="repeat",
        sample_rate=16000,
        sample_length=16000,
        companding="linear",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.init_audio_conditioning(
            num_levels, num_speakers, speaker_embedding_size, local_channels, hop_length, upsampling,
            sample_rate, sample_length, companding,
        )
        self.noise = one_of("noise", noise, DISTRIBUTIONS)
        self.num_flows = int_at_least("num_flows", num_flows, 1)
        self.dilation_cycle = int_at_least("dilation_cycle", dilation_cycle, 1)
        if dilations is not None:
            if not isinstance(dilations, (list, tuple)) or not dilations:
                raise ValueError(f"dilations must be a non-empty list of positive ints, got {dilations!r}.")
            dilations = [int_at_least("dilations entries", d, 1) for d in dilations]
            self.layers_per_flow = [len(dilations)] * self.num_flows
            self.dilations = dilations
        else:
            if isinstance(layers_per_flow, (int, np.integer)) and not isinstance(layers_per_flow, bool):
                layers_per_flow = [layers_per_flow] * self.num_flows
            if not isinstance(layers_per_flow, (list, tuple)) or len(layers_per_flow) != self.num_flows:
                raise ValueError(
                    f"layers_per_flow must be an int or a list of num_flows={self.num_flows} ints, "
                    f"got layers_per_flow={layers_per_flow!r}."
                )
            self.layers_per_flow = [int_at_least("layers_per_flow entries", n, 1) for n in layers_per_flow]
            self.dilations = None
        self.kernel_size = int_at_least("kernel_size", kernel_size, 2)
        self.residual_channels = int_at_least("residual_channels", residual_channels, 1)
        self.gate_channels = int_at_least("gate_channels", gate_channels, 1)
        self.skip_channels = int_at_least("skip_channels", skip_channels, 1)
        if isinstance(min_log_scale, bool) or not isinstance(min_log_scale, (int, float)) or min_log_scale >= 0:
            raise ValueError(f"min_log_scale must be a negative number, got min_log_scale={min_log_scale!r}.")
        self.min_log_scale = float(min_log_scale)
        if isinstance(initial_scale, bool) or not isinstance(initial_scale, (int, float)) or \
                not np.exp(self.min_log_scale) <= initial_scale <= 1.0:
            raise ValueError(
                f"initial_scale must be a number in [exp(min_log_scale), 1] = [{np.exp(self.min_log_scale):.3g}, 1], "
                f"got initial_scale={initial_scale!r}."
            )
        self.initial_scale = float(initial_scale)
        if self.companding != "linear":
            raise ValueError(
                f"companding={self.companding!r}: a flow is a density over linear amplitudes; "
                "ParallelWaveNet takes companding='linear'."
            )
        self.head = DiscretizedLocationScale(1, self.num_levels, self.noise, self.min_log_scale)
        self.flows = [
            IAFFlow(
                self.flow_dilations(k), self.kernel_size, self.residual_channels, self.gate_channels,
                self.skip_channels, global_channels=self.global_channels, local_channels=self.local_channels,
                min_log_scale=self.min_log_scale / self.num_flows,
                initial_log_scale=float(np.log(self.initial_scale)) / self.num_flows, name=f"flow{k}",
            )
            for k in range(self.num_flows)
        ]
        self.build()

    def flow_dilations(self, k):
        """The dilations of flow k's blocks."""
        if self.dilations is not None:
            return list(self.dilations)
        return [2 ** (i % self.dilation_cycle) for i in range(self.layers_per_flow[k])]

    @property
    def receptive_field(self):
        """Noise samples z_s (s <= t) that x_t reads: 1 + sum over flows of
        what each flow's shift and scale read. (The density of x_t reads all
        of x_<t: inverting the flows carries every earlier sample.)"""
        return 1 + sum(flow.receptive_field for flow in self.flows)

    def build(self, input_shape=None):
        if self.built:
            return
        if self.speaker_embedding is not None:
            self.speaker_embedding.build((None,))
        if self.upsampler is not None:
            self.upsampler.build((None, None, self.local_channels))
        for flow in self.flows:
            flow.build()
        self.built = True

    # ----- the parallel pass (sampling, distillation) --------------------------

    def noise_from_uniforms(self, uniforms, temperature=None):
        """`[B, T]` uniforms -> the noise z^(0) (times `temperature` `[B]`)."""
        noise = noise_quantile(self.noise, uniforms)
        return noise if temperature is None else noise * tf.cast(temperature, noise.dtype)[:, None]

    def transform(self, noise, condition=None):
        """One parallel pass of every flow over `noise` `[B, T]`.

        Returns a dict of `[B, T]` tensors: `x` (continuous audio), and the
        per-step output distribution x_t | z_<t = `shift` + exp(`log_scale`)
        noise_t (what the KL to a teacher reads); the flow's
        log-determinant is `log_scale` summed over time.
        """
        speaker, features = self.split_condition(condition)
        speaker_vector = self.speaker_vector(speaker)
        local = self.upsample(features, tf.shape(noise)[1])
        z = noise
        shift, log_scale = tf.zeros_like(noise), tf.zeros_like(noise)
        for flow in self.flows:
            mu, log_s = flow(z, speaker_vector, local)
            z = z * tf.exp(log_s) + mu
            shift, log_scale = compose_affine(shift, log_scale, mu, log_s)
        return {"x": z, "shift": shift, "log_scale": log_scale}

    def parallel_sample(self, uniforms, temperature, condition, known, known_mask):
        """The sampling driver's "parallel" method: one pass, then levels."""
        del known_mask  # `complete` draws with the sequential samplers
        noise = self.noise_from_uniforms(uniforms[:, : tf.shape(known)[1], 0], temperature)
        return self.head.quantize(self.transform(noise, condition)["x"])

    # ----- the density: the flows inverted one step at a time -------------------

    def call(self, x, condition=None, training=False):
        """`[B, T]` levels (+ condition) -> `[B, T, 2]`: (b_t, log a_t) of
        p(x_t | x_<t) at every t, by inverting the flows step after step."""
        x = tf.convert_to_tensor(x)
        if x.shape.rank == 3:
            x = x[..., 0]
        speaker, features = self.split_condition(condition)
        if tf.executing_eagerly():
            # One traced loop (a Python loop of T eager steps would take minutes).
            if "density" not in self._compiled:
                self._compiled["density"] = tf.function(self._invert, reduce_retracing=True, autograph=False)
            return self._compiled["density"](x, speaker, features)
        return self._invert(x, speaker, features)

    def _invert(self, x, speaker, features):
        condition = self.join_condition(speaker, features)
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        context = self.prepare_condition(condition)
        state = self.initial_state(batch, condition)
        previous = tf.concat([tf.zeros_like(x[:, :1]), x[:, :-1]], axis=1)
        params = tf.TensorArray(tf.float32, size=length, element_shape=[None, 2])

        def body(t, state, params):
            params_t, state = self.prepared_step(previous[:, t][:, None], state, context)
            return t + 1, state, params.write(t, params_t)

        _, _, params = tf.while_loop(lambda t, *_: t < length, body, (tf.constant(0), state, params))
        return tf.transpose(params.stack(), [1, 0, 2])

    def initial_state(self, batch_size, condition=None):
        """Every flow's empty queues, position 0, and `affines` `[B, K, 2]`:
        each flow's (mu, log s) at the current position, which the next step
        reads to invert the value fed to it."""
        input_queues, queues = [], []
        for flow in self.flows:
            input_queue, block_queues = flow.initial_queues(batch_size)
            input_queues.append(input_queue)
            queues.extend(block_queues)
        return {
            "position": tf.zeros([batch_size], tf.int32),
            "input_queues": input_queues,
            "queues": queues,
            "affines": tf.zeros([batch_size, self.num_flows, 2], tf.float32),
        }

    def step(self, inputs_t, state, condition=None):
        """Feed x_{t-1} (`[B, 1]` levels, ignored at t = 0), get (b_t, log a_t)
        `[B, 2]` of p(x_t | x_<t) for t = `state["position"]` and the new state."""
        return self.prepared_step(inputs_t, state, self.prepare_condition(condition))

    def prepare_condition(self, condition):
        """(per flow, its blocks' speaker biases; the features `[B, F, D]` or None)."""
        speaker, features = self.split_condition(condition)
        vector = self.speaker_vector(speaker)
        return [flow.global_biases(vector) for flow in self.flows], features

    def prepared_step(self, inputs_t, state, context, in_place=False):
        global_biases, features = context
        position = state["position"]
        t = position[0]
        # Invert x_{t-1} through the flows, last first, with their affines at t - 1.
        z = self.head.level_centre(inputs_t[:, 0])
        inputs = [None] * self.num_flows
        for k in reversed(range(self.num_flows)):
            z = (z - state["affines"][:, k, 0]) * tf.exp(-state["affines"][:, k, 1])
            inputs[k] = tf.where(t > 0, z, tf.zeros_like(z))
        local_t = self.upsample_at(features, t)
        input_queues, queues, affines = [], [], []
        shift, log_scale = 0.0, 0.0
        first = 0
        for k, flow in enumerate(self.flows):
            blocks = len(flow.blocks)
            mu, log_s, input_queue, block_queues = flow.step(
                inputs[k], state["input_queues"][k], state["queues"][first:first + blocks], t,
                global_biases[k], local_t, in_place=in_place,
            )
            first += blocks
            input_queues.append(input_queue)
            queues.extend(block_queues)
            affines.append(tf.stack([mu, log_s], axis=-1))
            shift, log_scale = compose_affine(shift, log_scale, mu, log_s)
        params = tf.stack([shift, log_scale], axis=-1)
        new_state = {
            "position": position + 1,
            "input_queues": input_queues,
            "queues": queues,
            "affines": tf.stack(affines, axis=1),
        }
        return params, new_state

    # ----- training: maximum likelihood, or distillation from a teacher --------

    def attach_teacher(self, distillation):
        """Train by `distillation` (an `arzoo.training.distillation.Distillation`,
        holding the frozen teacher) instead of maximum likelihood. The teacher
        is not tracked: it is neither trained nor saved with the student."""
        object.__setattr__(self, "_distillation", distillation)

    @property
    def distillation(self):
        return getattr(self, "_distillation", None)

    def training_log_probs(self, x, condition, step):
        """Minus the distillation loss per step with a teacher attached
        (the training loop's figure is then that loss, in bits per sample);
        else the exact log-likelihood, whose O(T) loop makes direct
        training slow: distil."""
        if self.distillation is None:
            return super().training_log_probs(x, condition, step)
        return -self.distillation.loss_per_step(self, x, condition, step)

    def training_diagnostics(self, x, condition=None):
        """With a teacher: each distillation term and the output level of
        the student's audio beside the real clips' (`student_rms`, `data_rms`)."""
        if self.distillation is None:
            return {}
        return self.distillation.diagnostics(self, x, condition)

    def diagnostic_warnings(self, diagnostics):
        student, data = diagnostics.get("student_rms"), diagnostics.get("data_rms")
        if student is None or not data:
            return []
        if student < 0.25 * data:
            return [f"the student's audio is {20 * np.log10(max(student, 1e-9) / data):.1f} dB below the data's "
                    "(whispering): raise distillation.power_weight or train longer."]
        return []

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            noise=self.noise,
            num_flows=self.num_flows,
            layers_per_flow=list(self.layers_per_flow),
            dilation_cycle=self.dilation_cycle,
            dilations=None if self.dilations is None else list(self.dilations),
            kernel_size=self.kernel_size,
            residual_channels=self.residual_channels,
            gate_channels=self.gate_channels,
            skip_channels=self.skip_channels,
            min_log_scale=self.min_log_scale,
            initial_scale=self.initial_scale,
            **self.audio_conditioning_config(),
        )
        return config

"""PixelVAE: a variational auto-encoder whose decoder is a Gated PixelCNN
(Gulrajani et al. 2017, arXiv:1611.05013).

    q(z | x) = N(mu(x), diag sigma(x)^2)        the encoder, a tfp distribution
    p(z)     = N(0, I)                          the prior
    p(x | z) = prod_i p(x_i | x_<i, z)          a shallow Gated PixelCNN, z its
                                                embedding condition

The marginal p(x) = E_p(z)[p(x | z)] has no closed form, so every number
this model reports is a lower bound on log p(x), never the exact value:

    ELBO(x)  = E_q[log p(x | z)] - KL(q(z | x) || p(z))          (KL analytic)
    IW_k(x)  = E[log (1/k) sum_j p(x, z_j) / q(z_j | x)],  z_j ~ q (Burda et
               al. 2016, arXiv:1509.00519); IW_1 = ELBO <= IW_k <= log p(x),
               rising to log p(x) as k grows.

`likelihood_is_exact` is False: evaluation and export say "bound" for it.
What is exact is the decoder: for any fixed z, p(x | z) is a normalised,
causal autoregressive density (`decoder`, a `GatedPixelCNN`, meets the whole
model contract with z as its condition).

Sampling draws z from the prior, then runs the decoder's cached sampler
given z. `complete` conditions on the known pixels through the decoder only:
z is drawn from the prior, not inferred from the known part (an inferred z
would need q(z | part of x), which the encoder does not model).

`encode` gives q(z | x)'s mean and log-variance, `decode` runs the
decoder's cached sampler given codes; export adds both as signatures.
"""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.arguments import int_at_least
from arzoo.layers.conv_encoder import ConvEncoder
from arzoo.models.gated_pixelcnn import GatedPixelCNN
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.registry import register_model

tfd = tfp.distributions

# Seed streams: a row's latent is drawn from fold_in(row seed, LATENT_STREAM),
# so it is independent of the decoder's per-step uniforms (drawn from the row
# seed itself); the bounds' common noise from EVALUATION_SEED.
LATENT_STREAM = 1 << 20
EVALUATION_SEED = (20161105, 0)


def _non_negative_float(name, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {name}={value!r}.")
    return number


@register_model("pixel_vae")
class PixelVAE(AutoregressiveImageModel):
    """PixelVAE with a vector latent and a Gated PixelCNN decoder.

    `log_prob` is a lower bound (the importance-weighted bound with
    `iw_samples` draws), `sample` draws z from the prior and then the
    decoder, and `complete` conditions on the known pixels through the
    decoder only (z from the prior, not inferred from them).

    Args:
      image_shape, num_levels, likelihood, num_mixtures: the decoder's (see
        `AutoregressiveImageModel`); the model is unconditional.
      latent_dim: size of z.
      encoder_filters: channels of the encoder's stride-2 convolutions.
      decoder_filters, decoder_layers, decoder_first_kernel_size,
      decoder_kernel_size, decoder_output_filters: the Gated PixelCNN
        decoder's num_filters, num_layers, first_kernel_size, kernel_size,
        num_output_filters (few layers: the paper's point is that z carries
        the global structure and a shallow PixelCNN the local detail).
      kl_warmup_steps: the KL term's weight rises linearly from 0 to 1 over
        this many training steps (0: always 1), so the decoder cannot learn
        to ignore z before the encoder is useful.
      free_bits: nats per latent dimension below which the KL of that
        dimension is not penalised during training (Kingma et al. 2016,
        arXiv:1606.04934); 0 turns it off. Evaluation always uses the full KL.
      iw_samples: k of the importance-weighted bound `log_prob` reports.

    Example:
    >>> model = PixelVAE(image_shape=(4, 4, 1), num_levels=2, likelihood="bernoulli",
    ...                  latent_dim=2, encoder_filters=[4], decoder_filters=4,
    ...                  decoder_layers=1, decoder_output_filters=8, iw_samples=5)
    >>> model.log_prob(np.zeros((2, 4, 4, 1), "int32")).shape  # a bound
    TensorShape([2])
    >>> model.sample(2, seed=0).shape
    TensorShape([2, 4, 4, 1])

    References:
      Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez, Courville (2017).
      PixelVAE: A Latent Variable Model for Natural Images. ICLR.
      arXiv:1611.05013.
    """

    likelihood_is_exact = False
    external_conditions = False
    settable_after_training = ("iw_samples",)

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="categorical",
        num_mixtures=5,
        num_classes=None,
        condition_shape=None,
        latent_dim=16,
        encoder_filters=(32, 64),
        decoder_filters=32,
        decoder_layers=2,
        decoder_first_kernel_size=7,
        decoder_kernel_size=3,
        decoder_output_filters=64,
        kl_warmup_steps=0,
        free_bits=0.0,
        iw_samples=100,
        **kwargs,
    ):
        if num_classes is not None or condition_shape is not None:
            raise ValueError(
                "PixelVAE is unconditional (its decoder is conditioned on the latent z); got "
                f"num_classes={num_classes}, condition_shape={condition_shape}."
            )
        super().__init__(image_shape, num_levels=num_levels, likelihood=likelihood,
                         num_mixtures=num_mixtures, **kwargs)
        self.latent_dim = int_at_least("latent_dim", latent_dim, 1)
        self.kl_warmup_steps = int_at_least("kl_warmup_steps", kl_warmup_steps, 0)
        self.free_bits = _non_negative_float("free_bits", free_bits)
        self.iw_samples = int_at_least("iw_samples", iw_samples, 1)
        self.encoder = ConvEncoder(encoder_filters, 2 * self.latent_dim, name="encoder")
        self.decoder = GatedPixelCNN(
            self.image_shape,
            num_levels=self.num_levels,
            likelihood=self.likelihood,
            num_mixtures=self.num_mixtures,
            condition_shape=[self.latent_dim],
            num_filters=decoder_filters,
            num_layers=decoder_layers,
            first_kernel_size=decoder_first_kernel_size,
            kernel_size=decoder_kernel_size,
            num_output_filters=decoder_output_filters,
            name="decoder",
        )
        self._training_noise = keras.random.SeedGenerator(0, name="training_noise")
        self.build()

    # ----- the latent -----------------------------------------------------------

    def _posterior_parameters(self, x):
        """(mean, log-variance) of q(z | x), each `[B, latent_dim]`."""
        mean, log_variance = tf.split(self.encoder(self.scale_levels(x)), 2, axis=-1)
        return mean, log_variance

    def posterior(self, x):
        """q(z | x) for levels `x` `[B, H, W, C]` (checked): a `tfd.MultivariateNormalDiag`."""
        return self._posterior(self.check_events(x))

    def _posterior(self, x):
        mean, log_variance = self._posterior_parameters(x)
        return tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_variance))

    def prior(self):
        """p(z) = N(0, I), a `tfd.MultivariateNormalDiag`."""
        return tfd.MultivariateNormalDiag(tf.zeros([self.latent_dim]), tf.ones([self.latent_dim]))

    def encode(self, x):
        """{"mean", "log_variance"} of q(z | x), each `[B, latent_dim]`; the
        mean is the code `decode` and the interpolations read."""
        mean, log_variance = self._posterior_parameters(self.check_events(x))
        return {"mean": mean, "log_variance": log_variance}

    def code_of(self, encoding):
        """The code of an `encode` result: q(z | x)'s mean."""
        return encoding["mean"]

    def decoder_log_prob(self, x, z):
        """log p(x | z) `[B]` nats, exact (teacher-forced decoder)."""
        return tf.reduce_sum(self.decoder.teacher_forced_log_probs(x, z), axis=[1, 2, 3])

    def per_dimension_kl(self, posterior):
        """KL(q || p) of each latent dimension `[B, latent_dim]`, analytic."""
        marginals = tfd.Normal(posterior.mean(), posterior.stddev())
        return tfd.kl_divergence(marginals, tfd.Normal(0.0, 1.0))

    # ----- the bounds -------------------------------------------------------------

    @property
    def likelihood_description(self):
        return f"a lower bound: importance-weighted, k={self.iw_samples}"

    def _common_noise(self, num_samples):
        """`[num_samples, latent_dim]` standard normals, the same for every
        row and call: a bound is then a function of x alone (the same in any
        batch), and bounds with more samples reuse the first ones."""
        return tf.random.stateless_normal(
            [num_samples, self.latent_dim], seed=tf.constant(EVALUATION_SEED, tf.int32)
        )

    def elbo_terms(self, x, noise=None):
        """(reconstruction log p(x | z) with z = mean + stddev * noise,
        KL(q(z | x) || p(z))), each `[B]` nats; `noise` `[B or 1, latent_dim]`
        (default: the first common draw)."""
        posterior = self._posterior(x)
        noise = self._common_noise(1) if noise is None else noise
        z = posterior.mean() + posterior.stddev() * noise
        kl = tf.reduce_sum(self.per_dimension_kl(posterior), axis=-1)
        return self.decoder_log_prob(x, z), kl

    def elbo(self, x):
        """The evidence lower bound `[B]` nats (reconstruction at one common
        draw of z, KL analytic); `importance_weighted_bound(x, 1)` is the
        same bound with the KL estimated at that draw."""
        x = self.check_events(x)
        reconstruction, kl = self.elbo_terms(x)
        return reconstruction - kl

    def importance_weighted_bound(self, x, num_samples=None, images_per_pass=4096):
        """IW_k(x) `[B]` nats with k = `num_samples` (default `iw_samples`)
        draws z_j = mean + stddev * e_j of q(z | x), the e_j common to every
        row: log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x). The decoder runs
        on chunks of draws, about `images_per_pass` images a pass (8 draws a
        pass where the batch size is not known when tracing)."""
        x = self.check_events(x)
        return self._importance_weighted_bound(x, num_samples, images_per_pass)

    def _importance_weighted_bound(self, x, num_samples=None, images_per_pass=4096):
        k = self.iw_samples if num_samples is None else int_at_least("num_samples", num_samples, 1)
        posterior, prior = self._posterior(x), self.prior()
        mean, stddev = posterior.mean(), posterior.stddev()
        static_batch = x.shape[0]
        per_pass = max(1, int(images_per_pass) // static_batch) if static_batch else 8
        per_pass = min(k, per_pass)
        passes = -(-k // per_pass)
        noise = tf.pad(self._common_noise(k), [[0, passes * per_pass - k], [0, 0]])
        batch = tf.shape(x)[0]
        tiled = tf.tile(x, [per_pass, 1, 1, 1])  # draw-major: rows of draw 0, then draw 1, ...

        def log_weights(e):  # [per_pass, d] -> [per_pass, B]
            z = mean[None] + stddev[None] * e[:, None, :]
            decoded = self.decoder_log_prob(tiled, tf.reshape(z, [-1, self.latent_dim]))
            return tf.reshape(decoded, [per_pass, batch]) + prior.log_prob(z) - posterior.log_prob(z)

        weights = tf.map_fn(
            log_weights, tf.reshape(noise, [passes, per_pass, self.latent_dim]),
            fn_output_signature=tf.TensorSpec([per_pass, None], tf.float32),
        )
        weights = tf.reshape(weights, [passes * per_pass, batch])[:k]  # the padding's draws dropped
        return tf.reduce_logsumexp(weights, axis=0) - math.log(k)

    def log_prob(self, x, condition=None):
        """A lower bound on log p(x), `[B]` nats: the importance-weighted
        bound with `iw_samples` draws (not exact: `likelihood_is_exact`)."""
        self.check_condition(condition, int(np.shape(x)[0]))
        return self.importance_weighted_bound(x)

    def log_prob_terms(self, x, condition=None):
        """{"log_prob": the IW bound, "iw_bound" (the same), "elbo",
        "reconstruction" (log p(x | z) at the ELBO's draw), "kl"}, each `[B]`
        nats; inputs checked as `log_prob`'s when eager (a graph's are the
        export's to check)."""
        if tf.executing_eagerly():
            x = self.check_events(x)
            self.check_condition(condition, int(x.shape[0]))
        reconstruction, kl = self.elbo_terms(x)
        bound = self._importance_weighted_bound(x)
        return {"log_prob": bound, "iw_bound": bound, "elbo": reconstruction - kl,
                "reconstruction": reconstruction, "kl": kl}

    # ----- training -------------------------------------------------------------

    def kl_weight(self, step):
        """The KL term's weight at training step `step` (warm-up)."""
        if not self.kl_warmup_steps:
            return tf.constant(1.0)
        return tf.minimum(1.0, tf.cast(step, tf.float32) / float(self.kl_warmup_steps))

    def training_log_probs(self, x, condition, step):
        return self.teacher_forced_log_probs(x, condition, training=True, step=step)

    def teacher_forced_log_probs(self, x, condition=None, training=False, step=None):
        """log p(x_i | x_<i, z) for every sub-pixel minus the KL spread evenly
        over them, `[B, H, W, C]`: their sum is a one-sample ELBO. In
        training z is drawn afresh and the KL is warmed up (`step`) and
        floored per dimension (`free_bits`); otherwise z is the first common
        draw and the KL the full one (the sum is then `elbo`)."""
        posterior = self._posterior(x)
        if training:
            noise = keras.random.normal(tf.shape(posterior.mean()), seed=self._training_noise)
        else:
            noise = self._common_noise(1)
        z = posterior.mean() + posterior.stddev() * noise
        kl = self.per_dimension_kl(posterior)
        if training:
            if self.free_bits:
                kl = tf.maximum(kl, self.free_bits)
            kl = kl * (1.0 if step is None else self.kl_weight(step))
        kl = tf.reduce_sum(kl, axis=-1)
        per_pixel = self.decoder.teacher_forced_log_probs(x, z, training=training)
        dims = float(np.prod(self.image_shape))
        return per_pixel - tf.reshape(kl, [-1, 1, 1, 1]) / dims

    # Below this many nats per example the latent carries next to nothing:
    # the decoder models x alone (posterior collapse).
    COLLAPSED_KL_NATS = 0.1

    def training_diagnostics(self, x, condition=None):
        """{"kl_nats": mean KL(q(z | x) || p(z)) per example (the full one,
        without warm-up or free bits), "active_latent_dims": dimensions whose
        mean KL is above 0.01 nats}."""
        del condition
        kl = self.per_dimension_kl(self._posterior(x))
        return {"kl_nats": float(tf.reduce_mean(tf.reduce_sum(kl, -1))),
                "active_latent_dims": int(tf.reduce_sum(tf.cast(tf.reduce_mean(kl, 0) > 0.01, tf.int32)))}

    def diagnostic_warnings(self, diagnostics):
        kl = diagnostics.get("kl_nats")
        if kl is not None and kl < self.COLLAPSED_KL_NATS:
            return [
                f"The KL term fell to {kl:.3f} nats per example (below {self.COLLAPSED_KL_NATS}): the "
                "posterior has collapsed onto the prior and the decoder ignores z. Raise "
                f"model.kl_warmup_steps (now {self.kl_warmup_steps}) or model.free_bits (now "
                f"{self.free_bits}), or use fewer decoder layers."
            ]
        return []

    def conditional_log_probs(self, x, condition=None):
        """`teacher_forced_log_probs` at the common draw: a decomposition of
        the one-sample ELBO, not of an exact log p(x)."""
        x = self.check_events(x)
        self.check_condition(condition, int(x.shape[0]))
        return self.teacher_forced_log_probs(x)

    def call(self, x, condition=None, training=False):
        """The decoder's parameters for every position given z = the
        posterior mean of x: a reconstruction, which reads all of x through
        z (unlike a density's teacher-forced pass)."""
        return self.decoder(x, self._posterior(x).mean(), training=training)

    # ----- sampling -------------------------------------------------------------

    def prior_latents(self, seeds):
        """`[B, latent_dim]` draws of p(z), row b from `seeds[b]` alone
        (through its LATENT_STREAM fold)."""
        def one(seed):
            folded = tf.random.experimental.stateless_fold_in(seed, LATENT_STREAM)
            return tf.random.stateless_normal([self.latent_dim], seed=folded)

        return tf.map_fn(one, tf.cast(seeds, tf.int32), fn_output_signature=tf.TensorSpec([self.latent_dim], tf.float32))

    def decoding_target(self, code):
        return self.decoder, code  # the code is z itself

    def sampling_target(self, seeds, condition):
        # z from the prior, then the decoder's sampler given z. `complete`
        # reads the known part through the decoder only: z is drawn from the
        # prior, not inferred from the known pixels.
        del condition  # unconditional
        return self.decoder, self.prior_latents(seeds)

    def initial_state(self, batch_size, condition=None):
        raise NotImplementedError(
            "PixelVAE's streaming state holds each row's latent, drawn from its seed: use "
            "model.initial_state_for_seeds(seeds), or model.decoder.initial_state / step with "
            "condition=z (model.prior_latents(seeds) or model.encode(x)['mean'])."
        )

    def initial_state_for_seeds(self, seeds, condition=None):
        """The decoder's state before step 0 and `latent`, each row's prior
        draw (as `sample` draws it), so `step` streams what `sample` draws."""
        del condition  # unconditional
        latent = self.prior_latents(seeds)
        state = self.decoder.initial_state(tf.shape(seeds)[0], latent)
        return dict(state, latent=latent)

    def step(self, inputs_t, state, condition=None):
        """The decoder's step given the state's `latent`."""
        del condition  # unconditional: the latent is in the state
        decoder_state = {key: value for key, value in state.items() if key != "latent"}
        params_t, new_state = self.decoder.step(inputs_t, decoder_state, state["latent"])
        return params_t, dict(new_state, latent=state["latent"])

    # ----- serialization ----------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        for key in ("num_classes", "condition_shape"):
            config.pop(key)
        decoder = self.decoder
        config.update(
            latent_dim=self.latent_dim,
            encoder_filters=list(self.encoder.filters),
            decoder_filters=decoder.num_filters,
            decoder_layers=decoder.num_layers,
            decoder_first_kernel_size=decoder.first_kernel_size,
            decoder_kernel_size=decoder.kernel_size,
            decoder_output_filters=decoder.num_output_filters,
            kl_warmup_steps=self.kl_warmup_steps,
            free_bits=self.free_bits,
            iw_samples=self.iw_samples,
        )
        return config

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

This step of the family (issue 16) has the model, its bounds, training
objective and sampling; it is not registered as a family yet (the contract
suite, export signatures `encode` / `decode` and the CLI come with it).
"""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from arzoo.arguments import int_at_least
from arzoo.models.gated_pixelcnn import GatedPixelCNN
from arzoo.models.image import AutoregressiveImageModel

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


class ConvEncoder(keras.layers.Layer):
    """Images scaled to [-1, 1] `[B, H, W, C]` -> `[B, units]`: 3x3
    convolutions of stride 2 with ReLU (one per entry of `filters`), then a
    dense layer over the flattened map.

    Example:
    >>> ConvEncoder([8, 16], 6)(np.zeros((2, 8, 8, 1), "float32")).shape
    TensorShape([2, 6])
    """

    def __init__(self, filters, units, **kwargs):
        super().__init__(**kwargs)
        self.filters = [int_at_least("encoder_filters entries", f, 1) for f in filters]
        self.units = int_at_least("units", units, 1)
        self.convs = [
            keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")
            for i, f in enumerate(self.filters)
        ]
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(self.units, name="dense")

    def call(self, x):
        for conv in self.convs:
            x = conv(x)
        return self.dense(self.flatten(x))


@keras.saving.register_keras_serializable(package="arzoo")
class PixelVAE(AutoregressiveImageModel):
    """PixelVAE with a vector latent and a Gated PixelCNN decoder.

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
        if isinstance(encoder_filters, (int, str)) or not list(encoder_filters):
            raise ValueError(f"encoder_filters must be a non-empty list of ints, got {encoder_filters!r}.")
        self.encoder_filters = [int_at_least("encoder_filters entries", f, 1) for f in encoder_filters]
        self.kl_warmup_steps = int_at_least("kl_warmup_steps", kl_warmup_steps, 0)
        self.free_bits = _non_negative_float("free_bits", free_bits)
        self.iw_samples = int_at_least("iw_samples", iw_samples, 1)
        self.encoder = ConvEncoder(self.encoder_filters, 2 * self.latent_dim, name="encoder")
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

    def posterior(self, x):
        """q(z | x) for levels `x` `[B, H, W, C]`: a `tfd.MultivariateNormalDiag`."""
        mean, log_variance = tf.split(self.encoder(self.scale_levels(x)), 2, axis=-1)
        return tfd.MultivariateNormalDiag(mean, tf.exp(0.5 * log_variance))

    def prior(self):
        """p(z) = N(0, I), a `tfd.MultivariateNormalDiag`."""
        return tfd.MultivariateNormalDiag(tf.zeros([self.latent_dim]), tf.ones([self.latent_dim]))

    def encode(self, x):
        """(mean, log-variance) of q(z | x), each `[B, latent_dim]`."""
        x = self.check_events(x)
        mean, log_variance = tf.split(self.encoder(self.scale_levels(x)), 2, axis=-1)
        return mean, log_variance

    def decoder_log_prob(self, x, z):
        """log p(x | z) `[B]` nats, exact (teacher-forced decoder)."""
        return tf.reduce_sum(self.decoder.teacher_forced_log_probs(x, z), axis=[1, 2, 3])

    def per_dimension_kl(self, posterior):
        """KL(q || p) of each latent dimension `[B, latent_dim]`, analytic."""
        marginals = tfd.Normal(posterior.mean(), posterior.stddev())
        return tfd.kl_divergence(marginals, tfd.Normal(0.0, 1.0))

    # ----- the bounds -------------------------------------------------------------

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
        posterior = self.posterior(x)
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
        row: log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x). The k decoder
        passes run as batches of about `images_per_pass` images."""
        x = self.check_events(x)
        k = self.iw_samples if num_samples is None else int_at_least("num_samples", num_samples, 1)
        posterior, prior = self.posterior(x), self.prior()
        noise = self._common_noise(k)
        batch = int(x.shape[0])
        chunk = max(1, int(images_per_pass) // max(batch, 1))
        log_weights = []
        for start in range(0, k, chunk):
            e = noise[start:start + chunk]  # [c, d]
            z = posterior.mean()[None] + posterior.stddev()[None] * e[:, None, :]  # [c, B, d]
            c = int(e.shape[0])
            decoded = self.decoder_log_prob(
                tf.tile(x, [c, 1, 1, 1]), tf.reshape(z, [c * batch, self.latent_dim])
            )
            log_weights.append(
                tf.reshape(decoded, [c, batch]) + prior.log_prob(z) - posterior.log_prob(z)
            )
        return tf.reduce_logsumexp(tf.concat(log_weights, 0), axis=0) - math.log(k)

    def log_prob(self, x, condition=None):
        """A lower bound on log p(x), `[B]` nats: the importance-weighted
        bound with `iw_samples` draws (not exact: `likelihood_is_exact`)."""
        self.check_condition(condition, int(np.shape(x)[0]))
        return self.importance_weighted_bound(x)

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
        posterior = self.posterior(x)
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
        return self.decoder(x, self.posterior(x).mean(), training=training)

    def build(self, input_shape=None):
        if self.built:
            return
        self.posterior(tf.zeros((1,) + self.image_shape, tf.int32))
        self.built = True

    # ----- sampling -------------------------------------------------------------

    def prior_latents(self, seeds):
        """`[B, latent_dim]` draws of p(z), row b from `seeds[b]` alone
        (through its LATENT_STREAM fold)."""
        def one(seed):
            folded = tf.random.experimental.stateless_fold_in(seed, LATENT_STREAM)
            return tf.random.stateless_normal([self.latent_dim], seed=folded)

        return tf.map_fn(one, tf.cast(seeds, tf.int32), fn_output_signature=tf.TensorSpec([self.latent_dim], tf.float32))

    def decode(self, z, seeds, temperature=1.0, method="cached"):
        """Images `[B, H, W, C]` from the decoder given codes `z` `[B,
        latent_dim]` (one row seed each, `[B, 2]`)."""
        return self.decoder.sample(seeds=seeds, condition=z, temperature=temperature, method=method)

    def sampling_target(self, seeds, condition):
        # z from the prior, then the decoder's sampler given z. `complete`
        # reads the known part through the decoder only: z is drawn from the
        # prior, not inferred from the known pixels.
        del condition  # unconditional
        return self.decoder, self.prior_latents(seeds)

    def initial_state(self, batch_size, condition=None):
        raise NotImplementedError(
            "PixelVAE streams through its decoder: use model.decoder.initial_state / step with "
            "condition=z (model.prior_latents(seeds) or model.encode(x)[0])."
        )

    # ----- serialization ----------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        for key in ("num_classes", "condition_shape"):
            config.pop(key)
        decoder = self.decoder
        config.update(
            latent_dim=self.latent_dim,
            encoder_filters=list(self.encoder_filters),
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

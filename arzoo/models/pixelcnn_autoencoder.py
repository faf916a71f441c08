"""The PixelCNN auto-encoder (van den Oord et al. 2016, arXiv:1606.05328,
section 3.4): a deterministic convolutional encoder e(x) whose code h
conditions a Gated PixelCNN decoder p(x | h).

The model is the decoder, a conditional Gated PixelCNN whose condition is
the code: `log_prob(x, code)` is the exact, normalised log p(x | code) for
any code, and `sample(condition=code)` draws from it, so the whole model
contract (causality, normalization, step == log_prob, naive == cached) holds
with the code as the condition. Without a code (`condition=None`) the
likelihood and training read the image's own code, h = e(x): that is the
auto-encoder's objective, the reconstruction log-likelihood log p(x | e(x)),
which is not a density of x alone (it reads all of x through e), and
evaluation says so. Sampling needs a code: `decode(code, seeds)`, or
`sample(condition=code)`.
"""

import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.conv_encoder import ConvEncoder
from arzoo.models.gated_pixelcnn import GatedPixelCNN
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.registry import register_model


@register_model("pixelcnn_autoencoder")
class PixelCNNAutoencoder(AutoregressiveImageModel):
    """A convolutional encoder to a `code_dim` vector and a Gated PixelCNN
    decoder conditioned on it (embedding conditioning, every gate).

    Args:
      image_shape, num_levels, likelihood, num_mixtures: see
        `AutoregressiveImageModel`.
      code_dim: the size of the code h (the paper's bottleneck).
      encoder_filters: channels of the encoder's stride-2 convolutions.
      num_filters, num_layers, first_kernel_size, kernel_size,
      num_skip_filters, num_output_filters: the decoder's (`GatedPixelCNN`,
        `model.decoder`, whose condition is the code).

    Example:
    >>> model = PixelCNNAutoencoder(image_shape=(4, 4, 1), num_levels=2, likelihood="bernoulli",
    ...                             code_dim=3, encoder_filters=[4], num_filters=4, num_layers=1)
    >>> x = np.zeros((2, 4, 4, 1), "int32")
    >>> code = model.encode(x)["code"]
    >>> model.log_prob(x, code).shape  # exact log p(x | code)
    TensorShape([2])
    >>> model.decode(code, seeds=np.zeros((2, 2), "int32")).shape
    TensorShape([2, 4, 4, 1])

    References:
      van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu
      (2016). Conditional Image Generation with PixelCNN Decoders. NeurIPS,
      section 3.4. arXiv:1606.05328.
    """

    external_conditions = False

    def __init__(self, image_shape, num_levels=256, likelihood="categorical", num_mixtures=5,
                 num_classes=None, condition_shape=None, code_dim=16, encoder_filters=(32, 64),
                 num_filters=64, num_layers=8, first_kernel_size=7, kernel_size=5, num_skip_filters=None,
                 num_output_filters=256, **kwargs):
        code_dim = int_at_least("code_dim", code_dim, 1)
        if num_classes is not None or condition_shape not in (None, [code_dim], (code_dim,)):
            raise ValueError(
                "The PixelCNN auto-encoder's condition is its code (condition_shape=[code_dim]); got "
                f"num_classes={num_classes}, condition_shape={condition_shape}."
            )
        super().__init__(image_shape, num_levels=num_levels, likelihood=likelihood, num_mixtures=num_mixtures,
                         condition_shape=[code_dim], **kwargs)
        self.latent_dim = code_dim
        self.encoder = ConvEncoder(encoder_filters, code_dim, name="encoder")
        self.decoder = GatedPixelCNN(
            self.image_shape, num_levels=self.num_levels, likelihood=self.likelihood,
            num_mixtures=self.num_mixtures, condition_shape=[code_dim], num_filters=num_filters,
            num_layers=num_layers, first_kernel_size=first_kernel_size, kernel_size=kernel_size,
            num_skip_filters=num_skip_filters, num_output_filters=num_output_filters, name="decoder",
        )
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.call(tf.zeros((1,) + self.image_shape, tf.int32), None)  # the encoder and the decoder
        self.built = True

    # ----- the code ----------------------------------------------------------------

    @property
    def likelihood_description(self):
        return ("exact given a code; without one, as here, the reconstruction log p(x | e(x)) with each "
                "image's own code, not a density of x alone")

    def encode(self, x):
        """{"code": e(x) `[B, code_dim]`} for levels `x` `[B, H, W, C]`."""
        return {"code": self.encoder(self.scale_levels(self.check_events(x)))}

    def code_of(self, encoding):
        return encoding["code"]

    def decoding_target(self, code):
        return self.decoder, code

    def check_condition(self, condition, batch=None, length=None):
        # None is allowed: the likelihood then reads each image's own code.
        return None if condition is None else super().check_condition(condition, batch, length)

    def call(self, x, condition=None, training=False):
        """The decoder's parameters for every position given `condition`
        (codes), or given each image's own code e(x) when None (the
        reconstruction pass, which reads all of x through e)."""
        if condition is None:
            condition = self.encoder(self.scale_levels(x))
        return self.decoder(x, condition, training=training)

    # ----- sampling: the decoder's, given codes ------------------------------------

    def sampling_target(self, seeds, condition):
        if condition is None:
            raise ValueError(
                "The PixelCNN auto-encoder samples given a code: pass condition=codes [B, "
                f"{self.latent_dim}] (model.encode(x)['code']), or use model.decode(codes, seeds)."
            )
        return self.decoder, condition

    def initial_state(self, batch_size, condition=None):
        return self.decoder.initial_state(batch_size, condition)

    def step(self, inputs_t, state, condition=None):
        """The decoder's step given the code `condition`."""
        return self.decoder.step(inputs_t, state, condition)

    def get_config(self):
        config = super().get_config()
        for key in ("num_classes", "condition_shape"):
            config.pop(key)
        decoder = self.decoder
        config.update(
            code_dim=self.latent_dim, encoder_filters=list(self.encoder.filters),
            num_filters=decoder.num_filters, num_layers=decoder.num_layers,
            first_kernel_size=decoder.first_kernel_size, kernel_size=decoder.kernel_size,
            num_skip_filters=decoder.num_skip_filters, num_output_filters=decoder.num_output_filters,
        )
        return config

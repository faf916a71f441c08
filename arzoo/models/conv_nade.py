"""ConvNADE: an orderless NADE whose network is convolutional (Uria et al. 2016)."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.models.orderless import OrderlessModel
from arzoo.models.registry import register_model


@register_model("conv_nade")
class ConvNADE(OrderlessModel):
    """p(x_d | x_S) for any observed subset S from one convolutional pass:

        input  (x . m, m) as an image of C (F + 1) channels,
        hidden `num_layers` ReLU convolutions of `num_filters`,
        output a 1x1 convolution to every sub-pixel's parameters.

    Training, exact likelihoods in any ordering (D masked passes,
    `steps_per_pass` at a time) and ensembles over orderings are the
    orderless machinery of `arzoo.models.orderless`, shared with DeepNADE.
    Uria et al. stack "valid" then "full" convolutions so the output has
    the input's size; 'same' padding gives the same size directly and is
    used here. A condition adds a dense projection to the first layer.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      ordering, ordering_seed, num_orderings: see `OrderlessModel`.
      num_filters: channels of every hidden convolution.
      num_layers: hidden convolutions.
      kernel_size: odd kernel size of the hidden convolutions.

    Example:
    >>> model = ConvNADE(image_shape=(4, 4, 1), num_filters=8, num_layers=2)
    >>> model.log_prob(np.zeros((2, 4, 4, 1), "int32")).shape
    TensorShape([2])

    References:
      [1] Uria, Cote, Gregor, Murray and Larochelle (2016). Neural
          Autoregressive Distribution Estimation. JMLR 17(205).
          arXiv:1605.02226.
    """

    def __init__(self, image_shape, num_filters=32, num_layers=4, kernel_size=5, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.num_layers = int_at_least("num_layers", num_layers, 1)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got kernel_size={kernel_size}.")
        self.convolutions = [
            keras.layers.Conv2D(self.num_filters, self.kernel_size, padding="same", name=f"conv_{i}")
            for i in range(self.num_layers)
        ]
        self.output_conv = keras.layers.Conv2D(
            self.image_shape[-1] * self.head.params_per_step, 1, name="output_conv"
        )
        self.condition_projection = (
            keras.layers.Dense(self.num_filters, use_bias=False, name="condition_projection")
            if self.is_conditional
            else None
        )
        self.build()

    def given_mask(self, x, mask, condition=None):
        height, width, channels = self.image_shape
        mask = tf.cast(mask, tf.float32)
        features = self.input_features(x) * mask[..., None]
        image = tf.concat(
            [
                tf.reshape(features, [-1, height, width, channels * self.num_input_features]),
                tf.reshape(mask, [-1, height, width, channels]),
            ],
            axis=-1,
        )
        hidden = image
        for i, conv in enumerate(self.convolutions):
            hidden = conv(hidden)
            if i == 0 and condition is not None:
                hidden = hidden + self.condition_projection(condition)[:, None, None]
            hidden = tf.nn.relu(hidden)
        return self.output_conv(hidden)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_filters=self.num_filters, num_layers=self.num_layers, kernel_size=self.kernel_size
        )
        return config

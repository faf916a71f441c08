"""RIDE (Theis and Bethge 2015): spatial LSTMs with a mixture of conditional
Gaussian scale mixtures over real-valued pixels; and the MCGSM alone."""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers import caches
from arzoo.layers.causal_neighbourhood import causal_neighbourhoods, neighbourhood_at
from arzoo.layers.mcgsm import MCGSM
from arzoo.layers.spatial_lstm import SpatialLSTM
from arzoo.likelihoods.coupled_gaussian_mixture import CoupledMixtureOfGaussians
from arzoo.models.real_image import RealImageModel
from arzoo.models.registry import register_model


@register_model("spatial_lstm")
class SpatialLSTMModel(RealImageModel):
    """The recurrent image density estimator (RIDE) of Theis and Bethge:

        p(x) = prod_{i, j} p(x_ij | h_ij, n_ij),
        h_ij = SLSTM_L(... SLSTM_1(n_ij, states left and above) ...),

    n_ij the causal neighbourhood of pixel (i, j) (the `radius` rows above
    within `radius` columns either side and the `radius` pixels to the left,
    `arzoo.layers.causal_neighbourhood`), h_ij the hidden state of the top
    of `num_layers` stacked spatial LSTMs (`arzoo.layers.SpatialLSTM`), which
    so reads every pixel above and to the left; p(x_ij | ...) a mixture of
    conditional Gaussian scale mixtures (`arzoo.layers.MCGSM`) whose inputs
    are y = [h_ij, n_ij]: means linear in the neighbourhood and the hidden
    state, gates from both. Channels of a pixel are drawn R -> G -> B, each
    with its own MCGSM and its mean shifted linearly by the channels before
    it (`CoupledMixtureOfGaussians`); the paper's images are grey (C = 1).

    `num_layers=0` is the MCGSM alone (y = n_ij), the paper's baseline; the
    family `mcgsm` names it.

    Every weight is shared across positions, so a model trained on small
    images draws larger ones (`resized`, `arzoo sample --size`): the
    paper's texture synthesis.

    Sampling: teacher-forced passes run the LSTMs as a wavefront over
    anti-diagonals (H + W - 1 steps). Cached sampling carries, per layer,
    one row of LSTM states (columns left of the pixel from its own row, the
    others from the row above) and a padded canvas for the neighbourhood:
    O(L U^2) per pixel. Step t draws pixel t from 2 C uniforms of its row's
    seed, so naive and cached sampling agree sample for sample.
    `temperature` multiplies every Gaussian's variance.

    Args:
      image_shape: (height, width, channels).
      num_layers: L stacked spatial LSTMs (0: the MCGSM alone).
      units: hidden units of each spatial LSTM.
      radius: the causal neighbourhood's radius (1: 4 pixels, 2: 12).
      num_components: MCGSM components per channel.
      num_scales: Gaussian scales per component.
      num_features: the features b_n^T y the MCGSM's gates read.
      zero_mean: images with their mean removed (the BSDS300 protocol): the
        density of the first H W - 1 pixels, the last minus their sum
        (`RealImageModel`).

    Example:
    >>> model = SpatialLSTMModel(image_shape=[4, 4, 1], units=8, num_components=2, num_scales=2)
    >>> images = model.sample(2, seed=0)           # [2, 4, 4, 1] float32
    >>> model.log_prob(images).shape
    TensorShape([2])

    References:
      [1] Theis and Bethge (2015). Generative Image Modeling Using Spatial
          LSTMs. NeurIPS. arXiv:1506.03478.
      [2] Theis, Hosseini and Bethge (2012). Mixtures of Conditional Gaussian
          Scale Mixtures Applied to Multiscale Image Representations. PLoS
          ONE 7(7). arXiv:1109.4389.
    """

    def __init__(
        self,
        image_shape,
        num_layers=1,
        units=64,
        radius=2,
        num_components=8,
        num_scales=4,
        num_features=16,
        **kwargs,
    ):
        super().__init__(image_shape, **kwargs)
        self.num_layers = int_at_least("num_layers", num_layers, 0)
        self.units = int_at_least("units", units, 1)
        self.radius = int_at_least("radius", radius, 1)
        self.num_components = int_at_least("num_components", num_components, 1)
        self.num_scales = int_at_least("num_scales", num_scales, 1)
        self.num_features = int_at_least("num_features", num_features, 1)
        channels = self.image_shape[2]
        self.head = CoupledMixtureOfGaussians(channels, self.num_components * self.num_scales)
        self.lstms = [SpatialLSTM(self.units, name=f"spatial_lstm_{i}") for i in range(self.num_layers)]
        # y -> each channel's features and means, then the channel couplings.
        self.per_channel = self.num_features + self.num_components
        self.linear_outputs = keras.layers.Dense(
            channels * self.per_channel + self.head.num_couplings, name="linear_outputs"
        )
        self.mcgsms = [
            MCGSM(self.num_components, self.num_scales, self.num_features, name=f"mcgsm_{c}")
            for c in range(channels)
        ]
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.call(tf.zeros((1,) + self.image_shape))
        self.built = True

    # ----- the network ----------------------------------------------------------------

    def pixel_params(self, hidden, neighbourhood):
        """The head's parameters `[..., P]` from the top hidden state (None
        without LSTMs) and the neighbourhood `[..., n C]`."""
        inputs = neighbourhood if hidden is None else tf.concat([hidden, neighbourhood], axis=-1)
        outputs = self.linear_outputs(inputs)
        channels = self.image_shape[2]
        params = []
        for c, mcgsm in enumerate(self.mcgsms):
            block = outputs[..., c * self.per_channel : (c + 1) * self.per_channel]
            params.append(mcgsm(block[..., : self.num_features], block[..., self.num_features :]))
        params.append(outputs[..., channels * self.per_channel :])
        return tf.concat(params, axis=-1)

    def call(self, x, condition=None, training=False):
        neighbourhood = causal_neighbourhoods(tf.cast(x, tf.float32), self.radius)
        hidden = None
        for lstm in self.lstms:
            hidden = lstm(neighbourhood if hidden is None else hidden)
        return self.pixel_params(hidden, neighbourhood)

    # ----- the incremental protocol -------------------------------------------------

    def initial_state(self, batch_size, condition=None):
        """Position 0, a zero canvas padded for the neighbourhood, and per
        layer a zero row of hidden and cell states `[B, W, units]`."""
        height, width, channels = self.image_shape
        r = self.radius
        rows = [tf.zeros([batch_size, width, self.units]) for _ in self.lstms]
        return {
            "position": tf.zeros([batch_size], tf.int32),
            "canvas": tf.zeros([batch_size, height + r, width + 2 * r, channels]),  # as pad_for_neighbourhood pads
            "hidden_rows": rows,
            "cell_rows": list(rows),
        }

    def step(self, inputs_t, state, condition=None):
        """Feed the pixel drawn at the previous step, get the next pixel's params.

        Args:
          inputs_t: `[B, C]` floats, the pixel drawn at `position - 1`
            (ignored at position 0).
          state: the nest from `initial_state` or the previous `step`.
          condition: unused.

        Returns `(params_t [B, P], new_state)`.
        """
        return self.prepared_step(inputs_t, state, condition)

    def prepared_step(self, inputs_t, state, context, in_place=False):
        height, width, _ = self.image_shape
        r = self.radius
        position = state["position"]
        step = position[0]  # rows advance together
        previous = tf.maximum(step - 1, 0)
        values = tf.cast(inputs_t, tf.float32) * tf.cast(step > 0, tf.float32)
        canvas = caches.write_block(state["canvas"], values[:, None, None, :], previous // width + r,
                                    previous % width + r, in_place)
        pixel = tf.minimum(step, height * width - 1)
        row, col = pixel // width, pixel % width
        neighbourhood = neighbourhood_at(canvas, row, col, r)
        hidden, new_hidden, new_cells = None, [], []
        for lstm, hidden_row, cell_row in zip(self.lstms, state["hidden_rows"], state["cell_rows"]):
            left_col, has_left = tf.maximum(col - 1, 0), tf.cast(col > 0, tf.float32)
            left = (hidden_row[:, left_col] * has_left, cell_row[:, left_col] * has_left)
            up = (hidden_row[:, col], cell_row[:, col])
            gates = lstm.input_gates(neighbourhood if hidden is None else hidden)
            hidden, cell = lstm.cell(gates, left, up)
            new_hidden.append(caches.write_at(hidden_row, col, hidden, in_place))
            new_cells.append(caches.write_at(cell_row, col, cell, in_place))
        params = self.pixel_params(hidden, neighbourhood)
        return params, {"position": position + 1, "canvas": canvas, "hidden_rows": new_hidden, "cell_rows": new_cells}

    # ----- serialization ---------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            num_layers=self.num_layers,
            units=self.units,
            radius=self.radius,
            num_components=self.num_components,
            num_scales=self.num_scales,
            num_features=self.num_features,
            zero_mean=self.zero_mean,
        )
        return config


@register_model("mcgsm")
class MCGSMModel(SpatialLSTMModel):
    """The mixture of conditional Gaussian scale mixtures alone (Theis,
    Hosseini and Bethge 2012): p(x_ij | n_ij), the causal neighbourhood n_ij
    its only input; the spatial LSTM paper's baseline (`SpatialLSTMModel`
    with `num_layers=0`).

    Args:
      image_shape, radius, num_components, num_scales, num_features,
        zero_mean: as for `SpatialLSTMModel`.

    Example:
    >>> model = MCGSMModel(image_shape=[4, 4, 1], num_components=2, num_scales=2)
    >>> model.log_prob(model.sample(2, seed=0)).shape
    TensorShape([2])
    """

    replaced_arguments = ("num_layers", "units")

    def __init__(self, image_shape, radius=2, num_components=8, num_scales=4, num_features=16, **kwargs):
        for name in self.replaced_arguments:
            if name in kwargs:
                raise ValueError(f"mcgsm has no LSTM, so no {name} (got {name}={kwargs[name]!r}); "
                                 "the family spatial_lstm takes it.")
        super().__init__(image_shape, num_layers=0, units=1, radius=radius, num_components=num_components,
                         num_scales=num_scales, num_features=num_features, **kwargs)

    def get_config(self):
        config = super().get_config()
        for name in self.replaced_arguments:
            del config[name]
        return config

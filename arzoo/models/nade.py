"""NADE, the neural autoregressive distribution estimator (Larochelle and Murray 2011)."""

import keras
import tensorflow as tf

from arzoo.layers import NADEInput, NADEOutput
from arzoo.arguments import int_at_least
from arzoo.models.ordered import OrderedDensityModel, step_dimensions
from arzoo.models.registry import register_model


@register_model("nade")
class NADE(OrderedDensityModel):
    """NADE: one hidden layer whose weights every conditional shares,

        h_t = sigmoid(c + sum_{s<t} W_{:, o_s} x_{o_s}),
        p(x_{o_t} = 1 | x_{o_<t}) = sigmoid(b_{o_t} + V_{o_t} . h_t).

    All D pre-activations are one cumulative sum over the ordering, so
    `log_prob` costs O(D H) in one pass; sampling keeps the running
    pre-activation as its state (`initial_state` / `step`) and costs O(H)
    per step. A condition adds a dense projection to c.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      ordering, ordering_seed: see `OrderedDensityModel`.
      num_hidden: H (500 in the paper's binarized MNIST experiments).

    Example:
    >>> model = NADE(image_shape=(3, 4, 1), num_hidden=16)
    >>> samples = model.sample(2, seed=0)   # [2, 3, 4, 1] of 0 / 1
    >>> model.log_prob(samples).shape
    TensorShape([2])

    References:
      [1] Larochelle and Murray (2011). The Neural Autoregressive Distribution
          Estimator. AISTATS, JMLR W&CP 15.
      [2] Uria, Cote, Gregor, Murray and Larochelle (2016). Neural
          Autoregressive Distribution Estimation. JMLR 17(205). arXiv:1605.02226.
    """

    def __init__(self, image_shape, num_hidden=500, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.num_hidden = int_at_least("num_hidden", num_hidden, 1)
        self.hidden_input = NADEInput(
            self.num_dims, self.num_input_features, self.num_hidden, name="hidden_input"
        )
        self.outputs = NADEOutput(
            self.num_dims, self.num_hidden, self.head.params_per_step, name="outputs"
        )
        self.condition_projection = (
            keras.layers.Dense(self.num_hidden, use_bias=False, name="condition_projection")
            if self.is_conditional
            else None
        )
        self.hidden_input.build()
        self.outputs.build()
        self.build()

    def _condition_bias(self, condition):
        return 0.0 if condition is None else self.condition_projection(condition)

    def network(self, x, condition, training=False):
        bias = self._condition_bias(condition)
        if condition is not None:
            bias = bias[:, None]
        activations = self.hidden_input.prefix_activations(self.input_features(x), self.ordering)
        ordered = self.outputs.at(tf.sigmoid(activations + bias), self.ordering)
        return self.to_image_params(tf.gather(ordered, self.event_step_index.reshape(-1), axis=1))

    # The state is the running pre-activation a_t (bias and condition
    # included): O(H), whatever D.

    def initial_state(self, batch_size, condition=None):
        bias = self._condition_bias(self.condition_vector(condition))
        activation = tf.zeros([batch_size, self.num_hidden]) + self.hidden_input.bias + bias
        return {"activation": activation, "position": tf.zeros([batch_size], tf.int32)}

    def step(self, inputs_t, state, condition=None):
        position = state["position"]
        previous, current, started = step_dimensions(self.ordering, position)
        added = self.hidden_input.add_dimension(
            tf.zeros_like(state["activation"]), previous, self.value_features(inputs_t)
        )
        activation = state["activation"] + tf.where(started[:, None], added, 0.0)
        params = self.outputs.at(tf.sigmoid(activation), current)
        return params, {"activation": activation, "position": position + 1}

    def get_config(self):
        config = super().get_config()
        config.update(num_hidden=self.num_hidden)
        return config

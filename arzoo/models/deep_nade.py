"""Orderless DeepNADE and its ensembles over orderings, EoNADE (Uria et al. 2014)."""

import keras
import numpy as np
import tensorflow as tf

from arzoo.layers import NADEInput, NADEOutput
from arzoo.models.base import int_at_least
from arzoo.models.ordered import EnsembleMixin, OrderedDensityModel, random_orderings
from arzoo.models.registry import register_model


@register_model("deep_nade")
class DeepNADE(EnsembleMixin, OrderedDensityModel):
    """One deep network for p(x_d | x_S), any observed subset S:

        h = relu(W (x . m) + U m + c),  then `num_layers - 1` dense relu
        layers, then per-dimension outputs V_d . h + b_d,

    m the 0/1 mask of S. Training is order-agnostic (Uria et al. 2014,
    eq. 7): per example a random ordering and a random number d of observed
    dimensions, and the loss D / (D - d) sum_{j not in S} -log p(x_j | x_S),
    an unbiased estimate of the NLL under a random ordering
    (`teacher_forced_log_probs(training=True)`). At test time any ordering
    gives an exact density: `log_prob` uses `ordering` (its D first-layer
    pre-activations are one cumulative sum, the deeper layers one batched
    pass); `ensemble_log_prob` is EoNADE, the log-mean-exp over
    `num_orderings` orderings (member 0 is `ordering`, the rest drawn from
    `ordering_seed`). Sampling runs one network pass per step.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      ordering, ordering_seed: see `OrderedDensityModel`.
      num_hidden: units per hidden layer (500 in the paper).
      num_layers: hidden layers (2 for the paper's 84.68 nats).
      num_orderings: orderings of `ensemble_log_prob` (128 in the paper).

    Example:
    >>> model = DeepNADE(image_shape=(3, 4, 1), num_hidden=32, num_orderings=4)
    >>> x = np.zeros((2, 3, 4, 1), "int32")
    >>> model.ensemble_log_prob(x).shape
    TensorShape([2])

    References:
      [1] Uria, Murray and Larochelle (2014). A Deep and Tractable Density
          Estimator. ICML. arXiv:1310.1757.
    """

    def __init__(self, image_shape, num_hidden=500, num_layers=2, num_orderings=16, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.num_hidden = int_at_least("num_hidden", num_hidden, 1)
        self.num_layers = int_at_least("num_layers", num_layers, 1)
        self.num_orderings = int_at_least("num_orderings", num_orderings, 1)
        self.hidden_input = NADEInput(
            self.num_dims, self.num_input_features, self.num_hidden, mask_inputs=True,
            name="hidden_input",
        )
        self.hidden_layers = [
            keras.layers.Dense(self.num_hidden, activation="relu", name=f"hidden_{i + 1}")
            for i in range(self.num_layers - 1)
        ]
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

    @property
    def ensemble_size(self):
        return self.num_orderings

    def _deep(self, activation, condition):
        if condition is not None:
            bias = self.condition_projection(condition)
            activation = activation + (bias[:, None] if activation.shape.rank == 3 else bias)
        hidden = tf.nn.relu(activation)
        for layer in self.hidden_layers:
            hidden = layer(hidden)
        return hidden

    def ordered_params(self, x, condition, ordering):
        """`[B, H, W, C * P]`: each dimension's parameters given the ones
        before it in `ordering` (a `[D]` permutation)."""
        activations = self.hidden_input.prefix_activations(self.input_features(x), ordering)
        ordered = self.outputs.at(self._deep(activations, condition), ordering)
        rank = tf.math.invert_permutation(ordering)
        return self.to_image_params(tf.gather(ordered, rank, axis=1))

    def network(self, x, condition, training=False):
        return self.ordered_params(x, condition, tf.constant(self.ordering))

    def given_mask(self, x, mask, condition=None):
        """`[B, H, W, C * P]`: every dimension's parameters given the
        dimensions where `mask` `[B, D]` (raster order) is 1."""
        activation = self.hidden_input(self.input_features(x), mask)
        return self.to_image_params(self.outputs(self._deep(activation, condition)))

    def ensemble_orderings(self, count):
        """`[count, D]`: `ordering`, then orderings drawn from `ordering_seed`."""
        drawn = random_orderings(count - 1, self.num_dims, self.ordering_seed, stream=2)
        return np.concatenate([self.ordering[None], drawn.reshape(-1, self.num_dims)])

    def member_log_prob(self, x, condition, member):
        ordering = self.ensemble_orderings(member + 1)[member]
        params = self.ordered_params(x, self.condition_vector(condition), tf.constant(ordering))
        return tf.reduce_sum(self.head.conditional_log_probs(params, x), axis=[1, 2, 3])

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """Exact conditionals in `ordering`; with `training`, the
        order-agnostic estimate (weighted terms at the unobserved
        dimensions, zero at the observed ones; their sum estimates log p(x))."""
        if not training:
            return super().teacher_forced_log_probs(x, condition, training=False)
        batch = tf.shape(x)[0]
        rank = tf.argsort(tf.argsort(tf.random.uniform([batch, self.num_dims]), axis=1), axis=1)
        observed = tf.random.uniform([batch, 1], 0, self.num_dims, dtype=tf.int32)
        mask = tf.cast(rank < observed, tf.float32)
        params = self.given_mask(x, mask, self.condition_vector(condition))
        log_probs = self.head.conditional_log_probs(params, x)
        weight = self.num_dims / tf.cast(self.num_dims - observed, tf.float32)
        return log_probs * tf.reshape((1.0 - mask) * weight, tf.shape(log_probs))

    # Cached sampling: the state is the canvas; a step is one pass given
    # the dimensions before it (the naive path recomputes all D).

    def step(self, inputs_t, state, condition=None):
        position = state["position"]
        canvas = self.write_step(state["canvas"], position - 1, inputs_t)
        rank = tf.reshape(tf.constant(self.event_step_index), [1, -1])
        mask = tf.cast(rank < position[:, None], tf.float32)
        activation = self.hidden_input(self.input_features(canvas), mask)
        hidden = self._deep(activation, self.condition_vector(condition))
        current = tf.gather(tf.constant(self.ordering), tf.minimum(position, self.num_dims - 1))
        params = self.outputs.at(hidden, current)
        return params, {"canvas": canvas, "position": position + 1}

    def get_config(self):
        config = super().get_config()
        config.update(
            num_hidden=self.num_hidden,
            num_layers=self.num_layers,
            num_orderings=self.num_orderings,
        )
        return config

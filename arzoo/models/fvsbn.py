"""FVSBN, the fully visible sigmoid belief network (Frey 1996)."""

import keras
import numpy as np
import tensorflow as tf

from arzoo.layers import MaskedDense, degree_mask
from arzoo.models.ordered import OrderedDensityModel, step_dimensions
from arzoo.models.registry import register_model


@register_model("fvsbn")
class FVSBN(OrderedDensityModel):
    """One logistic regression per conditional:

        p(x_{o_t} = 1 | x_{o_<t}) = sigmoid(b_{o_t} + sum_{s<t} W_{o_t, o_s} x_{o_s}),

    W strictly lower-triangular in the ordering o (a masked dense layer whose
    degrees are the positions in o). With `likelihood="categorical"` each
    conditional is a softmax regression on the hat one-hot of the earlier
    values. A condition (class, embedding or spatial map) adds a dense
    projection to every conditional's logits. Sampling keeps all D running
    logits as its state and adds one row of W per step, O(D) per step.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      ordering, ordering_seed: see `OrderedDensityModel`.

    Example:
    >>> model = FVSBN(image_shape=(3, 4, 1), ordering="random")
    >>> model.log_prob(np.zeros((2, 3, 4, 1), "int32")).shape
    TensorShape([2])

    References:
      [1] Frey (1998). Graphical Models for Machine Learning and Digital
          Communication. MIT Press (FVSBN: Frey, Hinton and Dayan 1996).
      [2] Neal (1992). Connectionist learning of belief networks.
          Artificial Intelligence 56.
    """

    def __init__(self, image_shape, **kwargs):
        super().__init__(image_shape, **kwargs)
        rank = self.event_step_index.reshape(-1) + 1
        params = self.head.params_per_step
        self.mask = degree_mask(
            np.repeat(rank, self.num_input_features), np.repeat(rank, params), strict=True
        )
        self.logits = MaskedDense(self.num_dims * params, name="logits")
        self.condition_projection = (
            keras.layers.Dense(self.num_dims * params, name="condition_projection")
            if self.is_conditional
            else None
        )
        self.build()

    # The state is every conditional's running logit (bias, condition and
    # the values drawn so far): a step adds one input's row of W, O(D).

    def initial_state(self, batch_size, condition=None):
        logits = tf.zeros([batch_size, self.num_dims * self.head.params_per_step]) + self.logits.bias
        condition = self.condition_vector(condition)
        if condition is not None:
            logits = logits + self.condition_projection(condition)
        return {"logits": logits, "position": tf.zeros([batch_size], tf.int32)}

    def step(self, inputs_t, state, condition=None):
        position = state["position"]
        previous, _, started = step_dimensions(self.ordering, position)
        features = self.num_input_features
        rows = tf.reshape(self.logits.kernel, [self.num_dims, features, -1])
        mask_rows = tf.reshape(tf.constant(self.mask), [self.num_dims, features, -1])
        weights = tf.gather(rows, previous) * tf.gather(mask_rows, previous)  # one input's row: O(D)
        added = tf.einsum("bf,bfo->bo", self.value_features(inputs_t), weights)
        logits = state["logits"] + tf.where(started[:, None], added, 0.0)
        params = self.params_at(logits, tf.minimum(position, self.num_dims - 1))
        return params, {"logits": logits, "position": position + 1}

    def network(self, x, condition, training=False):
        features = tf.reshape(self.input_features(x), [-1, self.num_dims * self.num_input_features])
        logits = self.logits(features, self.mask)
        if condition is not None:
            logits = logits + self.condition_projection(condition)
        return self.to_image_params(tf.reshape(logits, [-1, self.num_dims, self.head.params_per_step]))

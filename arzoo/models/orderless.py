"""The shared machinery of order-agnostic NADEs (DeepNADE, ConvNADE).

An orderless model computes p(x_d | x_S) for any subset S of observed
dimensions from one network pass on (x . m, m) (`given_mask`). Uria, Murray
and Larochelle (2014) train it on random orderings: per example an ordering
and a number d of observed dimensions, with the loss

    D / (D - d) sum_{j not in S} -log p(x_j | x_S),

an unbiased estimate of the NLL averaged over orderings. Any ordering then
gives an exact density (the chain rule through D passes, `ordered_params`),
and averaging the densities of K orderings is EoNADE.
"""

import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.models.ordered import EnsembleMixin, OrderedDensityModel, random_orderings


class OrderlessModel(EnsembleMixin, OrderedDensityModel):
    """Base class: subclasses implement `given_mask`.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      ordering, ordering_seed: see `OrderedDensityModel`; `ordering` is the
        one `log_prob`, `call` and sampling use.
      num_orderings: orderings of `ensemble_log_prob` (member 0 is
        `ordering`, the rest drawn from `ordering_seed`).
    """

    # Steps per network pass when `ordered_params` runs the chain rule
    # through `given_mask` (a batch of B x steps_per_pass masked inputs).
    steps_per_pass = 16

    def __init__(self, image_shape, num_orderings=16, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.num_orderings = int_at_least("num_orderings", num_orderings, 1)

    @property
    def ensemble_size(self):
        return self.num_orderings

    def given_mask(self, x, mask, condition=None):
        """`[B, H, W, C * P]`: every dimension's parameters given the
        dimensions where `mask` `[B, D]` (raster order) is 1; `condition`
        encoded (`condition_vector`)."""
        raise NotImplementedError

    def ordered_params(self, x, condition, ordering):
        """`[B, H, W, C * P]`: each dimension's parameters given the ones
        before it in `ordering` (a `[D]` int32 tensor): D masked passes,
        `steps_per_pass` at a time."""
        batch = tf.shape(x)[0]
        rank = tf.math.invert_permutation(ordering)
        flat_params = []
        for start in range(0, self.num_dims, self.steps_per_pass):
            steps = tf.range(start, min(start + self.steps_per_pass, self.num_dims))
            count = int(steps.shape[0])
            masks = tf.cast(rank[None, :] < steps[:, None], tf.float32)  # [T, D]
            tiled_x = tf.repeat(x, count, axis=0)  # row b * T + t
            tiled_masks = tf.tile(masks, [batch, 1])
            tiled_condition = None if condition is None else tf.repeat(condition, count, axis=0)
            params = self.given_mask(tiled_x, tiled_masks, tiled_condition)
            params = tf.reshape(params, [batch, count, self.num_dims, self.head.params_per_step])
            chosen = tf.one_hot(tf.gather(ordering, steps), self.num_dims)  # [T, D]
            flat_params.append(tf.einsum("btdp,td->btp", params, chosen))
        ordered = tf.concat(flat_params, axis=1)
        return self.to_image_params(tf.gather(ordered, rank, axis=1))

    def network(self, x, condition, training=False):
        return self.ordered_params(x, condition, tf.constant(self.ordering))

    def ensemble_orderings(self, count):
        """`[count, D]`: `ordering`, then orderings drawn from `ordering_seed`."""
        drawn = random_orderings(count - 1, self.num_dims, self.ordering_seed, stream=2)
        return np.concatenate([self.ordering[None], drawn])

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
        params = self.given_mask(canvas, mask, self.condition_vector(condition))
        return self.params_at(params, tf.minimum(position, self.num_dims - 1)), {
            "canvas": canvas,
            "position": position + 1,
        }

    def get_config(self):
        config = super().get_config()
        config.update(num_orderings=self.num_orderings)
        return config

"""The shared base of the density estimators: an image as a vector in an ordering.

FVSBN, NADE, DeepNADE and MADE model the D = H W C sub-pixels of an image
as a vector,

    p(x) = prod_{t=1..D} p(x_{o_t} | x_{o_1}, ..., x_{o_{t-1}}),

o being a permutation of the raster indices (`ordering`). The ordering is
the model's sampling order: step t draws sub-pixel o_t, so the contract's
`event_step_index`, `to_steps`, `params_at`, the causality audit, sampling,
completion and export all follow it. Networks produce parameters per
sub-pixel in raster layout, `[B, H, W, C * params_per_step]` (the layout of
the channel-independent heads), so every likelihood and evaluation path
reads them like any other model's.
"""

import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.models.image import AutoregressiveImageModel

ORDERINGS = ("raster", "random")


def resolve_ordering(ordering, ordering_seed, num_dims):
    """A permutation of range(num_dims) as int32: "raster" (identity),
    "random" (seeded by `ordering_seed`) or an explicit list."""
    if isinstance(ordering, str):
        if ordering == "raster":
            return np.arange(num_dims, dtype=np.int32)
        if ordering == "random":
            seed = int_at_least("ordering_seed", ordering_seed, 0)
            return np.random.default_rng(seed).permutation(num_dims).astype(np.int32)
        raise ValueError(
            f"Unknown ordering {ordering!r}; allowed: {', '.join(ORDERINGS)} or a "
            f"permutation of 0..{num_dims - 1}."
        )
    order = np.asarray(ordering)
    if order.shape != (num_dims,) or not np.array_equal(np.sort(order), np.arange(num_dims)):
        raise ValueError(
            f"ordering must be 'raster', 'random' or a permutation of 0..{num_dims - 1} "
            f"(D = height * width * channels = {num_dims}); got {np.asarray(ordering).tolist()}."
        )
    return order.astype(np.int32)


def step_dimensions(ordering, position):
    """For per-row step indices `position` `[B]`: (the dimension fed back,
    drawn at position - 1; the dimension whose parameters the step returns;
    whether anything was fed back, i.e. position > 0). Positions are
    clipped into [0, D) so the gathers stay in range."""
    ordering = tf.constant(ordering)
    last = int(ordering.shape[0]) - 1
    previous = tf.gather(ordering, tf.maximum(position - 1, 0))
    current = tf.gather(ordering, tf.minimum(position, last))
    return previous, current, position > 0


def random_orderings(num_orderings, num_dims, seed, stream):
    """`[K, D]` int32: K permutations drawn from `seed`; `stream` (an int
    naming the use) keeps draws for different uses apart for one seed."""
    rng = np.random.default_rng([seed, stream])
    drawn = [rng.permutation(num_dims) for _ in range(num_orderings)]
    return np.array(drawn, np.int32).reshape(num_orderings, num_dims)


class OrderedDensityModel(AutoregressiveImageModel):
    """Base class of FVSBN, NADE, DeepNADE and MADE.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape: see
        `AutoregressiveImageModel`; likelihood is "bernoulli" (the papers'
        binary setting) or "categorical" (one softmax per sub-pixel); None
        picks "bernoulli" for 2 levels, else "categorical".
      ordering: "raster", "random" or a permutation of range(D): the order
        in which sub-pixels (raster index (row * W + column) * C + channel)
        are modelled and sampled.
      ordering_seed: seed of `ordering="random"`.

    Inputs reach the networks as `num_input_features` floats per sub-pixel:
    the value itself for binary data, else a "hat" one-hot
    (max(0, 1 - |x - l|) for each level l, equal to the one-hot at integer
    levels and differentiable in between, so the causality audit's gradients
    see every path).
    """

    likelihoods = ("bernoulli", "categorical")
    likelihoods_why = (
        " (a channel-coupled head draws a whole pixel in one step, which an ordering "
        "over single sub-pixels does not allow)"
    )

    def __init__(
        self,
        image_shape,
        num_levels=2,
        likelihood=None,
        num_classes=None,
        condition_shape=None,
        ordering="raster",
        ordering_seed=0,
        **kwargs,
    ):
        if likelihood is None:
            likelihood = "bernoulli" if num_levels == 2 else "categorical"
        super().__init__(
            image_shape,
            num_levels=num_levels,
            likelihood=likelihood,
            num_classes=num_classes,
            condition_shape=condition_shape,
            **kwargs,
        )
        self.num_dims = int(np.prod(self.image_shape))
        self.ordering_spec = ordering if isinstance(ordering, str) else [int(i) for i in ordering]
        self.ordering_seed = int_at_least("ordering_seed", ordering_seed, 0)
        self.ordering = resolve_ordering(ordering, ordering_seed, self.num_dims)

    # ----- inputs, conditions and outputs ------------------------------------

    @property
    def num_input_features(self):
        return 1 if self.num_levels == 2 else self.num_levels

    def input_features(self, x):
        """`[B, H, W, C]` levels (int or float) -> `[B, D, F]` floats, raster order."""
        return self._encode(tf.reshape(tf.cast(x, tf.float32), [-1, self.num_dims, 1]))

    def value_features(self, values):
        """`[B, 1]` levels of one step -> `[B, F]` floats."""
        return self._encode(tf.reshape(tf.cast(values, tf.float32), [-1, 1]))

    def _encode(self, values):
        if self.num_levels == 2:
            return values
        levels = tf.range(self.num_levels, dtype=tf.float32)
        return tf.nn.relu(1.0 - tf.abs(values - levels))

    def condition_vector(self, condition):
        """The encoded condition flattened to `[B, E]` (None if unconditional)."""
        encoded = self.encode_condition(condition)
        if encoded is None:
            return None
        return tf.reshape(encoded, [tf.shape(encoded)[0], -1])

    @property
    def condition_size(self):
        if self.num_classes is not None:
            return self.num_classes
        if self.condition_shape is not None:
            return int(np.prod(self.condition_shape))
        return 0

    def to_image_params(self, params):
        """`[B, D, params_per_step]` in raster order -> `[B, H, W, C * params_per_step]`."""
        height, width, channels = self.image_shape
        return tf.reshape(params, [-1, height, width, channels * self.head.params_per_step])

    def call(self, x, condition=None, training=False):
        return self.network(x, self.condition_vector(condition), training=training)

    def network(self, x, condition, training=False):
        """`[B, H, W, C]` levels + `[B, E]` condition -> `[B, H, W, C * P]` params."""
        raise NotImplementedError

    # ----- sampling order ----------------------------------------------------

    @property
    def num_steps(self):
        return self.num_dims

    @property
    def event_step_index(self):
        rank = np.empty(self.num_dims, np.int32)
        rank[self.ordering] = np.arange(self.num_dims, dtype=np.int32)
        return rank.reshape(self.image_shape)

    def sampling_order(self):
        height, width, channels = self.image_shape
        pixel, channel = self.ordering // channels, self.ordering % channels
        return np.stack([pixel // width, pixel % width, channel], 1).astype(np.int32)

    def to_steps(self, x):
        flat = tf.reshape(x, [-1, self.num_dims])
        return tf.gather(flat, self.ordering, axis=1)[..., None]

    def from_steps(self, steps):
        flat = tf.gather(tf.reshape(steps, [-1, self.num_dims]), self.event_step_index.reshape(-1), axis=1)
        return tf.reshape(flat, (-1,) + self.image_shape)

    def params_at(self, params, position):
        flat = tf.reshape(params, [-1, self.num_dims, self.head.params_per_step])
        dims = tf.gather(tf.constant(self.ordering), position)
        return tf.gather(flat, dims, axis=1, batch_dims=1)

    def get_config(self):
        config = super().get_config()
        config.update(ordering=self.ordering_spec, ordering_seed=self.ordering_seed)
        return config


class EnsembleMixin:
    """Test-time ensembles (EoNADE, MADE's mask ensembles):

        p(x) = (1 / K) sum_k p_k(x),

    p_k the model under its k-th ordering or mask; member 0 is the model's
    own density (`log_prob`). Subclasses set `ensemble_size` and implement
    `member_log_prob`.
    """

    ensemble_size = 1

    def member_log_prob(self, x, condition, member):
        """log p_member(x) `[B]` for validated inputs."""
        raise NotImplementedError

    def check_members(self, num_members):
        if num_members is None:
            return self.ensemble_size
        return int_at_least("num_members", num_members, 1)

    def ensemble_log_prob(self, x, condition=None, num_members=None):
        """log of the mean of p_k(x) over the first `num_members` members
        (default `ensemble_size`), `[B]` nats."""
        from arzoo.models.validation import check_condition, check_images

        x = check_images(x, self.image_shape, self.num_levels)
        condition = check_condition(condition, self.num_classes, self.condition_shape)
        count = self.check_members(num_members)
        members = tf.stack([self.member_log_prob(x, condition, k) for k in range(count)])
        return tf.reduce_logsumexp(members, axis=0) - np.log(count)

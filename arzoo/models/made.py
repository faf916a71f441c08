"""MADE, the masked autoencoder for distribution estimation (Germain et al. 2015)."""

import keras
import numpy as np
import tensorflow as tf

from arzoo.layers import MaskedDense
from arzoo.arguments import int_at_least
from arzoo.models.ordered import EnsembleMixin, OrderedDensityModel, random_orderings
from arzoo.models.registry import register_model


HIDDEN_DEGREES = ("equal", "random")


def made_degrees(ordering, num_features, num_params, hidden_sizes, rng=None):
    """Degrees of every layer's units for one mask.

    Inputs get their dimension's position in `ordering` plus one (F units
    per dimension), outputs the same (P units each). Hidden units get
    integers in [min of the previous layer's degrees, D - 1]: drawn
    uniformly with an `rng` (Germain et al. 2015, section 4), else spread
    evenly, so that a layer of at least D - 1 units has every degree and
    each conditional can read every earlier input (as TFP's
    `AutoregressiveNetwork` does with `hidden_degrees="equal"`).
    Returns a list: input degrees, each hidden layer's, output degrees.
    """
    num_dims = len(ordering)
    rank = np.empty(num_dims, np.int64)
    rank[ordering] = np.arange(num_dims)
    degrees = [np.repeat(rank + 1, num_features)]
    for size in hidden_sizes:
        low = min(int(degrees[-1].min()), num_dims - 1)
        high = max(num_dims - 1, low)
        if rng is None:
            degrees.append(low + (np.arange(size) * (high - low + 1)) // size)
        else:
            degrees.append(rng.integers(low, high + 1, size=size))
    degrees.append(np.repeat(rank + 1, num_params))
    return [d.astype(np.int32) for d in degrees]


@register_model("made")
class MADE(EnsembleMixin, OrderedDensityModel):
    """An autoencoder whose masks make output d read only inputs before d:

        p(x) = prod_t p(x_{o_t} | x_{o_<t}),   all D conditionals in one pass.

    Every unit has a degree (`made_degrees`); masked dense layers connect a
    hidden unit only to units of degree <= its own and an output of degree
    d only to hidden units of degree < d. With `num_masks` K > 1 the model
    is trained connectivity-agnostically: each training batch uses one of K
    masks (drawn hidden degrees, and with `order_agnostic` a new ordering),
    and `ensemble_log_prob` averages the K densities at test time. Mask 0
    uses `ordering`; it is the model's own density (`log_prob`, sampling,
    `step`), so the contract's sampling order is mask 0's. Sampling takes D
    passes (one per step). A condition is added to the first hidden layer
    and to the outputs (the first conditional reads no hidden unit).

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape,
      ordering, ordering_seed: see `OrderedDensityModel`.
      num_hidden: units per hidden layer (500 in the paper).
      num_layers: hidden layers (1 or 2 in the paper).
      num_masks: K, masks trained over and ensembled (32 in the paper).
      order_agnostic: masks k > 0 also draw a new ordering.
      mask_seed: seed of the hidden degrees and of masks' orderings.
      hidden_degrees: mask 0's hidden degrees, "equal" (spread evenly) or
        "random" (drawn, as in the paper); masks k > 0 always draw theirs.

    Example:
    >>> model = MADE(image_shape=(3, 4, 1), num_hidden=32, num_masks=4,
    ...              order_agnostic=True)
    >>> x = np.zeros((2, 3, 4, 1), "int32")
    >>> model.ensemble_log_prob(x).shape
    TensorShape([2])

    References:
      [1] Germain, Gregor, Murray and Larochelle (2015). MADE: Masked
          Autoencoder for Distribution Estimation. ICML. arXiv:1502.03509.
    """

    def __init__(
        self,
        image_shape,
        num_hidden=500,
        num_layers=1,
        num_masks=1,
        order_agnostic=False,
        mask_seed=0,
        hidden_degrees="equal",
        **kwargs,
    ):
        super().__init__(image_shape, **kwargs)
        self.num_hidden = int_at_least("num_hidden", num_hidden, 1)
        self.num_layers = int_at_least("num_layers", num_layers, 1)
        self.num_masks = int_at_least("num_masks", num_masks, 1)
        self.order_agnostic = bool(order_agnostic)
        self.mask_seed = int_at_least("mask_seed", mask_seed, 0)
        self.mask_orderings = self._mask_orderings()
        if hidden_degrees not in HIDDEN_DEGREES:
            raise ValueError(
                f"Unknown hidden_degrees={hidden_degrees!r}; allowed: {', '.join(HIDDEN_DEGREES)}."
            )
        self.hidden_degrees = hidden_degrees
        rng = np.random.default_rng(self.mask_seed)
        per_mask = [
            made_degrees(
                ordering,
                self.num_input_features,
                self.head.params_per_step,
                [self.num_hidden] * self.num_layers,
                None if (k == 0 and hidden_degrees == "equal") else rng,
            )
            for k, ordering in enumerate(self.mask_orderings)
        ]
        # degrees[l]: [K, units of layer l] (layer 0 the inputs, last the outputs).
        self.degrees = [np.stack(layer) for layer in zip(*per_mask)]
        self.hidden_layers = [
            MaskedDense(self.num_hidden, name=f"hidden_{i}") for i in range(self.num_layers)
        ]
        self.output_layer = MaskedDense(self.num_dims * self.head.params_per_step, name="outputs")
        self.condition_projection = (
            keras.layers.Dense(self.num_hidden, use_bias=False, name="condition_projection")
            if self.is_conditional
            else None
        )
        # The first conditional reads no hidden unit (its degree is 1), so
        # the condition also reaches the outputs directly.
        self.condition_output = (
            keras.layers.Dense(self.num_dims * self.head.params_per_step, use_bias=False, name="condition_output")
            if self.is_conditional
            else None
        )
        self.build()

    @property
    def ensemble_size(self):
        return self.num_masks

    def _mask_orderings(self):
        orderings = [self.ordering] * self.num_masks
        if self.order_agnostic and self.num_masks > 1:
            drawn = random_orderings(self.num_masks - 1, self.num_dims, self.mask_seed, stream=1)
            orderings = [self.ordering] + list(drawn)
        return np.stack(orderings)

    def masks(self, member):
        """The `[in, out]` masks of every layer for mask `member` (an int or
        a scalar tensor), computed from the degrees."""
        masks = []
        last = len(self.degrees) - 2
        for i in range(len(self.degrees) - 1):
            inputs = tf.gather(tf.constant(self.degrees[i]), member)
            outputs = tf.gather(tf.constant(self.degrees[i + 1]), member)
            allowed = outputs[None, :] > inputs[:, None] if i == last else outputs[None, :] >= inputs[:, None]
            masks.append(tf.cast(allowed, tf.float32))
        return masks

    def network(self, x, condition, training=False, member=0):
        masks = self.masks(member)
        hidden = tf.reshape(self.input_features(x), [-1, self.num_dims * self.num_input_features])
        for i, (layer, mask) in enumerate(zip(self.hidden_layers, masks)):
            hidden = layer(hidden, mask)
            if i == 0 and condition is not None:
                hidden = hidden + self.condition_projection(condition)
            hidden = tf.nn.relu(hidden)
        params = self.output_layer(hidden, masks[-1])
        if condition is not None:
            params = params + self.condition_output(condition)
        return self.to_image_params(tf.reshape(params, [-1, self.num_dims, self.head.params_per_step]))

    def member_log_prob(self, x, condition, member):
        params = self.network(x, self.condition_vector(condition), member=member)
        return tf.reduce_sum(self.head.conditional_log_probs(params, x), axis=[1, 2, 3])

    def check_members(self, num_members):
        count = super().check_members(num_members)
        if count > self.num_masks:
            raise ValueError(
                f"num_members={count} but the model has num_masks={self.num_masks} masks."
            )
        return count

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """With `training` and several masks, a mask drawn at random per
        batch (connectivity-agnostic training); else mask 0."""
        member = 0
        if training and self.num_masks > 1:
            member = tf.random.uniform([], 0, self.num_masks, dtype=tf.int32)
        params = self.network(x, self.condition_vector(condition), training=training, member=member)
        return self.head.conditional_log_probs(params, x)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_hidden=self.num_hidden,
            num_layers=self.num_layers,
            num_masks=self.num_masks,
            order_agnostic=self.order_agnostic,
            mask_seed=self.mask_seed,
            hidden_degrees=self.hidden_degrees,
        )
        return config

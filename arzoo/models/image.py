"""What the image families share on top of `AutoregressiveModel`.

An image x of shape [H, W, C] with integer levels in [0, L) is modelled as

    p(x) = prod_t p(x_t | x_<t),

t running over the *sampling order*: pixels in raster order (row by row, left
to right) and, inside a pixel, channels R -> G -> B. When the likelihood head
couples the channels itself (the discretized logistic mixture), one step
covers a whole pixel; otherwise one step is one sub-pixel.
"""

import numpy as np
import tensorflow as tf

from arzoo.likelihoods import LIKELIHOODS, make_head
from arzoo.arguments import int_at_least
from arzoo.models.base import AutoregressiveModel
from arzoo.models.validation import check_condition, check_images, check_rows


def _positive_int(name, value):
    return int_at_least(name, value, 1)


class AutoregressiveImageModel(AutoregressiveModel):
    """The image families' events, conditions and heads; subclasses build
    their layers and implement `network`.

    Args:
      image_shape: (height, width, channels).
      num_levels: intensity levels per channel (256 for 8-bit, 2 for binary).
      likelihood: "categorical", "bernoulli" or "logistic_mixture".
      num_mixtures: mixture components of the logistic mixture head.
      num_classes: class-conditional model with this many classes, or None.
      condition_shape: shape of a real-valued condition per example, `[D]`
        for an embedding or `[H, W, D]` for a spatial map, or None.

    Call arguments:
      x: `[B, H, W, C]` levels (int, or float for gradient audits).
      condition: `[B]` labels, `[B] + condition_shape` floats, or None.
      training: bool.

    Returns the distribution parameters `[B, H, W, head.params_per_pixel]`
    for every position, in one teacher-forced pass.
    """

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="categorical",
        num_mixtures=5,
        num_classes=None,
        condition_shape=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if len(image_shape) != 3:
            raise ValueError(
                f"image_shape must be [height, width, channels], got {list(image_shape)}."
            )
        self.image_shape = tuple(_positive_int("image_shape entries", d) for d in image_shape)
        self.num_levels = _positive_int("num_levels", num_levels)
        if self.num_levels < 2:
            raise ValueError(f"num_levels must be at least 2, got num_levels={num_levels}.")
        if likelihood not in LIKELIHOODS:
            raise ValueError(
                f"Unknown likelihood {likelihood!r}; allowed: {', '.join(LIKELIHOODS)}."
            )
        if likelihood not in self.likelihoods:
            raise ValueError(
                f"{type(self).__name__} takes likelihood in {list(self.likelihoods)}; got "
                f"likelihood={likelihood!r}{self.likelihoods_why}."
            )
        self.likelihood = likelihood
        self.num_mixtures = _positive_int("num_mixtures", num_mixtures)
        if num_classes is not None and condition_shape is not None:
            raise ValueError(
                "Give num_classes (class-conditional) or condition_shape "
                f"(embedding / spatial), not both; got num_classes={num_classes}, "
                f"condition_shape={condition_shape}."
            )
        self.num_classes = None if num_classes is None else _positive_int("num_classes", num_classes)
        if condition_shape is not None:
            condition_shape = tuple(_positive_int("condition_shape entries", d) for d in condition_shape)
            if len(condition_shape) not in (1, 3):
                raise ValueError(
                    f"condition_shape must be [dim] or [height, width, dim], got {list(condition_shape)}."
                )
        self.condition_shape = condition_shape
        self.head = make_head(
            likelihood, self.image_shape[-1], self.num_levels, self.num_mixtures
        )
        self.num_channel_groups = 1 if self.head.channel_coupled else self.image_shape[-1]

    def check_spatial_condition_size(self):
        """A spatial condition must cover the image pixel for pixel (for the
        families that add it at every position without resizing it)."""
        height, width, _ = self.image_shape
        if self.condition_shape is not None and len(self.condition_shape) == 3:
            if tuple(self.condition_shape[:2]) != (height, width):
                raise ValueError(
                    f"A spatial condition must have the image's height and width "
                    f"{[height, width]}; got condition_shape={list(self.condition_shape)}."
                )

    def check_channel_groups(self, **widths):
        """Each layer width must split evenly into the R->G->B channel groups."""
        for name, width in widths.items():
            if width % self.num_channel_groups:
                raise ValueError(
                    f"{name}={width} must be divisible by the number of channel groups "
                    f"({self.num_channel_groups}, one per image channel, with likelihood="
                    f"{self.likelihood!r}) so every channel gets the same number of units."
                )

    modality = "image"
    # Whether num_classes / condition_shape may be given (False for the
    # models with a code, whose decoder's condition is that code).
    external_conditions = True
    # The likelihood heads this family takes, and why not the others (appended
    # to the error that refuses one, e.g. " (a channel-coupled head ...)").
    likelihoods = LIKELIHOODS
    likelihoods_why = ""

    # ----- the network -------------------------------------------------------

    @property
    def is_conditional(self):
        return self.num_classes is not None or self.condition_shape is not None

    def network(self, inputs, condition, training=False):
        """`[B, H, W, C]` floats in [-1, 1] (+ encoded condition) -> params."""
        raise NotImplementedError

    def scale_levels(self, x):
        """Levels [0, L) -> floats in [-1, 1], the network's input scale."""
        return tf.cast(x, tf.float32) * (2.0 / (self.num_levels - 1)) - 1.0

    def encode_condition(self, condition):
        if condition is None:
            return None
        if self.num_classes is not None:
            return tf.one_hot(tf.cast(condition, tf.int32), self.num_classes)
        return tf.cast(condition, tf.float32)

    def call(self, x, condition=None, training=False):
        return self.network(
            self.scale_levels(x), self.encode_condition(condition), training=training
        )

    def build(self, input_shape=None):
        # Create every weight now (one pass on one zero image), so a model is
        # usable, saveable and loadable straight from its config.
        if self.built:
            return
        x = tf.zeros((1,) + self.image_shape, tf.int32)
        self.call(x, self.dummy_condition(1))
        self.built = True

    def dummy_condition(self, batch_size):
        if self.num_classes is not None:
            return tf.zeros([batch_size], tf.int32)
        if self.condition_shape is not None:
            return tf.zeros((batch_size,) + self.condition_shape, tf.float32)
        return None

    # ----- sampling order ----------------------------------------------------

    @property
    def num_steps(self):
        height, width, _ = self.image_shape
        return height * width * self.head.steps_per_pixel

    @property
    def event_step_index(self):
        """`[H, W, C]` int32: the sampling step at which each sub-pixel is drawn."""
        height, width, channels = self.image_shape
        pixel = np.arange(height * width).reshape(height, width, 1)
        if self.head.channel_coupled:
            return np.broadcast_to(pixel, (height, width, channels)).astype(np.int32)
        return (pixel * channels + np.arange(channels)).astype(np.int32)

    def sampling_order(self):
        """`[num_steps, 3]` int32 rows (row, column, channel); channel is -1
        when one step draws the whole pixel."""
        height, width, _ = self.image_shape
        spp = self.head.steps_per_pixel
        t = np.arange(self.num_steps)
        pixel = t // spp
        channel = t % spp if not self.head.channel_coupled else -np.ones_like(t)
        return np.stack([pixel // width, pixel % width, channel], 1).astype(np.int32)

    def to_steps(self, x):
        """`[B, H, W, C]` -> `[B, num_steps, head.values_per_step]` in sampling order."""
        return tf.reshape(x, [-1, self.num_steps, self.head.values_per_step])

    def from_steps(self, steps):
        """`[B, num_steps, head.values_per_step]` in sampling order -> `[B, H, W, C]`."""
        return tf.reshape(steps, (-1,) + self.image_shape)

    def write_step(self, canvas, position, values):
        """Write `values` `[B, V]` at each row's step `position` `[B]` of `canvas`.

        A position outside [0, num_steps) writes nothing.
        """
        where = tf.equal(
            tf.constant(self.event_step_index)[None], tf.reshape(position, [-1, 1, 1, 1])
        )
        written = tf.where(where, tf.cast(values, canvas.dtype)[:, None, None, :], canvas)
        return tf.ensure_shape(written, canvas.shape)

    def params_at(self, params, position):
        """The parameters `[B, params_per_step]` of each row's step `position`."""
        spp = self.head.steps_per_pixel
        height, width, _ = self.image_shape
        flat = tf.reshape(params, [-1, height * width, self.head.params_per_pixel])
        pixel_params = tf.gather(flat, position // spp, axis=1, batch_dims=1)
        return self.head.step_params(pixel_params, position % spp)

    # ----- events ------------------------------------------------------------

    def check_events(self, x, name="x", where=None):
        """`[B, H, W, C]` levels in [0, num_levels) as int32, or a ValueError."""
        return check_images(x, self.image_shape, self.num_levels, name=name, where=where)

    def check_condition(self, condition, batch=None, length=None):
        condition = check_condition(condition, self.num_classes, self.condition_shape)
        check_rows("condition", condition, batch)
        return condition

    @property
    def event_shape(self):
        return self.image_shape

    def align_known_mask(self, x, known_mask):
        x, known_mask = super().align_known_mask(x, known_mask)
        if self.head.channel_coupled and tf.executing_eagerly():
            if not bool(tf.reduce_all(known_mask == known_mask[..., :1])):
                raise ValueError(
                    "With the channel-coupled likelihood 'logistic_mixture' a pixel is "
                    "sampled as a whole: known_mask must be equal across channels."
                )
        return x, known_mask

    @property
    def steps_per_row(self):
        return self.image_shape[1] * self.head.steps_per_pixel

    # ----- likelihoods -------------------------------------------------------

    def conditional_log_probs(self, x, condition=None):
        """log p(x_i | x_<i) in nats for every sub-pixel, `[B, H, W, C]`."""
        x = self.check_events(x)
        condition = self.check_condition(condition, int(x.shape[0]))
        params = self(x, condition)
        return self.head.conditional_log_probs(params, x)

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """`conditional_log_probs` without the input checks, for training graphs."""
        return self.head.conditional_log_probs(self(x, condition, training=training), x)

    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"image", "label"}`."""
        return batch["image"], (batch["label"] if self.num_classes is not None else None)

    def log_prob(self, x, condition=None):
        """Exact log p(x) in nats, `[B]`."""
        return tf.reduce_sum(self.conditional_log_probs(x, condition), axis=[1, 2, 3])

    def bits_per_dim(self, x, condition=None):
        """-log2 p(x) / (H W C), `[B]`."""
        return -self.log_prob(x, condition) / (np.prod(self.image_shape) * np.log(2.0))

    # ----- incremental contract ----------------------------------------------

    def initial_state(self, batch_size, condition=None):
        """The state before step 0: an empty canvas and position 0 per row.

        This generic state recomputes the network over the canvas at every
        step; families with caches override `initial_state` and `step`.
        """
        return {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
        }

    def step(self, inputs_t, state, condition=None):
        """Feed the values of the previous step, get the next step's params.

        Args:
          inputs_t: `[B, head.values_per_step]` int32, the values drawn at step
            `position - 1` (ignored at position 0).
          state: the nest from `initial_state` or the previous `step`.
          condition: as for `call`.

        Returns:
          `(params_t, new_state)`: `[B, head.params_per_step]` parameters of
          the step at `state["position"]`, and the advanced state.
        """
        position = state["position"]
        canvas = self.write_step(state["canvas"], position - 1, inputs_t)
        params = self(canvas, condition)
        return self.params_at(params, position), {
            "canvas": canvas,
            "position": position + 1,
        }

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            num_levels=self.num_levels,
            likelihood=self.likelihood,
            num_mixtures=self.num_mixtures,
            num_classes=self.num_classes,
            condition_shape=None if self.condition_shape is None else list(self.condition_shape),
        )
        return config

"""What the real-valued image families share on top of `AutoregressiveModel`.

An image x of shape [H, W, C] with real values is modelled as a density

    p(x) = prod_{i, j} p(x_ij | x_<ij),

pixels in raster order (row by row, left to right); one sampling step draws
a whole pixel, its channels R -> G -> B through the head's linear coupling
(`arzoo.likelihoods.CoupledMixtureOfGaussians`), so `conditional_log_probs`
gives log p(x_ijc | x_<ij, x_ij<c) for every sub-pixel. `log_prob` is a
log-density in nats; for data that were integers dequantized with uniform
noise it bounds the discrete log-likelihood (the event space reports that
bound in bits/dim, `arzoo.events.real_image`).

`zero_mean=True` models images whose per-channel mean was removed (the
BSDS300 protocol of RNADE and RIDE: 8x8 patches, mean removed, 63 free
pixels): the last pixel is then minus the sum of the others, so the model is
a density of the first H W - 1 pixels. In raster order that prefix's
density is exactly the product of its conditionals, so `log_prob` sums them
and leaves out the last pixel's (its entries of `conditional_log_probs` are
0), training never fits the determined pixel (whose conditional could
collapse to a spike), and every sampler sets it to minus the sum of the
others (`fill_determined`).
"""

import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.models.base import AutoregressiveModel
from arzoo.models.validation import check_not_empty


class RealImageModel(AutoregressiveModel):
    """Events, steps and likelihoods of real-valued images; a family builds
    its network (`call` -> `[B, H, W, head.params_per_step]`), its `head`
    and its incremental state.

    Args:
      image_shape: (height, width, channels).
      zero_mean: the images have their per-channel mean removed; the last
        pixel is determined by the others (see the module docstring).

    Call arguments:
      x: `[B, H, W, C]` float32 images.
      condition: None (the real-valued families are unconditional).
      training: bool.
    """

    modality = "real_image"
    likelihoods = ("mixture_of_gaussians",)
    likelihood = "mixture_of_gaussians"

    def __init__(self, image_shape, zero_mean=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(image_shape, (str, bytes)) or np.ndim(image_shape) != 1 or len(image_shape) != 3:
            raise ValueError(f"image_shape must be [height, width, channels], got {image_shape!r}.")
        self.image_shape = tuple(int_at_least("image_shape entries", d, 1) for d in image_shape)
        if not isinstance(zero_mean, (bool, np.bool_)):
            raise ValueError(f"zero_mean must be true or false, got {zero_mean!r}.")
        self.zero_mean = bool(zero_mean)
        if self.zero_mean and self.image_shape[0] * self.image_shape[1] < 2:
            raise ValueError(
                f"zero_mean needs at least 2 pixels (the last is minus the sum of the others); got "
                f"image_shape={list(self.image_shape)}."
            )

    @property
    def scored_pixels(self):
        """How many pixels (in raster order, from the first) the density is
        of: all, or all but the determined last one (`zero_mean`)."""
        height, width, _ = self.image_shape
        return height * width - int(self.zero_mean)

    # ----- events ---------------------------------------------------------------

    @property
    def event_shape(self):
        return self.image_shape

    @property
    def values_dtype(self):
        return tf.float32

    @property
    def num_steps(self):
        height, width, _ = self.image_shape
        return height * width

    @property
    def event_step_index(self):
        """`[H, W, C]` int: the step that draws each sub-pixel (its pixel's)."""
        height, width, channels = self.image_shape
        return np.repeat(np.arange(height * width).reshape(height, width, 1), channels, axis=2)

    def check_events(self, x, name="x", where=None):
        """`x` as a `[B, H, W, C]` float32 tensor, or a ValueError naming
        what is wrong: the shape, an integer dtype (levels belong to the
        discrete image families), NaN or inf (checked eagerly, where the
        bool `where` is true when given)."""
        try:
            x = tf.convert_to_tensor(x)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a float array [batch, *{list(self.image_shape)}]: {err}") from None
        if not x.dtype.is_floating:
            raise ValueError(
                f"{name} has dtype {x.dtype.name}, but {type(self).__name__} models real-valued images: give "
                "floats (for 8-bit images, (levels + uniform noise) / 256 as arzoo's real-valued data are; "
                "integer levels belong to the discrete image families)."
            )
        if x.shape.rank != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"{name} must have shape [batch, height, width, channels] = [batch, *{list(self.image_shape)}] "
                f"(image_shape); got shape {tuple(x.shape)}."
            )
        check_not_empty(x, name)
        x = tf.cast(x, tf.float32)
        if tf.executing_eagerly():
            values = x.numpy() if where is None else x.numpy()[np.asarray(where)]
            bad = ~np.isfinite(values)
            if bad.any():
                raise ValueError(
                    f"{name} contains {int(bad.sum())} non-finite value(s) (e.g. {values[bad].flat[0]}; NaN, or "
                    "inf, which values beyond float32's range become); every pixel must be finite."
                )
        return x

    def check_condition(self, condition, batch=None, length=None):
        if condition is not None:
            raise ValueError(f"{type(self).__name__} is unconditional but a condition was given.")
        return None

    def to_steps(self, x):
        height, width, channels = self.image_shape
        return tf.reshape(x, [-1, height * width, channels])

    def from_steps(self, steps):
        return tf.reshape(steps, (-1,) + self.image_shape)

    def write_step(self, canvas, position, values):
        height, width, channels = self.image_shape
        flat = tf.reshape(canvas, [-1, height * width, channels])
        at = tf.one_hot(position, height * width, on_value=True, off_value=False)[:, :, None]
        written = tf.where(at, tf.cast(values, canvas.dtype)[:, None, :], flat)
        return tf.reshape(written, (-1,) + self.image_shape)

    def params_at(self, params, position):
        height, width, _ = self.image_shape
        flat = tf.reshape(params, [tf.shape(params)[0], height * width, params.shape[-1]])
        return tf.gather(flat, position, axis=1, batch_dims=1)

    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"image": [B, H, W, C] float32}`."""
        return batch["image"], None

    # ----- likelihoods ------------------------------------------------------------

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """`conditional_log_probs` without the input checks, for training graphs."""
        x = tf.cast(x, tf.float32)
        log_probs = self.head.log_prob(self(x, training=training), x)
        if not self.zero_mean:
            return log_probs
        height, width, channels = self.image_shape
        scored = np.ones([height * width, channels], np.float32)
        scored[-1] = 0.0  # the determined last pixel
        return log_probs * scored.reshape(self.image_shape)

    def step_log_prob(self, params_t, values_t, position):
        log_probs = super().step_log_prob(params_t, values_t, position)
        if not self.zero_mean:
            return log_probs
        return tf.where(position < self.scored_pixels, log_probs, tf.zeros_like(log_probs))

    def fill_determined(self, events):
        """`events` with the last pixel set to minus the sum of the others
        (`zero_mean`), else as they are; every sampler's last word."""
        if not self.zero_mean:
            return events
        height, width, channels = self.image_shape
        flat = tf.reshape(events, [-1, height * width, channels])
        last = -tf.reduce_sum(flat[:, :-1], axis=1, keepdims=True)
        return tf.reshape(tf.concat([flat[:, :-1], last], axis=1), (-1,) + self.image_shape)

    def conditional_log_probs(self, x, condition=None):
        """log p(x_ijc | everything before it) in nats, `[B, H, W, C]` (0 at
        the last pixel of a `zero_mean` model: it is determined)."""
        self.check_condition(condition)
        return self.teacher_forced_log_probs(self.check_events(x))

    def log_prob(self, x, condition=None):
        """Exact log-density log p(x) in nats, `[B]` (of the first
        `scored_pixels` pixels)."""
        return tf.reduce_sum(self.conditional_log_probs(x, condition), axis=[1, 2, 3])

    # ----- another size -------------------------------------------------------------

    def resized(self, image_shape):
        """This model for images of `image_shape` (same channels) with the same
        weights: a family whose weights do not depend on the image size
        (every weight shared across positions) draws textures larger than
        its training images this way."""
        height, width, channels = (int(d) for d in image_shape)
        if channels != self.image_shape[2]:
            raise ValueError(
                f"A resized model keeps its channels ({self.image_shape[2]}); got image_shape={list(image_shape)}."
            )
        clone = type(self).from_config(dict(self.get_config(), image_shape=[height, width, channels]))
        clone.set_weights(self.get_weights())
        clone.jit_sampling = self.jit_sampling
        return clone

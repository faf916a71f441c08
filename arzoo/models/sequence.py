"""The event hooks of sequences of integer levels, `[B, T]` with T free per
call: audio (mu-law or PCM levels, WaveNet) and text (character ids,
Char-RNN). Step t draws element t."""

import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.models.validation import check_levels, check_not_empty


class SequenceEvents:
    """Mixin for `AutoregressiveModel`s over `[B, T]` int32 levels in
    [0, num_levels): the event hooks and the likelihoods of a network whose
    `call` gives `[B, T, params]`. The model defines `num_levels`,
    `sample_length`, `head` and may override `default_length(condition)`
    (how long `sample` draws when not told; `condition` is validated)."""

    # How errors name the events, e.g. "mono audio levels", "character ids".
    event_description = "a sequence of levels"

    def default_length(self, condition):
        return self.sample_length

    def sampling_order(self, length=None):
        """`[T]` int32: time order (step t draws element t)."""
        return np.arange(self.sample_length if length is None else length, dtype=np.int32)

    def check_events(self, x, name="x", where=None):
        """`[B, T]` (or `[B, T, 1]`) integer levels in [0, num_levels) -> int32 `[B, T]`."""
        try:
            x = tf.convert_to_tensor(x)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be {self.event_description} of shape [batch, time]: {err}") from None
        if x.shape.rank == 3 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.shape.rank != 2:
            raise ValueError(
                f"{name} must be {self.event_description} of shape [batch, time] (or [batch, time, 1]); "
                f"got shape {tuple(x.shape)}."
            )
        if x.shape[1] == 0:
            raise ValueError(f"{name} is empty (0 steps).")
        check_not_empty(x, name)
        if not (x.dtype.is_integer or x.dtype.is_floating):
            raise ValueError(f"{name} must be integer levels; got dtype {x.dtype.name}.")
        check_levels(x, self.num_levels, name, where)
        return tf.cast(x, tf.int32)

    def align_known_mask(self, x, known_mask):
        if x.shape.rank == 3 and x.shape[-1] == 1:
            x = x[..., 0]
        if known_mask.shape.rank == 3 and known_mask.shape[-1] == 1:
            known_mask = known_mask[..., 0]
        return super().align_known_mask(x, known_mask)

    def blank_events(self, batch, length=None, condition=None):
        if length is None:
            length = self.default_length(condition)
        length = int_at_least("length", length, 1)
        return tf.zeros([batch, length], tf.int32)

    def num_steps_of(self, events):
        static = events.shape[1]
        return int(static) if static is not None else tf.shape(events)[1]

    def to_steps(self, x):
        return x[..., None]

    def from_steps(self, steps):
        return steps[..., 0]

    def write_step(self, canvas, position, values):
        steps = tf.range(tf.shape(canvas)[1])[None]
        written = tf.where(tf.equal(steps, position[:, None]), tf.cast(values, canvas.dtype), canvas)
        return tf.ensure_shape(written, canvas.shape)

    def params_at(self, params, position):
        return tf.gather(params, position, axis=1, batch_dims=1)

    # ----- likelihoods -------------------------------------------------------

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """`conditional_log_probs` without the input checks, for training graphs."""
        params = self(x, condition, training=training)
        return self.head.conditional_log_probs(params, tf.cast(x, tf.int32)[..., None])[..., 0]

    def conditional_log_probs(self, x, condition=None):
        """log p(x_t | x_<t) in nats, `[B, T]`."""
        x = self.check_events(x)
        condition = self.check_condition(condition, int(x.shape[0]), int(x.shape[1]))
        return self.teacher_forced_log_probs(x, condition)

    def log_prob(self, x, condition=None):
        """Exact log p(x) in nats, `[B]`."""
        return tf.reduce_sum(self.conditional_log_probs(x, condition), axis=1)

    def bits_per_step(self, x, condition=None):
        """-log2 p(x) / T, `[B]` (bits per sample, per character)."""
        conditionals = self.conditional_log_probs(x, condition)
        return -tf.reduce_sum(conditionals, axis=1) / (float(conditionals.shape[1]) * np.log(2.0))

    bits_per_dim = bits_per_step

"""What the video families share on top of the image ones.

A video x of shape [T, H, W, C] with integer levels in [0, L) is modelled as

    p(x) = prod_t p(x_t | x_<t),

t running over frames, then the rows of a frame, its columns, and the
channels of a pixel (R -> G -> B). That order is the raster order of the
image whose rows are the frames' rows one frame after another, the frames
stacked vertically into `[T * H, W, C]`; so a video model is an
`AutoregressiveImageModel` of that stacked image (`image_shape`), and the
image hooks (the step index, `params_at`, `write_step`, the heads, the row
protocol's blocks of `steps_per_row` steps) serve it unchanged. Its events,
checks, configuration and teacher-forced pass are `[B, T, H, W, C]`.
"""

import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.validation import check_levels, check_not_empty


class AutoregressiveVideoModel(AutoregressiveImageModel):
    """The video families' events and hooks; subclasses build their layers
    and implement `network`.

    Args:
      num_frames: T, frames per video.
      frame_shape: (height, width, channels) of a frame.
      num_levels: intensity levels per channel (256 for 8-bit, 2 for binary).
      likelihood: "categorical" or "bernoulli" (one sub-pixel per step).
      num_classes: class-conditional model with this many classes, or None.

    Call arguments:
      x: `[B, T, H, W, C]` levels (int, or float for gradient audits).
      condition: `[B]` labels, or None.
      training: bool.

    Returns the distribution parameters `[B, T, H, W, head.params_per_pixel]`.
    """

    modality = "video"
    likelihoods = ("categorical", "bernoulli")
    likelihoods_why = " (video sub-pixels are drawn one at a time, R -> G -> B)"

    def __init__(self, num_frames, frame_shape, num_levels=256, likelihood="categorical", num_classes=None,
                 **kwargs):
        if "condition_shape" in kwargs and kwargs["condition_shape"] is not None:
            raise ValueError(
                "Video models take class conditioning (num_classes) only; got "
                f"condition_shape={kwargs['condition_shape']}."
            )
        kwargs.pop("condition_shape", None)
        if kwargs.get("image_shape") is not None:
            raise ValueError(
                f"Video models take num_frames and frame_shape, not image_shape (got {kwargs['image_shape']}); "
                "their image_shape is the frames stacked, [num_frames * height, width, channels]."
            )
        kwargs.pop("image_shape", None)
        num_frames = int_at_least("num_frames", num_frames, 1)
        if isinstance(frame_shape, (int, str)) or len(frame_shape) != 3:
            raise ValueError(f"frame_shape must be [height, width, channels], got {frame_shape!r}.")
        frame_shape = tuple(int_at_least("frame_shape entries", d, 1) for d in frame_shape)
        height, width, channels = frame_shape
        super().__init__(
            (num_frames * height, width, channels), num_levels=num_levels, likelihood=likelihood,
            num_classes=num_classes, **kwargs,
        )
        self.num_frames = num_frames
        self.frame_shape = frame_shape

    # ----- the stacked view --------------------------------------------------------

    def stacked(self, video):
        """`[B, T, H, W, D]` -> `[B, T * H, W, D]` (the frames one under another)."""
        height, width, _ = self.frame_shape
        return tf.reshape(video, [-1, self.num_frames * height, width, video.shape[-1] or tf.shape(video)[-1]])

    def unstacked(self, image):
        """`[B, T * H, W, D]` -> `[B, T, H, W, D]`."""
        height, width, _ = self.frame_shape
        return tf.reshape(image, [-1, self.num_frames, height, width, image.shape[-1] or tf.shape(image)[-1]])

    @property
    def steps_per_frame(self):
        height, width, _ = self.frame_shape
        return height * width * self.head.steps_per_pixel

    # ----- the network -------------------------------------------------------------

    def network(self, inputs, condition, training=False):
        """`[B, T, H, W, C]` floats in [-1, 1] (+ encoded condition) -> params `[B, T, H, W, P]`."""
        raise NotImplementedError

    def build(self, input_shape=None):
        if self.built:
            return
        self.call(tf.zeros((1,) + self.event_shape, tf.int32), self.dummy_condition(1))
        self.built = True

    # ----- events ------------------------------------------------------------------

    @property
    def event_shape(self):
        return (self.num_frames,) + self.frame_shape

    def check_events(self, x, name="x", where=None):
        """`[B, T, H, W, C]` levels in [0, num_levels) as int32, or a ValueError
        naming the length, frame size or value that is wrong."""
        x = tf.convert_to_tensor(x)
        if x.shape.rank != 5:
            raise ValueError(
                f"{name} must be videos [batch, frames, height, width, channels] of shape "
                f"[batch] + {list(self.event_shape)}; got shape {tuple(x.shape)}."
            )
        if x.shape[1] is not None and x.shape[1] != self.num_frames:
            raise ValueError(
                f"{name} has {x.shape[1]} frames but the model has num_frames={self.num_frames}; "
                f"got shape {tuple(x.shape)}."
            )
        frame = tuple(x.shape[2:])
        if any(got is not None and got != want for got, want in zip(frame, self.frame_shape)):
            raise ValueError(
                f"{name} has frames of shape {list(frame)} but the model has frame_shape={list(self.frame_shape)}."
            )
        if not (x.dtype.is_integer or x.dtype.is_floating):
            raise ValueError(f"{name} must be integer levels; got dtype {x.dtype.name}.")
        check_not_empty(x, name)
        check_levels(x, self.num_levels, name, where)
        return tf.cast(x, tf.int32)

    def check_spatial_condition_size(self):
        """Video models take no spatial condition."""

    def sampling_order(self):
        """`[num_steps, 4]` int32 rows (frame, row, column, channel)."""
        stacked = super().sampling_order()
        height = self.frame_shape[0]
        return np.concatenate([stacked[:, :1] // height, stacked[:, :1] % height, stacked[:, 1:]], 1).astype(np.int32)

    def video_step_index(self):
        """`[T, H, W, C]` int32: the sampling step at which each sub-pixel is drawn."""
        return self.event_step_index.reshape(self.event_shape)

    def from_steps(self, steps):
        return tf.reshape(steps, (-1,) + self.event_shape)

    def write_step(self, canvas, position, values):
        return self.unstacked(super().write_step(self.stacked(canvas), position, values))

    def params_at(self, params, position):
        return super().params_at(self.stacked(params), position)

    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"video", "label"}`."""
        return batch["video"], (batch["label"] if self.num_classes is not None else None)

    # ----- likelihoods ---------------------------------------------------------------

    def conditional_log_probs(self, x, condition=None):
        """log p(x_i | x_<i) in nats for every sub-pixel, `[B, T, H, W, C]`."""
        x = self.check_events(x)
        condition = self.check_condition(condition, int(x.shape[0]))
        return self.teacher_forced_log_probs(x, condition)

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        params = self(x, condition, training=training)
        return self.unstacked(self.head.conditional_log_probs(self.stacked(params), self.stacked(x)))

    def log_prob(self, x, condition=None):
        """Exact log p(x) in nats, `[B]`."""
        return tf.reduce_sum(self.conditional_log_probs(x, condition), axis=[1, 2, 3, 4])

    def frame_log_probs(self, x, condition=None):
        """log p(frame t | frames < t) in nats, `[B, T]` (their sum is `log_prob`)."""
        return tf.reduce_sum(self.conditional_log_probs(x, condition), axis=[2, 3, 4])

    # ----- incremental contract --------------------------------------------------------

    def initial_state(self, batch_size, condition=None):
        """An empty video canvas and position 0 per row (the generic state,
        recomputing the network at every step; families cache)."""
        return {
            "canvas": tf.zeros((batch_size,) + self.event_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
        }

    # ----- serialization ---------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        for key in ("image_shape", "num_mixtures", "condition_shape"):
            config.pop(key)
        config.update(num_frames=self.num_frames, frame_shape=list(self.frame_shape))
        return config

"""Video Pixel Network (Kalchbrenner et al. 2017, arXiv:1610.00527).

p(video) = prod_t p(frame_t | frames < t), each frame in raster order and
each pixel R -> G -> B (`AutoregressiveVideoModel`). Three parts:

- an encoder, per frame, that keeps the frame's resolution: a 3x3
  convolution to `encoder_filters` channels, then residual multiplicative
  blocks with dilations `encoder_dilations` (the paper's 1, 2, 4, 8);
- a convolutional LSTM over time: its input at frame t is the encoding of
  frame t - 1 (zeros at t = 0), so its output, the context of frame t, has
  seen exactly the frames before t;
- a decoder over frame t given its context at every pixel: a Gated PixelCNN
  without blind spot (`GatedPixelCNN` with a spatial condition, the context
  map and, for a class-conditional model, the class one-hot at every pixel).
  The paper's decoder stacks masked RMBs; a Gated PixelCNN is the masked
  network arzoo already has, and the issue asked for it.

`intra_frame=False` is the paper's baseline "without dependencies inside a
frame": every sub-pixel of frame t depends on the context alone (two 1x1
convolutions instead of the decoder). `temporal=False` drops the encoder and
the LSTM: frames are independent, each a Gated PixelCNN image (the per-frame
baseline).

Cached sampling (the row protocol, one block per row of a frame): when a
frame starts, the encoder runs once on the previous frame and the LSTM takes
one step (its state, `lstm`, is explicit step state), giving the frame's
context; inside the frame the decoder's own cached row and pixel steps run
on the frame, reading the context where they read a spatial condition.
"""

import keras
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers import caches
from arzoo.layers.conv_lstm import ConvLSTMCell
from arzoo.layers.multiplicative_unit import ResidualMultiplicativeBlock
from arzoo.models.gated_pixelcnn import GatedPixelCNN
from arzoo.models.registry import register_model
from arzoo.models.row_protocol import RowProtocol
from arzoo.models.video import AutoregressiveVideoModel


@register_model("video_pixel_network")
class VideoPixelNetwork(RowProtocol, AutoregressiveVideoModel):
    """The Video Pixel Network, optionally class-conditional.

    Args:
      num_frames, frame_shape, num_levels, likelihood, num_classes: see
        `AutoregressiveVideoModel`.
      encoder_filters: channels of the encoder's blocks (the paper's 2c).
      encoder_dilations: one residual multiplicative block per entry, with that dilation.
      encoder_kernel_size: kernel size of the multiplicative units.
      lstm_units: channels of the convolutional LSTM's state (the context).
      lstm_kernel_size: its kernel size.
      decoder_filters, decoder_layers, decoder_first_kernel_size,
      decoder_kernel_size, decoder_output_filters: the Gated PixelCNN
        decoder's num_filters, num_layers, first_kernel_size, kernel_size
        and num_output_filters (decoder_output_filters is also the hidden
        width of the `intra_frame=False` head).
      intra_frame: whether a sub-pixel depends on the earlier ones of its
        frame (the decoder); False is the paper's baseline.
      temporal: whether a frame depends on the earlier frames (the encoder
        and the LSTM); False makes frames independent.

    Example:
    >>> model = VideoPixelNetwork(num_frames=2, frame_shape=(4, 4, 1), num_levels=2,
    ...                           likelihood="bernoulli", encoder_filters=8, lstm_units=4,
    ...                           decoder_filters=8, decoder_layers=1)
    >>> model.log_prob(np.zeros((3, 2, 4, 4, 1), "int32")).shape
    TensorShape([3])

    References:
      [1] Kalchbrenner, van den Oord, Simonyan, Danihelka, Vinyals, Graves,
          Kavukcuoglu (2017). Video Pixel Networks. ICML. arXiv:1610.00527.
      [2] Shi, Chen, Wang, Yeung, Wong, Woo (2015). Convolutional LSTM
          Network. NeurIPS. arXiv:1506.04214.
    """

    def __init__(
        self,
        num_frames,
        frame_shape,
        num_levels=256,
        likelihood="categorical",
        num_classes=None,
        encoder_filters=64,
        encoder_dilations=(1, 2, 4, 8),
        encoder_kernel_size=3,
        lstm_units=64,
        lstm_kernel_size=3,
        decoder_filters=64,
        decoder_layers=6,
        decoder_first_kernel_size=7,
        decoder_kernel_size=3,
        decoder_output_filters=128,
        intra_frame=True,
        temporal=True,
        **kwargs,
    ):
        super().__init__(num_frames, frame_shape, num_levels=num_levels, likelihood=likelihood,
                         num_classes=num_classes, **kwargs)
        for name, value in (("intra_frame", intra_frame), ("temporal", temporal)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}.")
        if not intra_frame and not temporal:
            raise ValueError(
                "intra_frame=False and temporal=False leave a sub-pixel nothing to depend on; "
                "keep at least one (intra_frame=False is the paper's baseline, temporal=False the per-frame one)."
            )
        self.intra_frame, self.temporal = intra_frame, temporal
        self.encoder_filters = int_at_least("encoder_filters", encoder_filters, 2)
        if isinstance(encoder_dilations, (int, str)):
            raise ValueError(f"encoder_dilations must be a list of ints, got {encoder_dilations!r}.")
        self.encoder_dilations = [int_at_least("encoder_dilations entries", d, 1) for d in encoder_dilations]
        self.encoder_kernel_size = int_at_least("encoder_kernel_size", encoder_kernel_size, 1)
        self.lstm_units = int_at_least("lstm_units", lstm_units, 1)
        self.lstm_kernel_size = int_at_least("lstm_kernel_size", lstm_kernel_size, 1)
        self.decoder_filters = int_at_least("decoder_filters", decoder_filters, 1)
        self.decoder_layers = int_at_least("decoder_layers", decoder_layers, 0)
        self.decoder_first_kernel_size = int_at_least("decoder_first_kernel_size", decoder_first_kernel_size, 1)
        self.decoder_kernel_size = int_at_least("decoder_kernel_size", decoder_kernel_size, 1)
        self.decoder_output_filters = int_at_least("decoder_output_filters", decoder_output_filters, 1)
        height, width, _ = self.frame_shape
        self.context_channels = (self.lstm_units if temporal else 0) + (self.num_classes or 0)
        if temporal:
            self.encoder_input = keras.layers.Conv2D(self.encoder_filters, 3, padding="same", name="encoder_input")
            self.encoder_blocks = [
                ResidualMultiplicativeBlock(self.encoder_filters, self.encoder_kernel_size, d, name=f"encoder_block{i}")
                for i, d in enumerate(self.encoder_dilations)
            ]
            self.lstm = ConvLSTMCell(self.lstm_units, self.lstm_kernel_size, name="lstm")
        if intra_frame:
            self.frame_decoder = GatedPixelCNN(
                self.frame_shape,
                num_levels=self.num_levels,
                likelihood=self.likelihood,
                condition_shape=[height, width, self.context_channels] if self.context_channels else None,
                num_filters=self.decoder_filters,
                num_layers=self.decoder_layers,
                first_kernel_size=self.decoder_first_kernel_size,
                kernel_size=self.decoder_kernel_size,
                num_output_filters=self.decoder_output_filters,
                name="frame_decoder",
            )
        else:
            self.context_hidden = keras.layers.Conv2D(self.decoder_output_filters, 1, name="context_hidden")
            self.context_params = keras.layers.Conv2D(self.head.params_per_pixel, 1, name="context_params")
        self.build()

    # ----- the network ---------------------------------------------------------------

    def encode_frames(self, frames):
        """Frames `[N, H, W, C]` in [-1, 1] -> encodings `[N, H, W, encoder_filters]`."""
        x = self.encoder_input(frames)
        for block in self.encoder_blocks:
            x = block(x)
        return x

    def class_map(self, condition, batch):
        """The one-hot class at every pixel `[B, H, W, K]`, or None."""
        if condition is None or self.num_classes is None:
            return None
        height, width, _ = self.frame_shape
        return tf.broadcast_to(condition[:, None, None, :], [batch, height, width, self.num_classes])

    def frame_contexts(self, inputs, condition):
        """The context of every frame `[B, T, H, W, context_channels]` (the
        LSTM output over frames < t, then the class), or None."""
        batch = tf.shape(inputs)[0]
        height, width, _ = self.frame_shape
        parts = []
        if self.temporal:
            if self.num_frames > 1:  # frame T - 1 is nobody's past
                earlier = tf.reshape(inputs[:, :-1], (-1,) + self.frame_shape)
                encoded = tf.reshape(self.encode_frames(earlier),
                                     [batch, self.num_frames - 1, height, width, self.encoder_filters])
                previous = tf.concat([tf.zeros_like(encoded[:, :1]), encoded], axis=1)
            else:
                previous = tf.zeros([batch, 1, height, width, self.encoder_filters])
            state = self.lstm.zero_state(batch, height, width)
            outputs = []
            for t in range(self.num_frames):
                state = self.lstm(previous[:, t], state)
                outputs.append(state[0])
            parts.append(tf.stack(outputs, axis=1))
        classes = self.class_map(condition, batch)
        if classes is not None:
            parts.append(tf.broadcast_to(classes[:, None], [batch, self.num_frames, height, width, self.num_classes]))
        return tf.concat(parts, axis=-1) if parts else None

    def network(self, inputs, condition, training=False):
        batch = tf.shape(inputs)[0]
        height, width, _ = self.frame_shape
        contexts = self.frame_contexts(inputs, condition)
        if contexts is not None:
            contexts = tf.reshape(contexts, [-1, height, width, self.context_channels])
        params = self.frame_params(tf.reshape(inputs, (-1,) + self.frame_shape), contexts, training)
        return tf.reshape(params, [batch, self.num_frames, height, width, self.head.params_per_pixel])

    def frame_params(self, frames, contexts, training=False):
        """Params `[N, H, W, P]` of frames `[N, H, W, C]` given their contexts."""
        if self.intra_frame:
            return self.frame_decoder.network(frames, contexts, training=training)
        return self.context_params(tf.nn.relu(self.context_hidden(contexts)))

    # ----- cached sampling: the row protocol over the rows of every frame -------------

    @property
    def ROW_KEYS(self):  # noqa: N802 (the protocol's name)
        keys = ("lstm",) if self.temporal else ()
        keys += ("context",) if self.context_channels else ()
        return keys + (self.frame_decoder.ROW_KEYS if self.intra_frame else ())

    @property
    def ROW_RESET_KEYS(self):  # noqa: N802
        return self.frame_decoder.ROW_RESET_KEYS if self.intra_frame else ()

    def initial_state(self, batch_size, condition=None):
        height, width, _ = self.frame_shape
        state = super().initial_state(batch_size, condition)
        if self.temporal:
            hidden, cell = self.lstm.zero_state(batch_size, height, width)
            state["lstm"] = {"hidden": hidden, "cell": cell}
        if self.context_channels:
            state["context"] = tf.zeros([batch_size, height, width, self.context_channels])
        if self.intra_frame:
            decoder_state = self.frame_decoder.initial_state(batch_size)
            state.update({key: decoder_state[key] for key in self.ROW_KEYS + self.ROW_RESET_KEYS
                          if key in decoder_state})
        return state

    def prepare_condition(self, condition):
        return self.encode_condition(condition)

    def _start_frame(self, state, frame, condition):
        """The `lstm` state and `context` of `frame`: the encoder on the
        previous frame (zeros for frame 0) and one LSTM step."""
        updates, parts = {}, []
        batch = tf.shape(state["position"])[0]
        if self.temporal:
            height, width, _ = self.frame_shape
            encoded = tf.cond(  # frame 0 has no past: its encoding is zeros, the encoder is not run
                frame > 0,
                lambda: self.encode_frames(self.scale_levels(tf.gather(state["canvas"], frame - 1, axis=1))),
                lambda: tf.zeros([batch, height, width, self.encoder_filters], self.compute_dtype),
            )
            hidden, cell = self.lstm(encoded, (state["lstm"]["hidden"], state["lstm"]["cell"]))
            updates["lstm"] = {"hidden": hidden, "cell": cell}
            parts.append(hidden)
        classes = self.class_map(condition, batch)
        if classes is not None:
            parts.append(classes)
        updates["context"] = tf.concat(parts, axis=-1)
        return updates

    def row_state(self, state, row, condition, in_place=False):
        height = self.frame_shape[0]
        frame, frame_row = row // height, row % height
        rows = {}
        if self.context_channels:
            kept = ("lstm", "context") if self.temporal else ("context",)
            rows.update(tf.cond(
                frame_row == 0,
                lambda: self._start_frame(state, frame, condition),
                lambda: {key: state[key] for key in kept},
            ))
        if self.intra_frame:
            new_frame = frame_row == 0  # the vertical stack's rows of the previous frame are not this frame's
            decoder_state = {
                "canvas": tf.gather(state["canvas"], frame, axis=1),
                "vertical_rows": [tf.where(new_frame, tf.zeros_like(r), r) for r in state["vertical_rows"]],
                "horizontal_pixels": state["horizontal_pixels"],
            }
            rows.update(self.frame_decoder.row_state(decoder_state, frame_row, rows.get("context"), in_place))
        return rows

    def pixel_step(self, state, condition, in_place=False):
        position = state["position"]
        step = position[0]
        frame = step // self.steps_per_frame
        local = position - frame * self.steps_per_frame
        if self.intra_frame:
            decoder_state = {key: state[key] for key in self.frame_decoder.ROW_KEYS + self.frame_decoder.ROW_RESET_KEYS}
            decoder_state.update(canvas=tf.gather(state["canvas"], frame, axis=1), position=local)
            params, decoder_state = self.frame_decoder.pixel_step(decoder_state, state.get("context"), in_place)
            return params, dict(state, position=position + 1, horizontal_pixels=decoder_state["horizontal_pixels"])
        spp = self.head.steps_per_pixel
        pixel = local[0] // spp
        width = self.frame_shape[1]
        context = caches.condition_at(state["context"], pixel // width, pixel % width)
        pixel_params = self.context_params(tf.nn.relu(self.context_hidden(context)))[:, 0, 0]
        return self.head.step_params(pixel_params, position % spp), dict(state, position=position + 1)

    # ----- serialization -----------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder_filters=self.encoder_filters,
            encoder_dilations=list(self.encoder_dilations),
            encoder_kernel_size=self.encoder_kernel_size,
            lstm_units=self.lstm_units,
            lstm_kernel_size=self.lstm_kernel_size,
            decoder_filters=self.decoder_filters,
            decoder_layers=self.decoder_layers,
            decoder_first_kernel_size=self.decoder_first_kernel_size,
            decoder_kernel_size=self.decoder_kernel_size,
            decoder_output_filters=self.decoder_output_filters,
            intra_frame=self.intra_frame,
            temporal=self.temporal,
        )
        return config

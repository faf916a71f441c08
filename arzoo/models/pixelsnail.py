"""PixelSNAIL (Chen, Mishra, Rohaninejad, Abbeel 2018)."""

import tensorflow as tf

from arzoo.arguments import fraction_below_one, int_at_least
from arzoo.layers import CausalAttentionBlock, GatedResNet, caches
from arzoo.models.down_right_stream import DownRightStream
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.registry import register_model

# The image's receptive field columns at the input layer (a 1 x 3 kernel over
# the row above, 2 x 1 to the left) and the residual blocks' down-right
# kernel, as in the paper's code.
_INPUT_COLUMNS = 3
_RESNET_KERNEL = (2, 3)  # GatedResNet's down-right stream: 2 x (3 // 2 + 1) = 2 x 2


@register_model("pixelsnail")
class PixelSNAIL(DownRightStream, AutoregressiveImageModel):
    r"""PixelSNAIL: residual causal convolutions interleaved with causal
    self-attention, so every pixel can read the whole past.

    p(x | h) = prod_i p(x_i | x_<i, h) over pixels in raster order; with the
    logistic mixture head (the default) one step draws a whole pixel, its
    channels coupled inside the head; with a categorical or Bernoulli head on
    colour images one step draws one sub-pixel and the output layers read the
    pixel's earlier channels (R -> G -> B).

    The network ([1], figure 3 and its code): a down-right-shifted input
    layer (rows above and pixels to the left), then `num_blocks` blocks,
    each `num_resnet` gated residual blocks with 2 x 2 down-right-shifted
    convolutions followed by a causal attention block
    (`arzoo.layers.CausalAttentionBlock`): keys and values from the image,
    the block's features and two coordinate channels (the paper's
    positional encoding), the query from the features and the coordinates,
    a pixel attending to strictly earlier pixels only, its output entering
    a 1x1 gated residual block. The convolutions see a small window above
    and to the left; the attention gives every pixel all of the past.

    Sampling: cached sampling keeps, for every convolutional map, the two
    rows its 2 x 2 kernels read (as PixelCNN++'s down-right stream), and for
    every attention block fixed-shape key and value buffers `[B, H*W,
    heads * key_size]` / `[B, H*W, heads * value_size]`, written in place
    under XLA. At pixel t the step first writes the key and value of pixel
    t - 1 (they read its values, now drawn), then computes pixel t's
    features and attends over the buffers with keys < t unmasked. A step
    costs one position of every convolution and one row of every attention
    (over the fixed buffer, masked: fixed shapes are what XLA compiles),
    instead of a pass over the whole image.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape: see
        `AutoregressiveImageModel`.
      num_logistic_mix: mixture components of the logistic mixture head
        (PixelCNN++'s name).
      num_blocks: attention blocks (12 in the paper's CIFAR-10 model).
      num_resnet: gated residual blocks before each attention (4).
      num_filters: channels of the stream (256).
      key_size: channels of a key and a query, per head (16).
      value_size: channels of a value, per head (128).
      num_heads: attention heads (1).
      dropout_p: dropout on every gated block's hidden features while
        training (0.5).

    Example:
    >>> model = PixelSNAIL(image_shape=(8, 8, 1), num_blocks=2, num_resnet=1,
    ...                    num_filters=16, key_size=4, value_size=8)
    >>> model.log_prob(np.zeros((2, 8, 8, 1), "int32")).shape
    TensorShape([2])

    References:
      [1] Chen, Mishra, Rohaninejad, Abbeel (2018). PixelSNAIL: An Improved
          Autoregressive Generative Model. ICML. arXiv:1712.09763.
      [2] Salimans, Karpathy, Chen, Kingma (2017). PixelCNN++. arXiv:1701.05517
          (the gated residual blocks, the shifted convolutions, the head).
    """

    # The per-step loop compiled with XLA; rows of a batch in parallel groups on a CPU.
    jit_sampling = True
    sampling_threads = None

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="logistic_mixture",
        num_logistic_mix=10,
        num_classes=None,
        condition_shape=None,
        num_blocks=12,
        num_resnet=4,
        num_filters=256,
        key_size=16,
        value_size=128,
        num_heads=1,
        dropout_p=0.5,
        **kwargs,
    ):
        super().__init__(
            image_shape,
            num_levels=num_levels,
            likelihood=likelihood,
            num_mixtures=int_at_least("num_logistic_mix", num_logistic_mix, 1),
            num_classes=num_classes,
            condition_shape=condition_shape,
            **kwargs,
        )
        self.num_blocks = int_at_least("num_blocks", num_blocks, 1)
        self.num_resnet = int_at_least("num_resnet", num_resnet, 1)
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.key_size = int_at_least("key_size", key_size, 1)
        self.value_size = int_at_least("value_size", value_size, 1)
        self.num_heads = int_at_least("num_heads", num_heads, 1)
        self.dropout_p = fraction_below_one("dropout_p", dropout_p)
        channels = self.image_shape[-1]
        self.check_spatial_condition_size()
        self.check_channel_groups(num_filters=self.num_filters)
        f, conditional = self.num_filters, self.is_conditional
        self._build_down_right_input(f, _INPUT_COLUMNS)
        # Block b's residual blocks are resnets[b * num_resnet:(b + 1) * num_resnet].
        self.resnets = [
            GatedResNet(f, "down_right", _RESNET_KERNEL, self.dropout_p, conditional=conditional,
                        name=f"block{b}_resnet{r}")
            for b in range(self.num_blocks) for r in range(self.num_resnet)
        ]
        self.attention = [
            CausalAttentionBlock(f, channels, self.key_size, self.value_size, self.num_heads, self.dropout_p,
                                 conditional, name=f"block{b}_attention")
            for b in range(self.num_blocks)
        ]
        self._build_output_layers(f)
        self.build()

    # ----- the network -------------------------------------------------------

    def _blocks(self):
        """[(residual blocks, attention block)] of every block, in order."""
        n = self.num_resnet
        return [(self.resnets[b * n:(b + 1) * n], self.attention[b]) for b in range(self.num_blocks)]

    def coordinates(self, rows, cols):
        """The positional encoding of pixels (rows, cols) (broadcast int
        tensors): (row - H / 2) / H and (col - W / 2) / W, as the paper's code."""
        height, width, _ = self.image_shape
        rows = (tf.cast(rows, tf.float32) - height / 2) / height
        cols = (tf.cast(cols, tf.float32) - width / 2) / width
        return tf.stack([rows + tf.zeros_like(cols), cols + tf.zeros_like(rows)], axis=-1)

    def network(self, inputs, condition, training=False):
        height, width, _ = self.image_shape
        batch = tf.shape(inputs)[0]
        grid = self.coordinates(tf.range(height)[:, None], tf.range(width)[None, :])
        coordinates = tf.broadcast_to(grid[None], [batch, height, width, 2])
        features = self._down_right_input(self._network_input(inputs))
        for resnets, attention in self._blocks():
            for resnet in resnets:
                features = resnet(features, None, condition, training=training)
            features = attention(inputs, features, coordinates, condition, training=training)
        return self._head_params(tf.nn.elu(features), inputs)

    # ----- cached (incremental) sampling -------------------------------------
    #
    # Every map a 2 x 2 down-right kernel reads (each residual block's input
    # and hidden features) is kept as its last two rows, row i in slot i % 2,
    # one column of zeros on the left (the kernel's padding); a pixel's step
    # writes its own column, so the slot of row i - 1 still holds that row.
    # Each attention block's keys and values are a buffer over all H*W
    # positions. The map entering an attention block is kept too: pixel t's
    # key is computed at step t + 1 from it and the pixel's drawn values.

    def _map_names(self):
        """{name: channels} of every buffered map."""
        f = self.num_filters
        names = {}
        for b in range(self.num_blocks):
            for r in range(self.num_resnet):
                names[f"block{b}_in{r}"] = f
                names[f"block{b}_hidden{r}"] = 2 * f
            names[f"block{b}_attention_in"] = f
        return names

    def initial_state(self, batch_size, condition=None):
        height, width, _ = self.image_shape
        size = height * width
        heads = self.num_heads
        state = {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
            "maps": {name: tf.zeros([batch_size, 2, width + 1, channels], tf.float32)
                     for name, channels in self._map_names().items()},
            "keys": {f"block{b}": tf.zeros([batch_size, size, heads * self.key_size], tf.float32)
                     for b in range(self.num_blocks)},
            "values": {f"block{b}": tf.zeros([batch_size, size, heads * self.value_size], tf.float32)
                       for b in range(self.num_blocks)},
        }
        if self.head.steps_per_pixel > 1:
            state["pixel_features"] = tf.zeros([batch_size, 1, 1, self.num_filters], tf.float32)
        return state

    def prepare_condition(self, condition):
        return self.encode_condition(condition)

    def step(self, inputs_t, state, condition=None):
        return self.prepared_step(inputs_t, state, self.prepare_condition(condition))

    def prepared_step(self, inputs_t, state, context, in_place=False):
        position = state["position"]
        canvas = self.write_step(state["canvas"], position - 1, inputs_t)
        state = dict(state, canvas=canvas, position=position + 1)
        _, row, col, channel, _, _ = caches.step_position(self, position)
        if self.head.steps_per_pixel == 1:
            features, caches_now = self._features_at(state, row, col, context, in_place)
            state.update(caches_now)
        else:
            features, caches_now = tf.cond(
                channel == 0,
                lambda: self._features_at(state, row, col, context, in_place),
                lambda: (state["pixel_features"], {key: state[key] for key in ("maps", "keys", "values")}),
            )
            state.update(caches_now, pixel_features=features)
        pixel = self.scale_levels(caches.read_block(canvas, row, col, 1, 1))
        pixel_params = self._head_params(features, pixel)[:, 0, 0]
        return self.head.step_params(pixel_params, position % self.head.steps_per_pixel), state

    def _features_at(self, state, row, col, context, in_place):
        """elu of the final features at pixel (row, col) `[B, 1, 1, F]`, and
        the caches with this pixel's maps and the previous pixel's keys."""
        height, width, _ = self.image_shape
        canvas = state["canvas"]
        maps, keys, values = dict(state["maps"]), dict(state["keys"]), dict(state["values"])
        slot, column = row % 2, col + 1  # buffered maps have one zero column on the left
        pixel = row * width + col
        previous = tf.maximum(pixel - 1, 0)  # at pixel 0 a key is written that no query reads
        previous_row, previous_col = previous // width, previous % width
        previous_x = self.scale_levels(caches.read_block(canvas, previous_row, previous_col, 1, 1))
        one_pixel = [tf.shape(canvas)[0], 1, 1, 2]
        previous_coordinates = tf.broadcast_to(self.coordinates(previous_row, previous_col), one_pixel)
        here_coordinates = tf.broadcast_to(self.coordinates(row, col), one_pixel)
        readable = tf.range(height * width)[None, :] < pixel
        condition_here = caches.condition_at(context, row, col)
        condition_previous = caches.condition_at(context, previous_row, previous_col)

        def write(name, value):
            maps[name] = caches.write_block(maps[name], value, slot, column, in_place)

        def two_rows(name):
            """Rows row - 1 and row, in order, columns col - 1 and col."""
            block = caches.read_block(maps[name], 0, column - 1, 2, 2)
            return tf.where(row % 2 == 1, block, tf.reverse(block, axis=[1]))

        features = self._down_right_input_at(self._canvas_rows(canvas, row - 1, 2), col)
        for b, (resnets, attention) in enumerate(self._blocks()):
            for r, resnet in enumerate(resnets):
                write(f"block{b}_in{r}", features)
                write(f"block{b}_hidden{r}", resnet.hidden(two_rows(f"block{b}_in{r}")))
                features = resnet.gate(features, two_rows(f"block{b}_hidden{r}"), condition_here)
            name = f"block{b}_attention_in"
            previous_features = caches.read_block(maps[name], previous_row % 2, previous_col + 1, 1, 1)
            write(name, features)
            new_keys, new_values = attention.keys_values(
                previous_x, previous_features, previous_coordinates, condition_previous)
            keys[f"block{b}"] = caches.write_at(keys[f"block{b}"], previous, new_keys[:, 0, 0], in_place)
            values[f"block{b}"] = caches.write_at(values[f"block{b}"], previous, new_values[:, 0, 0], in_place)
            query = attention.query(features, here_coordinates, condition_here)[:, 0]
            mixed = attention.attend(query, keys[f"block{b}"], values[f"block{b}"], readable)
            features = attention.output(features, mixed[:, :, None], condition_here)
        return tf.nn.elu(features), {"maps": maps, "keys": keys, "values": values}

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            num_blocks=self.num_blocks,
            num_resnet=self.num_resnet,
            num_filters=self.num_filters,
            key_size=self.key_size,
            value_size=self.value_size,
            num_heads=self.num_heads,
            dropout_p=self.dropout_p,
        )
        return config


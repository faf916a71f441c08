"""PixelCNN++ (Salimans, Karpathy, Chen, Kingma 2017)."""

import collections
import itertools

import tensorflow as tf

from arzoo.arguments import fraction_below_one, int_at_least
from arzoo.layers import (
    DownRightShiftedConv2D,
    DownRightShiftedConv2DTranspose,
    DownShiftedConv2D,
    DownShiftedConv2DTranspose,
    GatedResNet,
    caches,
    down_shift,
)
from arzoo.models.down_right_stream import DownRightStream
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.registry import register_model
from arzoo.models.row_protocol import RowProtocol

# One operation of the network: `kind` ("input", "resnet", "downsample",
# "upsample") on `stream` ("down" / "down_right") at resolution `level`,
# reading the maps named `inputs` (a resnet: x, then its shortcuts) and
# writing the map `output` (a resnet also writes `output + "_hidden"`).
Operation = collections.namedtuple("Operation", "kind stream level layer inputs output")


@register_model("pixelcnn_pp")
class PixelCNNPlusPlus(RowProtocol, DownRightStream, AutoregressiveImageModel):
    r"""PixelCNN++: two shifted streams, gated ResNet blocks over three
    resolutions, a discretized logistic mixture per pixel.

    p(x | h) = prod_i p(x_i | x_<i, h) over pixels in raster order; with the
    logistic mixture head (the default) one step draws a whole pixel, its
    channels coupled inside the head (R, then G given R, then B given both);
    with a categorical or Bernoulli head on colour images one step draws one
    sub-pixel, and a small output network over the pixel's earlier channels
    (masked 1x1 layers) gives R -> G -> B.

    The network (figure 2 of [1]): a down stream that sees whole rows above
    (down-shifted convolutions) and a down-right stream that sees rows above
    and the pixels to the left (down-right-shifted convolutions), both built
    by padding and 'valid' convolutions, so no weight is masked. On the way
    down each of `num_hierarchies` resolutions has `num_resnet` gated blocks
    per stream, with stride-2 shifted convolutions between resolutions; on
    the way up transposed convolutions return to full resolution, each block
    reading its partner from the way down (the paper's shortcuts), the
    down-right blocks also reading the down stream. A block is
    x + a * sigmoid(b), [a, b] = conv(dropout(concat_elu(conv(concat_elu(x))
    + nin(shortcut)))) + V h. The network input has a channel of ones, so the
    zero padding of the border is told apart from grey (as in
    openai/pixel-cnn).

    Sampling: cached sampling keeps every layer's map and computes, when a
    row starts, the down stream's row at every resolution whose row is then
    complete, and at each pixel the down-right stream's position at every
    resolution whose pixel is then complete (Ramachandran et al. 2017 [2]):
    about one teacher-forced pass of work for a whole image, instead of one
    pass per pixel.

    Args:
      image_shape, num_levels, likelihood, num_classes, condition_shape: see
        `AutoregressiveImageModel`. Each resolution halves the last one's
        height and width (rounding up; transposed convolutions crop back).
      num_logistic_mix: mixture components of the logistic mixture head.
      num_resnet: gated blocks per stream and resolution on the way down
        (the way up has one more at every resolution but the lowest).
      num_hierarchies: resolutions (3 in the paper).
      num_filters: channels of both streams.
      receptive_field_dims: (rows, cols) a stride-1 layer sees above and
        around a pixel, the current row included: the down stream's kernels
        are (rows - 1) x cols, the down-right stream's 2 x (cols // 2 + 1).
        cols odd and >= 3; (3, 3) in the paper.
      dropout_p: dropout on every block's hidden features while training.

    The names of the last six follow `tfp.distributions.PixelCNN`, which is
    the same model; see benchmarks/pixelcnn_pp_vs_tfp.py for what differs.

    Example:
    >>> model = PixelCNNPlusPlus(image_shape=(8, 8, 3), num_resnet=1,
    ...                          num_hierarchies=2, num_filters=16)
    >>> x = np.zeros((2, 8, 8, 3), "int32")
    >>> model.log_prob(x).shape
    TensorShape([2])

    References:
      [1] Salimans, Karpathy, Chen, Kingma (2017). PixelCNN++: Improving the
          PixelCNN with Discretized Logistic Mixture Likelihood and Other
          Modifications. ICLR. arXiv:1701.05517.
      [2] Ramachandran, Paine, Khorrami, Babaeizadeh, Chang, Zhang,
          Hasegawa-Johnson, Campbell, Huang (2017). Fast Generation for
          Convolutional Autoregressive Models. arXiv:1704.06001.
    """

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="logistic_mixture",
        num_logistic_mix=5,
        num_classes=None,
        condition_shape=None,
        num_resnet=5,
        num_hierarchies=3,
        num_filters=160,
        receptive_field_dims=(3, 3),
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
        self.num_resnet = int_at_least("num_resnet", num_resnet, 1)
        self.num_hierarchies = int_at_least("num_hierarchies", num_hierarchies, 1)
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        if len(receptive_field_dims) != 2:
            raise ValueError(
                f"receptive_field_dims must be [rows, cols], got {list(receptive_field_dims)}."
            )
        rows, cols = (int_at_least("receptive_field_dims entries", d, 2) for d in receptive_field_dims)
        if cols % 2 == 0 or cols < 3:
            raise ValueError(
                f"receptive_field_dims cols must be odd and >= 3 (a window centred on the "
                f"pixel), got receptive_field_dims={list(receptive_field_dims)}."
            )
        self.receptive_field_dims = (rows, cols)
        self.dropout_p = fraction_below_one("dropout_p", dropout_p)
        height, width, _ = self.image_shape
        # Each resolution halves the last one's, rounding up.
        sizes = [(height, width)]
        for _ in range(self.num_hierarchies - 1):
            sizes.append(tuple(-(-n // 2) for n in sizes[-1]))
        self.level_sizes = tuple(sizes)
        self.check_spatial_condition_size()
        self.check_channel_groups(num_filters=self.num_filters)
        self._build_layers()
        self.build()

    # ----- the network, as a plan of operations --------------------------------

    def _build_layers(self):
        rows, cols = self.receptive_field_dims
        f = self.num_filters
        down_kernel = (rows - 1, cols)
        conditional = self.is_conditional
        self.down_input = DownShiftedConv2D(f, down_kernel, name="down_input")
        self._build_down_right_input(f, cols)
        self.network_layers = []
        plan = []
        names = itertools.count(1)

        def add(kind, stream, level, layer, inputs):
            output = f"{stream}{next(names)}"
            if layer is not None:
                self.network_layers.append(layer)
            plan.append(Operation(kind, stream, level, layer, tuple(inputs), output))
            return output

        def resnet(stream, level, inputs):
            layer = GatedResNet(
                f, stream, down_kernel, self.dropout_p, shortcut=len(inputs) > 1,
                conditional=conditional, name=f"{stream}_resnet{len(self.network_layers)}",
            )
            return add("resnet", stream, level, layer, inputs)

        stacks = {
            "down": [add("input", "down", 0, None, [])],
            "down_right": [add("input", "down_right", 0, None, [])],
        }
        for level in range(self.num_hierarchies):
            if level > 0:
                stacks["down"].append(add(
                    "downsample", "down", level,
                    DownShiftedConv2D(f, down_kernel, strides=2, name=f"down_downsample{level}"),
                    [stacks["down"][-1]],
                ))
                stacks["down_right"].append(add(
                    "downsample", "down_right", level,
                    DownRightShiftedConv2D(f, (2, cols // 2 + 1), strides=2, name=f"down_right_downsample{level}"),
                    [stacks["down_right"][-1]],
                ))
            for _ in range(self.num_resnet):
                down = resnet("down", level, [stacks["down"][-1]])
                stacks["down"].append(down)
                stacks["down_right"].append(resnet("down_right", level, [stacks["down_right"][-1], down]))
        down, down_right = stacks["down"].pop(), stacks["down_right"].pop()
        for level in reversed(range(self.num_hierarchies)):
            if level < self.num_hierarchies - 1:
                down = add("upsample", "down", level,
                           DownShiftedConv2DTranspose(f, (2, cols), name=f"down_upsample{level}"), [down])
                down_right = add("upsample", "down_right", level,
                                 DownRightShiftedConv2DTranspose(f, (2, 2), name=f"down_right_upsample{level}"),
                                 [down_right])
            for _ in range(self.num_resnet + (level < self.num_hierarchies - 1)):
                down = resnet("down", level, [down, stacks["down"].pop()])
                down_right = resnet("down_right", level, [down_right, down, stacks["down_right"].pop()])
        assert not stacks["down"] and not stacks["down_right"]
        # Untracked: the layers are tracked once, in `network_layers`.
        object.__setattr__(self, "plan", tuple(plan))
        self.output_map = down_right
        self._build_output_layers(f)

    def _level_conditions(self, condition):
        """The encoded condition each resolution reads: a vector everywhere, a
        spatial map averaged down to the resolution."""
        if condition is None or condition.shape.rank == 2:
            return [condition] * self.num_hierarchies
        return [
            condition if level == 0 else tf.nn.avg_pool2d(condition, 2**level, 2**level, "SAME")
            for level in range(self.num_hierarchies)
        ]

    def network(self, inputs, condition, training=False):
        x = self._network_input(inputs)
        conditions = self._level_conditions(condition)
        maps = {}
        for op in self.plan:
            if op.kind == "input":
                maps[op.output] = self._input_layer(op.stream, x)
            elif op.kind == "resnet":
                shortcut = _concat([maps[name] for name in op.inputs[1:]])
                maps[op.output] = op.layer(maps[op.inputs[0]], shortcut, conditions[op.level], training=training)
            elif op.kind == "upsample":
                height, width = self.level_sizes[op.level]
                maps[op.output] = op.layer(maps[op.inputs[0]])[:, :height, :width]
            else:
                maps[op.output] = op.layer(maps[op.inputs[0]])
        return self._head_params(tf.nn.elu(maps[self.output_map]), inputs)

    def _input_layer(self, stream, x):
        if stream == "down":
            return self.down_input(down_shift(x))
        return self._down_right_input(x)

    # ----- cached (incremental) sampling -----------------------------------------
    #
    # The down stream's row i at resolution s reads image rows < i 2^s only,
    # so it is computed when image row i 2^s starts (`row_state`, the row
    # protocol's once-per-row part); the down-right stream's position (i, j)
    # at resolution s reads pixels before (i 2^s, j 2^s) only, so it is
    # computed at that pixel's step (`pixel_step`). Resolutions whose row or
    # pixel is not complete at a step are left alone (a tf.cond per run of
    # operations at one resolution). Every operation is the teacher-forced
    # one on a window of its inputs, so the parameters are the same.
    #
    # What a layer reads of a map is only its last rows: a down map keeps
    # the kh = rows - 1 rows its kernels cover (a row is appended when it is
    # computed), a down-right map two, row i in slot i % 2, so a write is one
    # pixel and the slot of row i - 1 still holds it (a stride-2 layer reads
    # the two rows of the finer map that end at its current one, a
    # transposed one the coarser map's current row). Each buffer is
    # zero-padded by `_columns` so a kernel's window is a plain slice; the
    # rows before row 0 are the initial zeros.

    ROW_KEYS = ("down_maps",)
    # Measured on 2 CPU cores (zoo_configs/fashion_mnist/pixelcnn_pp.yaml,
    # seconds per sample call at batch 1 / 16 / 64): XLA with a row group per
    # core 0.16 / 0.74 / 6.3, XLA alone 0.14 / 1.8 / 8.1, the graph loop with
    # row groups 0.56 / 1.4 / 4.7. XLA with row groups is the default; large
    # batches may be faster with `jit_sampling = False`.
    jit_sampling = True
    sampling_threads = None

    @property
    def _columns(self):
        """Zero columns (left, right) around every buffered row."""
        cols = self.receptive_field_dims[1]
        return cols // 2, cols // 2

    def _buffer_shapes(self):
        """{stream: {map name: (rows, width, channels)}} of every buffer."""
        left, right = self._columns
        rows = {"down": self.receptive_field_dims[0] - 1, "down_right": 2}
        f = self.num_filters
        shapes = {"down": {}, "down_right": {}}
        for op in self.plan:
            width = self.level_sizes[op.level][1] + left + right
            shapes[op.stream][op.output] = (rows[op.stream], width, f)
            if op.kind == "resnet":
                shapes[op.stream][op.output + "_hidden"] = (rows[op.stream], width, 2 * f)
        return shapes

    def initial_state(self, batch_size, condition=None):
        maps = {
            stream: {name: tf.zeros([batch_size, *shape], tf.float32) for name, shape in shapes.items()}
            for stream, shapes in self._buffer_shapes().items()
        }
        state = {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
            "down_maps": maps["down"],
            "down_right_maps": maps["down_right"],
        }
        if self.head.steps_per_pixel > 1:
            state["pixel_features"] = tf.zeros([batch_size, 1, 1, self.num_filters], tf.float32)
        return state

    def prepare_condition(self, condition):
        return self._level_conditions(self.encode_condition(condition))

    def _runs(self, stream):
        """The plan's operations on `stream`, in order, grouped into runs at one level."""
        runs = []
        for op in self.plan:
            if op.stream != stream:
                continue
            if runs and runs[-1][0] == op.level:
                runs[-1][1].append(op)
            else:
                runs.append((op.level, [op]))
        return runs

    def _run_stream(self, stream, maps, active, compute):
        """Apply `compute(op, maps) -> {name: new buffer}` for every run whose
        level is `active(level)` (a scalar bool tensor; level 0 always is)."""
        for level, ops in self._runs(stream):
            def run(maps=maps, ops=ops):
                maps = dict(maps)
                for op in ops:
                    maps.update(compute(op, maps))
                return maps
            maps = run() if level == 0 else tf.cond(active(level), run, lambda maps=maps: dict(maps))
        return maps

    def row_state(self, state, row, context, in_place=False):
        """The down stream's rows at every resolution whose row starts at image row `row`."""
        del in_place  # a row is appended, not written in place
        left, right = self._columns
        kh = self.receptive_field_dims[0] - 1
        rows_above = self._canvas_rows(state["canvas"], row - kh, kh)

        def last_row(buffer, width):
            return caches.read_block(buffer, kh - 1, left, 1, width)

        def append(buffer, value):
            return caches.push(buffer, caches.pad_columns(value, left, right), axis=1)

        def compute(op, maps):
            level_row = row // 2**op.level
            width = self.level_sizes[op.level][1]
            if op.kind == "input":
                return {op.output: append(maps[op.output], self.down_input.call_on_window(rows_above))}
            source = maps[op.inputs[0]]
            if op.kind == "downsample":
                return {op.output: append(maps[op.output], op.layer.call_on_window(source))}
            if op.kind == "upsample":
                below = last_row(source, self.level_sizes[op.level + 1][1])
                value = caches.window(op.layer(below), level_row % 2, 1, axis=1)[:, :, :width]
                return {op.output: append(maps[op.output], value)}
            shortcut = _concat([last_row(maps[name], width) for name in op.inputs[1:]])
            hidden = append(maps[op.output + "_hidden"], op.layer.hidden(source, shortcut))
            value = op.layer.gate(
                last_row(source, width), hidden, caches.condition_at(context[op.level], level_row)
            )
            return {op.output + "_hidden": hidden, op.output: append(maps[op.output], value)}

        maps = self._run_stream("down", state["down_maps"], lambda level: row % 2**level == 0, compute)
        return {"down_maps": maps}

    def _down_right_features(self, state, row, col, context, in_place):
        """elu of the final down-right features at pixel (row, col) `[B, 1, 1, F]`,
        and the down-right buffers with every position completed by this pixel."""
        left, _ = self._columns
        rows = self.receptive_field_dims[0]
        canvas_rows = self._canvas_rows(state["canvas"], row - 1, 2)  # the row above and this one
        down_maps = state["down_maps"]
        down_last = rows - 2  # the current row of a down buffer

        def compute(op, maps):
            i, j = row // 2**op.level, col // 2**op.level
            slot = i % 2  # rows alternate between the two rows of a buffer

            def write(name, value):
                return {name: caches.write_block(maps[name], value, slot, j + left, in_place)}

            def two_rows(buffer, col_start, width, last_row=i):
                """Rows last_row - 1 and last_row, in order, of a buffer."""
                block = caches.read_block(buffer, 0, col_start, 2, width)
                return tf.where(last_row % 2 == 1, block, tf.reverse(block, axis=[1]))

            if op.kind == "input":
                return write(op.output, self._down_right_input_at(canvas_rows, col))
            source = maps[op.inputs[0]]
            if op.kind == "downsample":
                kw = op.layer.kernel_size[1]
                return write(op.output, op.layer.call_on_window(
                    two_rows(source, 2 * j - kw + 1 + left, kw, last_row=2 * i)))
            if op.kind == "upsample":
                below = caches.read_block(source, (i // 2) % 2, j // 2 + left, 1, 1)
                return write(op.output, caches.read_block(op.layer(below), i % 2, j % 2, 1, 1))
            kw = op.layer.window_size[1]
            here = lambda name: (  # noqa: E731
                caches.read_block(down_maps[name], down_last, j + left, 1, 1) if name in down_maps
                else caches.read_block(maps[name], slot, j + left, 1, 1)
            )
            shortcut = _concat([here(name) for name in op.inputs[1:]])
            out = write(op.output + "_hidden", op.layer.hidden(two_rows(source, j - kw + 1 + left, kw), shortcut))
            value = op.layer.gate(
                here(op.inputs[0]),
                two_rows(out[op.output + "_hidden"], j - kw + 1 + left, kw),
                caches.condition_at(context[op.level], i, j),
            )
            out.update(write(op.output, value))
            return out

        def active(level):
            return tf.logical_and(row % 2**level == 0, col % 2**level == 0)

        maps = self._run_stream("down_right", state["down_right_maps"], active, compute)
        features = caches.read_block(maps[self.output_map], row % 2, col + left, 1, 1)
        return tf.nn.elu(features), maps

    def pixel_step(self, state, context, in_place=False):
        position, canvas = state["position"], state["canvas"]
        _, row, col, channel, _, _ = caches.step_position(self, position)
        new_state = dict(state, position=position + 1)
        if self.head.steps_per_pixel == 1:
            features, new_state["down_right_maps"] = self._down_right_features(state, row, col, context, in_place)
        else:
            features, new_state["down_right_maps"] = tf.cond(
                channel == 0,
                lambda: self._down_right_features(state, row, col, context, in_place),
                lambda: (state["pixel_features"], state["down_right_maps"]),
            )
            new_state["pixel_features"] = features
        pixel = self.scale_levels(caches.read_block(canvas, row, col, 1, 1))
        pixel_params = self._head_params(features, pixel)[:, 0, 0]
        return self.head.step_params(pixel_params, position % self.head.steps_per_pixel), new_state

    # ----- serialization ---------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            num_resnet=self.num_resnet,
            num_hierarchies=self.num_hierarchies,
            num_filters=self.num_filters,
            receptive_field_dims=list(self.receptive_field_dims),
            dropout_p=self.dropout_p,
        )
        return config


def _concat(tensors):
    if not tensors:
        return None
    return tensors[0] if len(tensors) == 1 else tf.concat(tensors, axis=-1)


"""Multiscale parallel PixelCNN (Reed et al. 2017, arXiv:1703.03664).

The image is drawn coarse to fine. Its base `x[::2**K, ::2**K]` (no side
longer than `base_size`) comes from an ordinary autoregressive image model
of arzoo (`base`, Gated PixelCNN by default), one sub-pixel per step. Then
at each finer scale the image is tiled with 2x2 blocks whose upper-left
pixels are the scale above, and its upper-right, lower-left and lower-right
pixels follow as three groups; every pixel of a group (and channel) is
drawn in one step, independently given everything drawn before:

    log p(x) = log p_base(x[::2**K, ::2**K])
             + sum over scales k, groups g, channels c of
               sum over the group's pixels of log p(x[pixel, c] | steps before (k, g, c)).

(`arzoo.models.multiscale_groups` has the geometry: odd sides are
ceil-halved, empty groups left out.) It is a density over the same integer
images as every image family, so bits/dim compare directly, and a sample
takes `num_base_steps + 3 K C` network evaluations instead of H W C.

The group network. At scale k the image's 2x2 blocks are stacked as
channels (`tf.nn.space_to_depth`: `[h/2, w/2, 4C]`, slot 0 the upper-left
pixel, 1 upper-right, 2 lower-left, 3 lower-right). For group g and channel
c the network reads that stack multiplied by a constant mask that keeps the
slots before g and the channels before c of slot g (so the masked values
are exactly what the steps before have drawn; padding of odd sides is
masked too), the mask itself, and one-hot codes of g and c. A ResNet of
gated residual blocks ('same' convolutions at half the scale's resolution,
PixelCNN++'s block) maps it to the head's parameters of slot g's pixel in
every block. Causality holds by construction: a group reads nothing the
mask hides. One network serves every scale, so its weights do not depend on
the image size.

Sampling. Step t draws `values_per_step = max_group_pixels x
head.values_per_step` values (the largest group; smaller steps and the
base's single sub-pixels are padding, which `write_step` ignores).
`initial_state` holds the full canvas, `position`, and the base model's own
cached state under "base"; a step at a base position runs the base's cached
step, a group step one pass of the group network at its scale.

References:
  [1] Reed, van den Oord, Kalchbrenner, Gomez Colmenarejo, Wang, Belov,
      de Freitas (2017). Parallel Multiscale Autoregressive Density
      Estimation. ICML. arXiv:1703.03664.
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import fraction_below_one, int_at_least
from arzoo.layers import GatedResNet
from arzoo.models.image import AutoregressiveImageModel
from arzoo.models.multiscale_groups import GROUP_OFFSETS, MultiscaleGroups
from arzoo.models.registry import constructor_arguments, get_model_class, list_models, register_model

DEFAULT_BASE = {"family": "gated_pixelcnn"}
# The base model's arguments that the multiscale model sets (from its own);
# PixelCNN++ and PixelSNAIL name the mixture's size num_logistic_mix.
MIXTURE_ARGUMENTS = ("num_mixtures", "num_logistic_mix")
BASE_ARGUMENTS_SET_HERE = ("image_shape", "num_levels", "likelihood", "num_classes", "condition_shape",
                           *MIXTURE_ARGUMENTS)
# The space_to_depth slot of each group offset; slot 0 is the upper-left pixel (the scale above).
SLOT_OF_OFFSET = {offset: slot for slot, offset in enumerate(((0, 0),) + GROUP_OFFSETS)}


def base_section(base):
    """`base` (a config section naming a registered image family and its
    arguments, or None for the default) checked, as a plain dict."""
    section = dict(DEFAULT_BASE if base is None else base) if isinstance(base, dict) or base is None else None
    if section is None or "family" not in section:
        raise ValueError(
            "base must be a mapping with a 'family' key naming an image family and that family's "
            f"arguments (e.g. {{'family': 'gated_pixelcnn', 'num_filters': 32}}); got base={base!r}."
        )
    family = section["family"]
    images = [name for name in list_models("image")
              if get_model_class(name).external_conditions and name != "multiscale_pixelcnn"]
    if family not in images:
        raise ValueError(
            f"base.family={family!r} is not an image family a multiscale model can start from; "
            f"allowed: {', '.join(images)}."
        )
    cls = get_model_class(family)
    fixed = sorted(set(section) & set(BASE_ARGUMENTS_SET_HERE))
    if fixed:
        raise ValueError(
            f"base sets {', '.join(fixed)}, which the multiscale model gives its base (the base image "
            "is the image at the coarsest scale, same levels, head and condition): set them at the top "
            "level, not under base."
        )
    allowed = sorted(constructor_arguments(cls) - set(BASE_ARGUMENTS_SET_HERE))
    unknown = sorted(set(section) - set(allowed) - {"family"})
    if unknown:
        raise ValueError(f"Unknown key base.{unknown[0]} for base family {family!r}; allowed: {', '.join(allowed)}.")
    return section


@register_model("multiscale_pixelcnn")
class MultiscalePixelCNN(AutoregressiveImageModel):
    """Multiscale parallel PixelCNN: a base image model, then groups of
    pixels drawn in parallel, coarse to fine.

    Args:
      image_shape, num_levels, likelihood, num_mixtures, num_classes,
      condition_shape: see `AutoregressiveImageModel` (a spatial condition
        is read at each scale as `condition[::2**k, ::2**k]`).
      base_size: halving stops at the first scale whose longer side is at
        most this (odd sides ceil-halved); it must be below the image's
        longer side.
      base: the base model's config section: `family` (a registered image
        family) and its own arguments; image shape, levels, head and
        condition are this model's. Default: Gated PixelCNN's defaults.
      num_filters: channels of the group network.
      num_blocks: its gated residual blocks.
      kernel_size: odd size of their square kernels.
      dropout_p: dropout inside the blocks while training.

    Example:
    >>> model = MultiscalePixelCNN(image_shape=(8, 8, 1), num_levels=4, base_size=2,
    ...                            base={"family": "gated_pixelcnn", "num_filters": 4, "num_layers": 1},
    ...                            num_filters=8, num_blocks=1)
    >>> model.num_steps  # 2x2 base sub-pixels, then 2 scales x 3 groups
    10
    >>> model.sample(2, seed=0).shape
    TensorShape([2, 8, 8, 1])

    References:
      [1] Reed et al. (2017). Parallel Multiscale Autoregressive Density
          Estimation. ICML. arXiv:1703.03664.
    """

    def __init__(
        self,
        image_shape,
        num_levels=256,
        likelihood="categorical",
        num_mixtures=5,
        num_classes=None,
        condition_shape=None,
        base_size=4,
        base=None,
        num_filters=64,
        num_blocks=4,
        kernel_size=3,
        dropout_p=0.0,
        **kwargs,
    ):
        super().__init__(
            image_shape, num_levels=num_levels, likelihood=likelihood, num_mixtures=num_mixtures,
            num_classes=num_classes, condition_shape=condition_shape, **kwargs,
        )
        self.check_spatial_condition_size()
        self.layout = MultiscaleGroups(self.image_shape, base_size, whole_pixels=self.head.channel_coupled)
        self.base_size = self.layout.base_size
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.num_blocks = int_at_least("num_blocks", num_blocks, 0)
        self.kernel_size = int_at_least("kernel_size", kernel_size, 1)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got kernel_size={kernel_size}.")
        self.dropout_p = fraction_below_one("dropout_p", dropout_p)
        self.base_config = base_section(base)
        self.base = self._build_base(self.base_config)
        self.group_input = keras.layers.Conv2D(self.num_filters, self.kernel_size, padding="same",
                                               name="group_input")
        self.group_blocks = [
            GatedResNet(self.num_filters, "full", (self.kernel_size, self.kernel_size), self.dropout_p,
                        conditional=self.is_conditional, name=f"group_block{i}")
            for i in range(self.num_blocks)
        ]
        self.group_output = keras.layers.Conv2D(self.head.params_per_step, 1, name="group_output")
        self._build_tables()
        self.build()

    def _build_base(self, section):
        cls = get_model_class(section["family"])
        arguments = {key: value for key, value in section.items() if key != "family"}
        condition_shape = self.condition_shape
        if self.has_spatial_condition:
            condition_shape = self.layout.base_shape[:2] + condition_shape[2:]
        accepted = constructor_arguments(cls)
        for name in MIXTURE_ARGUMENTS:  # a family without the mixture head has no such argument
            if name in accepted:
                arguments[name] = self.num_mixtures
        try:
            return cls(
                image_shape=self.layout.base_shape, num_levels=self.num_levels, likelihood=self.likelihood,
                num_classes=self.num_classes, condition_shape=condition_shape, name="base", **arguments,
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"base ({section['family']} at {list(self.layout.base_shape)}): {err}") from None

    @property
    def has_spatial_condition(self):
        return self.condition_shape is not None and len(self.condition_shape) == 3

    # ----- the step layout -----------------------------------------------------
    #
    # A unit is what one step draws per pixel: a sub-pixel (V = 1 value), or a
    # whole pixel with a channel-coupled head (V = C). Step t draws the units
    # `step_units[t]` (padded with `num_units`, a unit that does not exist).

    def _build_tables(self):
        layout = self.layout
        height, width, channels = self.image_shape
        coupled = self.head.channel_coupled
        self.num_units = height * width * (1 if coupled else channels)
        self.group_size = layout.max_group_pixels

        def unit(rows, cols, channel):
            pixel = np.asarray(rows) * width + np.asarray(cols)
            return pixel if coupled else pixel * channels + channel

        steps = [unit(r, c, ch)[None] for r, c, ch in layout.base_order()]
        groups = layout.groups()
        scale, slot, channel, blocks = [], [], [], []
        for group in groups:
            pixels = layout.group_pixels(group)
            steps.append(unit(pixels[:, 0], pixels[:, 1], group.channel))
            local = pixels // 2**group.scale  # the pixels at their scale
            block_width = layout.sides[group.scale + 1][1]
            blocks.append((local[:, 0] // 2) * block_width + local[:, 1] // 2)
            scale.append(group.scale)
            slot.append(SLOT_OF_OFFSET[group.offset])
            channel.append(max(group.channel, 0))
        size = self.group_size
        padded = lambda rows, fill: np.stack([np.pad(r, (0, size - len(r)), constant_values=fill) for r in rows])  # noqa: E731
        self.step_units = padded(steps, self.num_units).astype(np.int32)  # [T, G]
        self.step_valid = self.step_units < self.num_units
        flat = self.step_units.reshape(-1)
        self.unit_slot_index = np.argsort(np.where(flat < self.num_units, flat, np.iinfo(np.int32).max),
                                          kind="stable")[: self.num_units].astype(np.int32)  # flat slot of each unit
        self.unit_step = (self.unit_slot_index // size).astype(np.int32)
        self.group_scale = np.array(scale, np.int32)
        self.group_slot = np.array(slot, np.int32)
        self.group_channel = np.array(channel, np.int32)
        self.group_block_index = padded(blocks, 0).astype(np.int32)
        # The largest group of each scale: a group step is drawn at its scale's width.
        self.scale_group_size = [
            max(len(layout.group_pixels(g)) for g in groups if g.scale == scale) for scale in range(layout.num_scales)
        ]

    @property
    def num_steps(self):
        return self.layout.num_steps

    @property
    def values_per_step(self):
        return self.group_size * self.head.values_per_step

    @property
    def params_per_step(self):
        return self.group_size * self.head.params_per_step

    @property
    def uniforms_per_step(self):
        return self.group_size * self.head.num_uniforms

    @property
    def event_step_index(self):
        return self.layout.step_of_subpixel().astype(np.int32)

    def sampling_order(self):
        """`[H * W * C, 3]` (row, column, channel) of every sub-pixel in the
        order drawn (a group's pixels, drawn in one step, in raster order);
        `[H * W, 3]` with channel -1 when a step draws whole pixels."""
        return self.layout.sampling_order().astype(np.int32)

    def sampling_scales(self):
        """The base's stride, then each finer scale's, down to 1."""
        return tuple(2**scale for scale in range(self.layout.num_scales, -1, -1))

    def _units(self, x):
        """`[B, H, W, C]` -> `[B, num_units, V]`."""
        return tf.reshape(x, [-1, self.num_units, self.head.values_per_step])

    def to_steps(self, x):
        units = self._units(x)
        units = tf.concat([units, tf.zeros_like(units[:, :1])], axis=1)  # the padding unit
        steps = tf.gather(units, self.step_units, axis=1)  # [B, T, G, V]
        return tf.reshape(steps, [-1, self.num_steps, self.values_per_step])

    def from_steps(self, steps):
        slots = tf.reshape(steps, [-1, self.num_steps * self.group_size, self.head.values_per_step])
        return tf.reshape(tf.gather(slots, self.unit_slot_index, axis=1), (-1,) + self.image_shape)

    def write_step(self, canvas, position, values):
        """Write `values` `[B, values_per_step]` at each row's step `position`
        (its padding and a position outside [0, num_steps) write nothing)."""
        slots = tf.reshape(values, [-1, self.group_size, self.head.values_per_step])
        slot_of_unit = tf.constant(self.unit_slot_index % self.group_size)
        written = tf.where(
            tf.equal(tf.constant(self.unit_step)[None, :, None], tf.reshape(position, [-1, 1, 1])),
            tf.cast(tf.gather(slots, slot_of_unit, axis=1), canvas.dtype),
            self._units(canvas),
        )
        return tf.ensure_shape(tf.reshape(written, tf.shape(canvas)), canvas.shape)

    def params_at(self, params, position):
        """The parameters `[B, params_per_step]` of each row's step
        `position`: its units' parameters, zeros at the padding."""
        units = tf.reshape(params, [-1, self.num_units, self.head.params_per_step])
        units = tf.concat([units, tf.zeros_like(units[:, :1])], axis=1)
        gathered = tf.gather(units, tf.gather(tf.constant(self.step_units), position), axis=1, batch_dims=1)
        return tf.reshape(gathered, [-1, self.params_per_step])

    def draw_step(self, params_t, uniforms_t, temperature):
        """Every unit of the step drawn from its own uniforms (padding too, ignored)."""
        return self._draw_units(params_t, uniforms_t, temperature, self.group_size)

    def _draw_units(self, params, uniforms_t, temperature, width):
        """`[B, width * head.values_per_step]`: the first `width` units of a
        step drawn from `params` `[B, width * head.params_per_step]`, unit i
        from uniforms `uniforms_t[:, i * k : (i + 1) * k]` (k per unit)."""
        head = self.head
        drawn = head.step_sample(
            tf.reshape(params, [-1, head.params_per_step]),
            tf.reshape(uniforms_t[:, : width * head.num_uniforms], [-1, head.num_uniforms]),
            tf.repeat(temperature, width),
        )
        return tf.reshape(drawn, [-1, width * head.values_per_step])

    def step_log_prob(self, params_t, values_t, position):
        unit_log_probs = self.head.step_log_prob(
            tf.reshape(params_t, [-1, self.head.params_per_step]),
            tf.reshape(values_t, [-1, self.head.values_per_step]),
        )
        valid = tf.gather(tf.constant(self.step_valid), position)
        return tf.reduce_sum(tf.where(valid, tf.reshape(unit_log_probs, [-1, self.group_size]), 0.0), axis=1)

    # ----- the network ------------------------------------------------------------

    def _base_condition(self, condition):
        """What the base reads of a condition: a spatial map at the base's scale."""
        if condition is None or not self.has_spatial_condition:
            return condition
        stride = self.layout.base_stride
        return condition[:, ::stride, ::stride]

    def _blocks(self, image, scale):
        """`[B, h, w, D]` at `scale` -> its 2x2 blocks as channels `[B, h', w', 4D]`
        (sides ceil-halved: an odd side is padded with zeros)."""
        height, width = self.layout.sides[scale]
        half_height, half_width = self.layout.sides[scale + 1]
        padded = tf.pad(image, [[0, 0], [0, 2 * half_height - height], [0, 2 * half_width - width], [0, 0]])
        return tf.nn.space_to_depth(padded, 2)

    def _known_mask(self, scale, slot, channel):
        """`[h', w', 4C]` float: 1 where group (`slot`, `channel`) of `scale` may
        read the block stack (earlier slots, earlier channels of its own slot,
        pixels inside the image)."""
        channels = self.image_shape[-1]
        height, width = self.layout.sides[scale]
        half_height, half_width = self.layout.sides[scale + 1]
        rows = 2 * np.arange(half_height)[:, None, None] + np.array([0, 0, 1, 1])[None, None, :]
        cols = 2 * np.arange(half_width)[None, :, None] + np.array([0, 1, 0, 1])[None, None, :]
        inside = np.repeat((rows < height) & (cols < width), channels, axis=-1)  # [h', w', 4C]
        slot_of = tf.constant(np.arange(4 * channels) // channels, tf.int32)
        channel_of = tf.constant(np.arange(4 * channels) % channels, tf.int32)
        earlier = (slot_of < slot) | ((slot_of == slot) & (channel_of < channel))
        if self.head.channel_coupled:
            earlier = slot_of < slot
        return tf.cast(tf.logical_and(earlier[None, None, :], tf.constant(inside)), tf.float32)

    def _scale_condition(self, condition, scale):
        """The blocks' condition at `scale`: the encoded vector, or the spatial
        map at that scale as a block stack."""
        if condition is None or not self.has_spatial_condition:
            return condition
        stride = 2**scale
        return self._blocks(condition[:, ::stride, ::stride], scale)

    def group_pass(self, inputs, scale, slot, channel, condition, training=False):
        """The head's parameters `[B, h', w', head.params_per_step]` of slot
        `slot`'s pixel (channel `channel`) in every block of `scale`, from
        `inputs` `[B, h, w, C]` in [-1, 1] at that scale (only what the mask
        keeps is read) and the encoded condition."""
        known = self._known_mask(scale, slot, channel)
        stack = self._blocks(inputs, scale) * known[None]
        batch = tf.shape(stack)[0]
        codes = [tf.one_hot(slot - 1, 3)]
        if not self.head.channel_coupled and self.image_shape[-1] > 1:
            codes.append(tf.one_hot(channel, self.image_shape[-1]))
        planes = tf.concat([known] + [tf.zeros_like(known[..., :1]) + code for code in codes], axis=-1)
        features = tf.concat([stack, tf.tile(planes[None], tf.stack([batch, 1, 1, 1]))], axis=-1)
        hidden = self.group_input(features)
        block_condition = self._scale_condition(condition, scale)
        for block in self.group_blocks:
            hidden = block(hidden, condition=block_condition, training=training)
        return self.group_output(tf.nn.elu(hidden))

    def call(self, x, condition=None, training=False):
        """Every sub-pixel's parameters `[B, H, W, head.params_per_pixel]`,
        teacher-forced: the base's at the base pixels, each group's from
        its pass over the block stack at its scale."""
        layout = self.layout
        stride = layout.base_stride
        encoded = self.encode_condition(condition)
        params = self.base(x[:, ::stride, ::stride], self._base_condition(condition), training=training)
        inputs = self.scale_levels(x)
        channels = (-1,) if self.head.channel_coupled else range(self.image_shape[-1])
        for scale in range(layout.num_scales - 1, -1, -1):
            scaled = inputs[:, :: 2**scale, :: 2**scale]
            height, width = layout.sides[scale]
            slots = [params]  # slot 0: the scale above
            for offset in GROUP_OFFSETS:
                slot = SLOT_OF_OFFSET[offset]
                if offset[0] < height and offset[1] < width:
                    parts = [self.group_pass(scaled, scale, slot, c, encoded, training) for c in channels]
                    slots.append(tf.concat(parts, axis=-1))
                else:  # an empty group (a side of 1): its slots are padding
                    slots.append(tf.zeros_like(params))
            params = tf.nn.depth_to_space(tf.concat(slots, axis=-1), 2)[:, :height, :width]
        return params

    # ----- cached sampling ------------------------------------------------------------

    def initial_state(self, batch_size, condition=None):
        """The canvas, `position` and the base's own state under "base"."""
        return {
            "canvas": tf.zeros((batch_size,) + self.image_shape, tf.int32),
            "position": tf.zeros([batch_size], tf.int32),
            "base": self.base.initial_state(batch_size, self._base_condition(condition)),
        }

    def prepare_condition(self, condition):
        return {"base": self.base.prepare_condition(self._base_condition(condition)),
                "group": self.encode_condition(condition)}

    def step(self, inputs_t, state, condition=None):
        return self.prepared_step(inputs_t, state, self.prepare_condition(condition))

    def prepared_step(self, inputs_t, state, context, in_place=False):
        """Write the previous step's values; at a base position run the
        base's step, else one pass of the group network (cached states
        advance all rows together). The parameters are padded to
        `params_per_step` (zeros)."""

        def base_params(params):
            return self._pad(params, self.params_per_step)

        def group_params(params):
            return self._pad(tf.reshape(params, [-1, params.shape[1] * self.head.params_per_step]),
                             self.params_per_step)

        return self._advance(inputs_t, state, context, in_place, base_params, group_params)

    def sampling_step(self, inputs_t, state, context, uniforms_t, temperature, in_place=False):
        """`prepared_step` and its draw, each step drawn at its own width (a
        base sub-pixel, the largest group of its scale) and only the values
        padded: padded parameters of the finest group's size at every step
        cost more than the network."""
        def base_values(params):
            return self._pad(self._draw_units(params, uniforms_t, temperature, 1), self.values_per_step)

        def group_values(params):
            drawn = self._draw_units(params, uniforms_t, temperature, params.shape[1])
            return self._pad(drawn, self.values_per_step)

        return self._advance(inputs_t, state, context, in_place, base_values, group_values)

    @staticmethod
    def _pad(rows, width):
        """`[B, n]` padded with zeros to `[B, width]`."""
        return tf.pad(rows, [[0, 0], [0, width - rows.shape[1]]])

    def _advance(self, inputs_t, state, context, in_place, from_base, from_group):
        """The step at `state["position"]`: `from_base(params [B, P])` of the
        base's step, or `from_group(params [B, n, P])` of the group's pixels
        (n: the largest group of its scale, padding zeroed), and the new state."""
        position = state["position"]
        canvas = self.write_step(state["canvas"], position - 1, inputs_t)
        step = position[0]
        num_base_steps = self.layout.num_base_steps

        def base_step():
            values = inputs_t[:, : self.head.values_per_step]
            params, base_state = self.base.prepared_step(values, state["base"], context["base"], in_place)
            return from_base(params), base_state

        def group_step():
            group = tf.clip_by_value(step - num_base_steps, 0, len(self.group_scale) - 1)
            branches = [
                functools.partial(lambda scale: from_group(self._group_params(canvas, group, scale, context["group"])),
                                  scale)
                for scale in range(self.layout.num_scales)
            ]
            return tf.switch_case(tf.gather(self.group_scale, group), branches), state["base"]

        out, base_state = tf.cond(step < num_base_steps, base_step, group_step)
        return out, {"canvas": canvas, "position": position + 1, "base": base_state}

    def _group_params(self, canvas, group, scale, condition):
        """`[B, n, head.params_per_step]`: the parameters of group step `group`
        (a scalar tensor; its scale is `scale`) from the canvas, n the largest
        group of that scale, padding zeroed."""
        width = self.scale_group_size[scale]
        slot, channel = tf.gather(self.group_slot, group), tf.gather(self.group_channel, group)
        blocks = tf.gather(tf.constant(self.group_block_index[:, :width]), group)
        valid = tf.gather(tf.constant(self.step_valid[self.layout.num_base_steps:, :width]), group)
        stride = 2**scale
        params = self.group_pass(self.scale_levels(canvas[:, ::stride, ::stride]), scale, slot, channel, condition)
        flat = tf.reshape(params, [tf.shape(params)[0], -1, self.head.params_per_step])
        return tf.where(valid[None, :, None], tf.gather(flat, blocks, axis=1), 0.0)

    # ----- serialization ------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            base_size=self.base_size,
            base=dict(self.base_config),
            num_filters=self.num_filters,
            num_blocks=self.num_blocks,
            kernel_size=self.kernel_size,
            dropout_p=self.dropout_p,
        )
        return config

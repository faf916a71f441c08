"""Sampling loops, each one `tf.while_loop` over the model's sampling order.

Both loops draw step t of row b from `uniforms[b, t]` (made from row b's
seed alone by `arzoo.sampling.seeds.step_uniforms`) and keep the known values
of a completion, so they give the same samples for the same seeds; `naive`
recomputes the whole network on the canvas at every step and is the
reference, `cached` goes through the model's `initial_state` / `step`
contract.

The uniforms are an input rather than drawn inside the loop because XLA
derives stateless random numbers from a seed tensor differently from the
TensorFlow kernels: drawing them outside keeps a compiled loop, an
uncompiled one and a served SavedModel sample for sample equal.
"""

import tensorflow as tf


def _draw(model, params_t, uniforms_t, temperature, known_t, known_flag_t):
    drawn = model.head.step_sample(params_t, uniforms_t, temperature)
    return tf.where(known_flag_t[:, None], tf.cast(known_t, tf.int32), drawn)


def _known_steps(model, known, known_mask):
    known_steps = model.to_steps(tf.cast(known, tf.int32))
    known_flags = tf.reduce_all(model.to_steps(tf.cast(known_mask, tf.bool)), axis=-1)
    return known_steps, known_flags


def naive_sample(model, uniforms, temperature, condition, known, known_mask):
    """Recompute the network over the whole canvas for every step.

    Args:
      model: an `AutoregressiveImageModel`.
      uniforms: `[B, num_steps, head.num_uniforms]` from `step_uniforms`.
      temperature: `[B]`.
      condition: validated condition or None.
      known, known_mask: `[B, H, W, C]` values and 0/1 mask of a completion.
    """
    known_steps, known_flags = _known_steps(model, known, known_mask)
    batch = tf.shape(uniforms)[0]

    def body(t, canvas):
        position = tf.fill([batch], t)
        params_t = model.params_at(model(canvas, condition), position)
        values = _draw(
            model, params_t, uniforms[:, t], temperature, known_steps[:, t], known_flags[:, t]
        )
        return t + 1, model.write_step(canvas, position, values)

    canvas = tf.zeros(tf.concat([[batch], model.image_shape], 0), tf.int32)
    _, canvas = tf.while_loop(
        lambda t, _: t < model.num_steps, body, (tf.constant(0), canvas)
    )
    return canvas


def cached_sample(model, uniforms, temperature, condition, known, known_mask):
    """Feed each drawn value back through `model.step` (arguments as `naive_sample`).

    Models whose cache has a part recomputed once per image row and left alone
    by the steps in it (`ROW_KEYS`; `row_state` computes them and resets the
    rest, `pixel_step` is `step` without the row update) run as two nested
    loops instead, so that part is a constant of the inner loop rather than
    state copied at every step.
    """
    if hasattr(model, "row_state"):
        return row_wise_sample(model, uniforms, temperature, condition, known, known_mask)
    known_steps, known_flags = _known_steps(model, known, known_mask)
    batch = tf.shape(uniforms)[0]
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.head.values_per_step], tf.int32)
    drawn = tf.TensorArray(tf.int32, size=model.num_steps, element_shape=previous.shape)

    def body(t, previous, state, drawn):
        params_t, state = model.step(previous, state, condition)
        values = _draw(
            model, params_t, uniforms[:, t], temperature, known_steps[:, t], known_flags[:, t]
        )
        return t + 1, values, state, drawn.write(t, values)

    _, _, _, drawn = tf.while_loop(
        lambda t, *_: t < model.num_steps, body, (tf.constant(0), previous, state, drawn)
    )
    return model.from_steps(tf.transpose(drawn.stack(), [1, 0, 2]))


def row_wise_sample(model, uniforms, temperature, condition, known, known_mask):
    """`cached_sample` as an outer loop over rows and an inner loop over a row's steps."""
    known_steps, known_flags = _known_steps(model, known, known_mask)
    batch = tf.shape(uniforms)[0]
    height, width, _ = model.image_shape
    steps_per_row = width * model.head.steps_per_pixel
    encoded = model.encode_condition(condition)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.head.values_per_step], tf.int32)
    drawn = tf.TensorArray(tf.int32, size=model.num_steps, element_shape=previous.shape)
    inner_keys = sorted(key for key in state if key not in model.ROW_KEYS)

    def row_body(row, previous, state, drawn):
        canvas = model.write_step(state["canvas"], state["position"] - 1, previous)
        state = dict(state, canvas=canvas)
        rows = model.row_state(state, row, encoded)
        constants = {key: rows[key] for key in model.ROW_KEYS}
        fresh = dict(state, **{key: value for key, value in rows.items() if key not in constants})

        def pixel_body(t, previous, inner, drawn):
            inner = dict(inner, canvas=model.write_step(inner["canvas"], inner["position"] - 1, previous))
            params_t, new_state = model.pixel_step(dict(inner, **constants), encoded)
            values = _draw(
                model, params_t, uniforms[:, t], temperature, known_steps[:, t], known_flags[:, t]
            )
            return t + 1, values, {key: new_state[key] for key in inner_keys}, drawn.write(t, values)

        start = row * steps_per_row
        _, previous, inner, drawn = tf.while_loop(
            lambda t, *_: t < start + steps_per_row,
            pixel_body,
            (start, previous, {key: fresh[key] for key in inner_keys}, drawn),
        )
        return row + 1, previous, dict(inner, **constants), drawn

    _, _, _, drawn = tf.while_loop(
        lambda row, *_: row < height, row_body, (tf.constant(0), previous, state, drawn)
    )
    return model.from_steps(tf.transpose(drawn.stack(), [1, 0, 2]))

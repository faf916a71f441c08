"""The sampling driver: one naive and one cached loop for every family.

Both loops run one `tf.while_loop` over the model's sampling order and draw
step t of row b from `uniforms[b, t]` (made from row b's seed alone by
`arzoo.sampling.seeds.step_uniforms`), keeping the known values of a
completion, so they give the same samples for the same seeds. `naive`
recomputes the whole network on the canvas at every step and is the
reference; `cached` goes through the model's incremental protocol
(`initial_state`, `prepare_condition`, `sampling_step` (by default
`prepared_step` and its draw), and the optional row protocol declared on
`arzoo.models.base.AutoregressiveModel`). Neither knows
what the events are: the model's event hooks (`to_steps`, `from_steps`,
`write_step`, `params_at`, `values_dtype`) say, and each loop's events
pass through `model.fill_determined` last (values the others determine).

A flow (Parallel WaveNet) adds a third method, `parallel`: its own pass
over every step at once from the same uniforms.

The uniforms are an input rather than drawn inside the loop because XLA
derives stateless random numbers from a seed tensor differently from the
TensorFlow kernels: drawing them outside keeps a compiled loop, an
uncompiled one and a served SavedModel sample for sample equal.

Args (both loops):
  model: an `AutoregressiveModel`.
  uniforms: `[B, num_steps, model.uniforms_per_step]` from `step_uniforms`.
  temperature: `[B]` float32.
  condition: the validated condition (or None).
  known: events `[B, ...]`: the canvas, with the known values of a completion.
  known_mask: bool, `known`'s shape, true where a value is given.
  in_place: the loop is XLA-compiled (caches may be written in place).

Returns the events `[B, ...]`.
"""

import tensorflow as tf

from arzoo.sampling.seeds import step_uniforms


# `step_uniforms` traced once per number of uniforms (an eager `map_fn` over
# rows costs milliseconds per row); the same Philox kernels, so the same numbers.
traced_step_uniforms = tf.function(step_uniforms, reduce_retracing=True)


def _keep_known(values, known_t, known_flags_t):
    """A step's drawn `values` with the known ones of a completion put back."""
    return tf.where(known_flags_t, tf.cast(known_t, values.dtype), values)


def _draw(model, params_t, uniforms_t, temperature, known_t, known_flags_t):
    return _keep_known(model.draw_step(params_t, uniforms_t, temperature), known_t, known_flags_t)


def _known_steps(model, known, known_mask):
    """The known values and their flags `[B, num_steps, values_per_step]`
    in sampling order (one flag per value: a step that draws a group of
    pixels may have some of them known)."""
    return model.to_steps(known), model.to_steps(tf.cast(known_mask, tf.bool))


def naive_sample(model, uniforms, temperature, condition, known, known_mask, in_place=False):
    """Recompute the network over the whole canvas for every step."""
    del in_place  # no caches
    known_steps, known_flags = _known_steps(model, known, known_mask)
    batch, num_steps = tf.shape(uniforms)[0], tf.shape(uniforms)[1]

    def body(t, canvas):
        position = tf.fill([batch], t)
        params_t = model.params_at(model(canvas, condition), position)
        values = _draw(
            model, params_t, uniforms[:, t], temperature, known_steps[:, t], known_flags[:, t]
        )
        return t + 1, model.write_step(canvas, position, values)

    canvas = tf.zeros_like(known)
    _, canvas = tf.while_loop(lambda t, _: t < num_steps, body, (tf.constant(0), canvas))
    return model.fill_determined(canvas)


def cached_sample(model, uniforms, temperature, condition, known, known_mask, in_place=False):
    """Feed each drawn value back through `model.sampling_step`."""
    if model.ROW_KEYS:
        return row_wise_sample(model, uniforms, temperature, condition, known, known_mask, in_place)
    known_steps, known_flags = _known_steps(model, known, known_mask)
    batch, num_steps = tf.shape(uniforms)[0], tf.shape(uniforms)[1]
    context = model.prepare_condition(condition)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.values_per_step], model.values_dtype)
    drawn = tf.TensorArray(model.values_dtype, size=num_steps, element_shape=previous.shape)

    def body(t, previous, state, drawn):
        values, state = model.sampling_step(previous, state, context, uniforms[:, t], temperature, in_place)
        values = _keep_known(values, known_steps[:, t], known_flags[:, t])
        return t + 1, values, state, drawn.write(t, values)

    _, _, _, drawn = tf.while_loop(
        lambda t, *_: t < num_steps, body, (tf.constant(0), previous, state, drawn)
    )
    return model.fill_determined(model.from_steps(tf.transpose(drawn.stack(), [1, 0, 2])))


def row_wise_sample(model, uniforms, temperature, condition, known, known_mask, in_place=False):
    """`cached_sample` as an outer loop over blocks of `model.steps_per_row`
    steps and an inner loop over a block's steps, for models with the row
    protocol (`ROW_KEYS`, `row_state`, `pixel_step`)."""
    known_steps, known_flags = _known_steps(model, known, known_mask)
    batch = tf.shape(uniforms)[0]
    num_steps, steps_per_row = model.num_steps_of(known), model.steps_per_row
    context = model.prepare_condition(condition)
    state = model.initial_state(batch, condition)
    previous = tf.zeros([batch, model.values_per_step], model.values_dtype)
    drawn = tf.TensorArray(model.values_dtype, size=num_steps, element_shape=previous.shape)
    inner_keys = sorted(key for key in state if key not in model.ROW_KEYS)

    def row_body(row, previous, state, drawn):
        canvas = model.write_step(state["canvas"], state["position"] - 1, previous)
        state = dict(state, canvas=canvas)
        rows = model.row_state(state, row, context, in_place=in_place)
        constants = {key: rows[key] for key in model.ROW_KEYS}
        fresh = dict(state, **{key: value for key, value in rows.items() if key not in constants})

        def pixel_body(t, previous, inner, drawn):
            inner = dict(inner, canvas=model.write_step(inner["canvas"], inner["position"] - 1, previous))
            params_t, new_state = model.pixel_step(dict(inner, **constants), context, in_place=in_place)
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
        lambda row, *_: row < num_steps // steps_per_row, row_body, (tf.constant(0), previous, state, drawn)
    )
    return model.fill_determined(model.from_steps(tf.transpose(drawn.stack(), [1, 0, 2])))


def parallel_sample(model, uniforms, temperature, condition, known, known_mask, in_place=False):
    """A flow's one pass over every step (`model.parallel_sample`): the
    same uniforms, no loop over steps."""
    del in_place
    return model.fill_determined(model.parallel_sample(uniforms, temperature, condition, known, known_mask))


SAMPLERS = {"naive": naive_sample, "cached": cached_sample, "parallel": parallel_sample}

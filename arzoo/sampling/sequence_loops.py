"""Sampling loops over time for sequence models (WaveNet).

The same scheme as `arzoo.sampling.loops`: step t of row b draws from
`uniforms[b, t]`, made from row b's seed alone, and known values of a
completion (an audio prefix) are kept; `naive` recomputes the whole network
on the sequence so far at every step and is the reference, `cached` goes
through the model's per-layer queues.

Args (both loops):
  model: a `WaveNet`-like model (`prepared_step`, `global_biases`, `head`).
  uniforms: `[B, T, head.num_uniforms]` from `step_uniforms`.
  temperature: `[B]`.
  speaker: `[B]` int32 or None; features: `[B, F, D]` or None (validated).
  known, known_mask: `[B, T]` int32 values and 0/1 mask.

Returns `[B, T]` int32.
"""

import tensorflow as tf


def _draw(model, params_t, uniforms_t, temperature, known_t, known_flag_t):
    drawn = model.head.step_sample(params_t, uniforms_t, temperature)
    return tf.where(known_flag_t[:, None] > 0, known_t[:, None], drawn)


def naive_sample(model, uniforms, temperature, speaker, features, known, known_mask):
    batch, length = tf.shape(uniforms)[0], tf.shape(uniforms)[1]
    condition = model.join_condition(speaker, features)
    steps = tf.range(length)[None]

    def body(t, canvas):
        params_t = model(canvas, condition)[:, t]
        values = _draw(model, params_t, uniforms[:, t], temperature, known[:, t], known_mask[:, t])
        return t + 1, tf.where(tf.equal(steps, t), values, canvas)

    canvas = tf.zeros([batch, length], tf.int32)
    _, canvas = tf.while_loop(lambda t, _: t < length, body, (tf.constant(0), canvas))
    return canvas


def cached_sample(model, uniforms, temperature, speaker, features, known, known_mask, in_place=False):
    batch, length = tf.shape(uniforms)[0], tf.shape(uniforms)[1]
    global_biases = model.global_biases(speaker)
    state = model.initial_state(batch)
    previous = tf.zeros([batch, 1], tf.int32)
    drawn = tf.TensorArray(tf.int32, size=length, element_shape=[None])

    def body(t, previous, state, drawn):
        params_t, state = model.prepared_step(previous, state, global_biases, features, in_place=in_place)
        values = _draw(model, params_t, uniforms[:, t], temperature, known[:, t], known_mask[:, t])
        return t + 1, values, state, drawn.write(t, values[:, 0])

    _, _, _, drawn = tf.while_loop(
        lambda t, *_: t < length, body, (tf.constant(0), previous, state, drawn)
    )
    return tf.transpose(drawn.stack())


SEQUENCE_SAMPLERS = {"naive": naive_sample, "cached": cached_sample}

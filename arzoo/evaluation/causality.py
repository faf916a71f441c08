"""The causality audit: which inputs each sampling step's distribution reads.

For step t the audit takes the gradient of the step's distribution parameters
with respect to the network's input (levels fed as floats) and reports where
it is non-zero. A causal model reads no input at a step >= t; a model without
blind spot reads every earlier input inside its receptive field.
"""

import numpy as np
import tensorflow as tf


def _random_weights(model, seed):
    return tf.random.stateless_normal([model.params_per_step], seed=[seed, 1])


def dependency_maps(model, x, condition=None, steps=None, seed=0):
    """max over examples of |d params_t / d x| for the given steps.

    A step depends on an input if the gradient is non-zero for some input
    image: ReLUs can switch a path off for one image, so pass several (the
    audit uses 8 random images). The gradient at a later position must be
    exactly zero for every one of them.

    Args:
      model: an `AutoregressiveImageModel`.
      x: `[K, H, W, C]` levels (int or float), K example images.
      condition: their conditions `[K, ...]`, or None.
      steps: sampling steps to audit (default: all of them).
      seed: for the random projection of each step's parameter vector to a
        scalar (so no two parameters can cancel).

    Returns:
      `[len(steps), H, W, C]` float64 array of absolute gradients.
    """
    steps = list(range(model.num_steps)) if steps is None else [int(s) for s in steps]
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    if condition is not None:
        condition = tf.convert_to_tensor(condition)
    batch = x.shape[0]
    weights = _random_weights(model, seed)
    maps = []
    for t in steps:
        with tf.GradientTape() as tape:
            tape.watch(x)
            params = model(x, condition)
            params_t = model.params_at(params, tf.fill([batch], t))
            scalar = tf.reduce_sum(params_t * weights)
        grads = np.abs(tape.gradient(scalar, x).numpy()).astype(np.float64)
        maps.append(grads.max(axis=0))
    return np.stack(maps)


def causality_violations(model, maps, steps):
    """Count inputs at sampling steps >= t that step t reads (should be 0)."""
    order = model.event_step_index
    return int(sum(np.count_nonzero(m[order >= t]) for m, t in zip(maps, steps)))


def random_inputs(model, num_images=8, seed=0):
    """`num_images` random level images and matching random conditions."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, model.num_levels - 1, size=(num_images,) + model.image_shape)
    condition = None
    if model.num_classes is not None:
        condition = rng.integers(0, model.num_classes, size=num_images).astype(np.int32)
    elif model.condition_shape is not None:
        condition = rng.normal(size=(num_images,) + model.condition_shape).astype(np.float32)
    return x.astype(np.float32), condition


def audit_position(model, row, col, channel=0, x=None, condition=None, seed=0):
    """Audit the step that draws sub-pixel (row, col, channel).

    Returns a dict with the step, the `[H, W, C]` dependency map, the
    boolean map of earlier inputs it reads, of later inputs it reads (must
    be empty), and of earlier inputs it does not read (its blind spot within
    the image, together with what lies outside the receptive field).
    """
    height, width, channels = model.image_shape
    if not (0 <= row < height and 0 <= col < width and 0 <= channel < channels):
        raise ValueError(
            f"Position (row={row}, col={col}, channel={channel}) is outside the "
            f"image {list(model.image_shape)}."
        )
    t = int(model.event_step_index[row, col, channel])
    if x is None:
        x, condition = random_inputs(model, seed=seed)
    dmap = dependency_maps(model, x, condition, [t], seed)[0]
    order = model.event_step_index
    reads = dmap > 0
    return {
        "step": t,
        "step_mask": order == t,
        "map": dmap,
        "reads_earlier": reads & (order < t),
        "reads_later": reads & (order >= t),
        "unread_earlier": ~reads & (order < t),
    }


def sequence_dependency_maps(model, x, condition=None, steps=None, seed=0):
    """`dependency_maps` for a model of flat events (audio, text, vectors):
    `[len(steps), N]`, the gradient of the parameters at position t.

    Args:
      model: a model whose `call` maps `[K, N]` events to `[K, N, P]` params.
      x: `[K, N]` events as floats (levels between integers keep the one-hot
        hat encoding differentiable), K example sequences.
      condition: their condition, or None.
      steps: positions to audit (default: all).
    """
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    steps = list(range(x.shape[1])) if steps is None else [int(s) for s in steps]
    maps = []
    for t in steps:
        with tf.GradientTape() as tape:
            tape.watch(x)
            params_t = model(x, condition)[:, t]
            weights = tf.random.stateless_normal(params_t.shape[-1:], seed=[seed, 1])
            scalar = tf.reduce_sum(params_t * weights)
        maps.append(np.abs(tape.gradient(scalar, x).numpy()).astype(np.float64).max(axis=0))
    return np.stack(maps)


def audit_sequence_step(model, step, x, condition=None, order=None, seed=0):
    """Audit sampling step `step` of a model of flat events `[K, N]`.

    Args:
      model: the model (`call`: `[K, N]` -> `[K, N, P]`, position-aligned).
      step: the sampling step to audit.
      x: `[K, N]` example events as floats.
      condition: their condition, or None.
      order: `[N]` the sampling step of each position (default: position i
        is step i, as in audio and text; RNADE draws its dimensions in its
        `ordering`).

    Returns:
      A dict like `audit_position`'s over `[N]` positions, plus
      `receptive_field`: how many steps back the earliest read input lies.
    """
    num_positions = int(np.shape(x)[1])
    order = np.arange(num_positions) if order is None else np.asarray(order)
    if not 0 <= step < num_positions:
        raise ValueError(f"step {step} is outside the {num_positions} steps audited (0 ... {num_positions - 1}).")
    position = int(np.flatnonzero(order == step)[0])
    dmap = sequence_dependency_maps(model, x, condition, [position], seed)[0]
    reads = dmap > 0
    earlier_read = order[reads & (order < step)]
    return {
        "step": int(step),
        "step_mask": order == step,
        "map": dmap,
        "reads_earlier": reads & (order < step),
        "reads_later": reads & (order >= step),
        "unread_earlier": ~reads & (order < step),
        "receptive_field": int(step - earlier_read.min()) if earlier_read.size else 0,
    }


def audit_receptive_field(model, length, condition=None, num_sequences=8, seed=0):
    """What the network reads, measured: for every step t of a random
    sequence of `length` samples, the earliest and latest input it depends on.

    Returns a dict: `violations` (inputs at or after t that step t reads; 0
    for a causal model) and `receptive_field` (the most past samples any step
    reads, to compare with `model.receptive_field`).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, model.num_levels - 1, size=(num_sequences, length)).astype(np.float32)
    maps = sequence_dependency_maps(model, x, condition, seed=seed)
    violations, widest = 0, 0
    for t, dmap in enumerate(maps):
        violations += int(np.count_nonzero(dmap[t:]))
        earlier = np.flatnonzero(dmap[:t])
        if earlier.size:
            widest = max(widest, t - int(earlier.min()))
    return {"violations": violations, "receptive_field": widest, "maps": maps}

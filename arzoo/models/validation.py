"""Checks of user input that name what was expected and what was given."""

import numpy as np
import tensorflow as tf


def check_rows(name, condition, batch):
    """Every tensor of the condition nest has `batch` rows (when `batch` is given)."""
    if batch is None:
        return
    for tensor in tf.nest.flatten(condition):
        if tensor is not None and tensor.shape.rank and tensor.shape[0] is not None and tensor.shape[0] != batch:
            raise ValueError(f"{name} has {tensor.shape[0]} rows but {batch} samples were asked for.")


def check_levels(x, num_levels, name="x", where=None):
    """Eagerly: `x`'s values (where the bool `where` is true, if given) are
    integers in [0, num_levels), or a ValueError naming what is wrong."""
    if not tf.executing_eagerly():
        return
    values = x.numpy()
    if where is not None:
        values = values[where.numpy()]
    if x.dtype.is_floating:
        if np.isnan(values).any():
            raise ValueError(f"{name} contains NaN; expected integer levels in [0, {num_levels}).")
        if values.size and not np.all(values == np.round(values)):
            raise ValueError(
                f"{name} has non-integer values (e.g. {values[values != np.round(values)].flat[0]}); "
                f"expected integer levels in [0, {num_levels})."
            )
    if values.size and (values.min() < 0 or values.max() >= num_levels):
        raise ValueError(
            f"{name} has values in [{values.min()}, {values.max()}] but levels must "
            f"lie in [0, {num_levels}) (num_levels={num_levels})."
        )


def check_images(x, image_shape, num_levels, name="x", where=None):
    """Validate a batch of images `[B, H, W, C]` of levels in `[0, num_levels)`.

    Shape and dtype are checked always (statically); values (NaN, range,
    integrality) when running eagerly, only where the bool tensor `where` is
    true when it is given. Returns an int32 tensor (entries not checked are
    cast as they are: the caller replaces them).
    """
    x = tf.convert_to_tensor(x)
    expected = (None,) + tuple(image_shape)
    if x.shape.rank != 4:
        raise ValueError(
            f"{name} must have rank 4 [batch, height, width, channels] with "
            f"per-example shape {tuple(image_shape)}; got shape {tuple(x.shape)}."
        )
    for axis, label in ((1, "height"), (2, "width"), (3, "channels")):
        got = x.shape[axis]
        if got is not None and got != expected[axis]:
            raise ValueError(
                f"{name} has {label} {got} but the model expects {expected[axis]} "
                f"(image_shape={list(image_shape)}); got shape {tuple(x.shape)}."
            )
    if not (x.dtype.is_integer or x.dtype.is_floating):
        raise ValueError(f"{name} must be integer levels; got dtype {x.dtype.name}.")
    check_levels(x, num_levels, name, where)
    return tf.cast(x, tf.int32)


def check_condition(condition, num_classes, condition_shape):
    """Validate a condition against the model's conditioning arguments."""
    if num_classes is None and condition_shape is None:
        if condition is not None:
            raise ValueError(
                "This model is unconditional (num_classes=None, condition_shape=None) "
                "but a condition was given."
            )
        return None
    if condition is None:
        wanted = (
            f"class labels [batch] in [0, {num_classes})"
            if num_classes is not None
            else f"a condition of shape [batch] + {list(condition_shape)}"
        )
        raise ValueError(f"This model is conditional: pass condition=..., {wanted}.")
    condition = tf.convert_to_tensor(condition)
    if num_classes is not None:
        if condition.shape.rank != 1 or not condition.dtype.is_integer:
            raise ValueError(
                f"condition must be integer class labels of shape [batch]; got "
                f"shape {tuple(condition.shape)} and dtype {condition.dtype.name}."
            )
        if tf.executing_eagerly():
            values = condition.numpy()
            if values.size and (values.min() < 0 or values.max() >= num_classes):
                raise ValueError(
                    f"condition has labels in [{values.min()}, {values.max()}]; "
                    f"allowed: [0, {num_classes}) (num_classes={num_classes})."
                )
        condition = tf.cast(condition, tf.int32)
    else:
        expected = tuple(condition_shape)
        if tuple(condition.shape[1:]) != expected:
            raise ValueError(
                f"condition must have shape [batch] + {list(expected)}; got "
                f"{tuple(condition.shape)}."
            )
        if tf.executing_eagerly() and np.isnan(condition.numpy()).any():
            raise ValueError("condition contains NaN.")
        condition = tf.cast(condition, tf.float32)
    return condition

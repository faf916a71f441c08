"""Checks of user input that name what was expected and what was given."""

import numpy as np
import tensorflow as tf


def check_finite(name, values):
    """A ValueError naming `name` if `values` (an array) holds NaN or inf:
    a non-finite code or feature gives NaN densities, or the same sample
    whatever the seed, without any error."""
    values = np.asarray(values)
    if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
        bad = values[~np.isfinite(values)]
        raise ValueError(
            f"{name} contains {bad.size} non-finite value(s) (e.g. {bad.flat[0]}); every value must be finite."
        )


def check_rows(name, condition, batch):
    """Every tensor of the condition nest has `batch` rows (when `batch` is given)."""
    if batch is None:
        return
    for tensor in tf.nest.flatten(condition):
        if tensor is not None and tensor.shape.rank and tensor.shape[0] is not None and tensor.shape[0] != batch:
            raise ValueError(f"{name} has {tensor.shape[0]} rows but {batch} samples were asked for.")


def check_not_empty(x, name="x"):
    """A ValueError for a batch of zero events (the exported signatures refuse it too)."""
    if x.shape.rank and x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)}): give at least one event.")


def check_levels(x, num_levels, name="x", where=None):
    """Eagerly: `x`'s values (where the bool `where` is true, if given) are
    integers in [0, num_levels), or a ValueError naming what is wrong."""
    if not tf.executing_eagerly():
        return
    values = x.numpy()
    if where is not None:
        values = values[where.numpy()]
    if x.dtype.is_floating:
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or inf; expected integer levels in [0, {num_levels}).")
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
    check_not_empty(x, name)
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
        if tf.executing_eagerly():
            check_finite("condition", condition.numpy())
        condition = tf.cast(condition, tf.float32)
    return condition


AUDIO_CONDITION_KEYS = ("speaker", "features")


def split_audio_condition(condition, num_speakers, local_channels, hop_length, length=None):
    """An audio model's condition -> (speaker ids `[B]` int32 or None,
    features `[B, F, local_channels]` float32 or None), validated (values
    checked when running eagerly).

    Args:
      condition: None, speaker ids, features, or {"speaker": ..., "features": ...}
        (both, for a model with both).
      num_speakers: the model's speakers, or None.
      local_channels: the model's feature channels, or None.
      hop_length: samples per feature frame.
      length: if given, the number of samples the features must cover.
    """
    speaker = features = None
    if isinstance(condition, dict):
        unknown = sorted(set(condition) - set(AUDIO_CONDITION_KEYS))
        if unknown:
            raise ValueError(f"Unknown condition keys {unknown}; allowed: {', '.join(AUDIO_CONDITION_KEYS)}.")
        speaker, features = condition.get("speaker"), condition.get("features")
    elif condition is not None:
        if num_speakers and local_channels:
            raise ValueError(
                "This model takes a speaker id and local features: pass "
                "condition={'speaker': [B] ints, 'features': [B, frames, "
                f"{local_channels}] floats}}."
            )
        if num_speakers:
            speaker = condition
        elif local_channels:
            features = condition
        else:
            raise ValueError("This model is unconditional (num_speakers=None, local_channels=None) but a condition was given.")
    if num_speakers and speaker is None:
        raise ValueError(f"This model is conditioned on a speaker: pass speaker ids [B] in [0, {num_speakers}).")
    if local_channels and features is None:
        raise ValueError(
            f"This model is conditioned on local features: pass features [B, frames, {local_channels}] "
            f"(one frame per hop_length={hop_length} samples)."
        )
    if speaker is not None:
        if not num_speakers:
            raise ValueError("This model has no speaker conditioning (num_speakers=None) but a speaker was given.")
        speaker = tf.convert_to_tensor(speaker)
        if speaker.shape.rank != 1 or not speaker.dtype.is_integer:
            raise ValueError(
                f"speaker must be integer ids of shape [batch]; got shape {tuple(speaker.shape)} "
                f"and dtype {speaker.dtype.name}."
            )
        if tf.executing_eagerly():
            ids = speaker.numpy()
            if ids.size and (ids.min() < 0 or ids.max() >= num_speakers):
                bad = ids[(ids < 0) | (ids >= num_speakers)][0]
                raise ValueError(
                    f"Unknown speaker id {bad}; this model knows speakers 0 ... {num_speakers - 1} "
                    f"(num_speakers={num_speakers})."
                )
        speaker = tf.cast(speaker, tf.int32)
    if features is not None:
        if not local_channels:
            raise ValueError("This model has no local conditioning (local_channels=None) but features were given.")
        features = tf.convert_to_tensor(features)
        if features.shape.rank != 3 or features.shape[-1] != local_channels:
            raise ValueError(
                f"features must have shape [batch, frames, {local_channels}]; got {tuple(features.shape)}."
            )
        if not features.dtype.is_floating:
            raise ValueError(f"features must be floats; got dtype {features.dtype.name}.")
        if tf.executing_eagerly():
            if not np.all(np.isfinite(features.numpy())):
                raise ValueError("features contain NaN or infinite values.")
            if length is not None and features.shape[1] * hop_length < length:
                raise ValueError(
                    f"features have {features.shape[1]} frames, which cover {features.shape[1] * hop_length} "
                    f"samples at hop_length={hop_length}, but {length} samples were asked for; "
                    f"give at least {-(-length // hop_length)} frames."
                )
        features = tf.cast(features, tf.float32)
    return speaker, features

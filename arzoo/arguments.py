"""Checks of constructor and function arguments, shared by models and layers
(no TensorFlow here): each names the argument, what was given and what is
allowed."""

import numpy as np


def int_at_least(name, value, minimum):
    """`value` as an int >= `minimum`, or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}.")
    return int(value)


def fraction_below_one(name, value):
    """`value` as a float in [0, 1) (a dropout rate), or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {name}={value!r}.")
    return float(value)


def optional_int_at_least(name, value, minimum):
    """None, or `value` as an int >= `minimum`."""
    return None if value is None else int_at_least(name, value, minimum)


def one_of(name, value, allowed):
    """`value` if it is among `allowed`, else a ValueError listing them."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; allowed: {', '.join(map(str, allowed))}.")
    return value


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def fits_int32(name, values):
    """`values` (an int or an array of ints) unchanged if every one fits
    int32, else a ValueError naming the first that does not: a cast to int32
    would wrap it silently (seed 2**32 + 5 drawing what seed 5 draws)."""
    array = np.asarray(values)
    if array.dtype.kind not in "iu" or array.size == 0:
        return values
    if array.dtype.itemsize < 4 or (array.dtype.kind == "i" and array.dtype.itemsize == 4):
        return values
    outside = array[(array < INT32_MIN) | (array > INT32_MAX)]
    if outside.size:
        raise ValueError(
            f"{name} holds {int(outside.flat[0])}, which does not fit int32: every value must lie in "
            f"[{INT32_MIN}, {INT32_MAX}]."
        )
    return values

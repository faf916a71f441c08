"""What both of the server's front ends (gRPC and REST) check before a
signature runs, and how its failures are worded.

A request's inputs are checked against the served SignatureDef: the aliases
(none missing, none extra), then each input's dtype and shape, like TF
Serving's PreProcessPrediction, so a bad request is INVALID_ARGUMENT with a
message that names the input, never a failure deep inside the graph.
"""

import re

import grpc
import numpy as np
import tensorflow as tf

_STATUS_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class RequestError(Exception):
    """A request the server answers with a status other than OK (a
    `grpc.StatusCode`; the REST front end maps it to TF Serving's HTTP code)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message):
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, message)


def check_aliases(signature, sent):
    """The sent input aliases must be exactly the signature's (TF Serving's wording)."""
    expected, sent = set(signature.inputs), set(sent)
    if sent == expected:
        return
    extra, missing = sorted(sent - expected), sorted(expected - sent)
    if len(sent) == len(expected):
        raise invalid(
            f"input tensor alias not found in signature: {', '.join(extra)}. "
            f"Inputs expected to be in the set {{{','.join(sorted(expected))}}}."
        )
    raise invalid(
        f"input size does not match signature: {len(sent)}!={len(expected)} "
        f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
        f"Sent extra: {{{','.join(extra)}}}. Missing but required: {{{','.join(missing)}}}."
    )


def arrays_from_tensor_protos(signature, request_inputs, max_bytes=None, max_rows=None):
    """gRPC: {alias: TensorProto} -> {alias: array}, checked against the signature.

    A TensorProto's content may be shorter than its declared shape (one
    `int_val` fills a tensor of any size), so the declared shape is checked
    before anything is decoded: against the signature, its bytes against
    `max_bytes` (RESOURCE_EXHAUSTED) and its first dimension against
    `max_rows` (the export's max_batch_size, INVALID_ARGUMENT).
    """
    check_aliases(signature, request_inputs)
    arrays = {}
    for alias in sorted(signature.inputs):
        info, proto = signature.inputs[alias], request_inputs[alias]
        want = tf.dtypes.as_dtype(info.dtype)
        if proto.dtype != info.dtype:
            raise invalid(
                f"input '{alias}' has dtype {dtype_name(proto.dtype)} but the signature expects {want.name}."
            )
        check_declared_size(alias, proto, info, max_bytes, max_rows)
        try:
            array = tf.make_ndarray(proto)
        except Exception as err:  # malformed TensorProto content
            raise invalid(f"input '{alias}' is not a valid {want.name} TensorProto: {err}") from None
        check_shape(alias, array.shape, info.tensor_shape)
        arrays[alias] = array
    return arrays


def check_declared_size(alias, proto, info, max_bytes=None, max_rows=None):
    """Refuse a TensorProto from its declared shape alone (nothing decoded)."""
    if proto.tensor_shape.unknown_rank:
        raise invalid(f"input '{alias}' has an unknown rank; give its shape.")
    declared = [d.size for d in proto.tensor_shape.dim]
    if any(size < 0 for size in declared):
        raise invalid(f"input '{alias}' declares shape {declared}: every dimension must be >= 0.")
    check_shape(alias, declared, info.tensor_shape)
    if max_bytes is not None:
        itemsize = tf.dtypes.as_dtype(info.dtype).size
        size = int(np.prod(declared, dtype=object)) * itemsize
        if size > max_bytes:
            raise RequestError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"input '{alias}' declares shape {declared} ({size} bytes as "
                f"{tf.dtypes.as_dtype(info.dtype).name}), over the server's limit of {max_bytes} bytes "
                "(--max_request_bytes): send fewer rows per request.",
            )
    check_rows(alias, declared, max_rows)


def check_rows(alias, shape, max_rows):
    """Dimension 0 (the batch) of `shape` against the export's max_batch_size."""
    if max_rows is not None and shape and shape[0] > max_rows:
        raise invalid(
            f"input '{alias}' has batch size {shape[0]} (shape {list(shape)}), over this export's "
            f"max_batch_size {max_rows}: send at most {max_rows} rows per request."
        )


def array_from_json(alias, value, info, max_rows=None):
    """REST: one input's JSON value (nested lists of numbers) -> an array of
    the signature's dtype. JSON has no dtypes, so the signature's is used, as
    TF Serving does; integers are required for integer inputs."""
    want = tf.dtypes.as_dtype(info.dtype)
    if isinstance(value, dict):
        raise invalid(
            f"input '{alias}' is a JSON object {sorted(value)[:5]}; give it as (nested lists of) numbers "
            "(binary {\"b64\": ...} values are for string inputs, which these signatures do not have)."
        )
    try:
        raw = np.asarray(value)
    except ValueError as err:  # ragged lists
        raise invalid(f"input '{alias}' is not a rectangular array of numbers: {err}") from None
    if raw.dtype == object:
        raise invalid(f"input '{alias}' is not a rectangular array of numbers (its rows differ in length).")
    if raw.size == 0:  # JSON cannot say the shape of an empty list's rows
        raise invalid(f"input '{alias}' is empty: a request needs at least one row (batch size >= 1).")
    if raw.dtype.kind not in "biuf":
        what = "strings" if raw.dtype.kind in "US" else f"{raw.dtype} values"
        raise invalid(f"input '{alias}' holds {what}, not numbers.")
    if want.is_integer:
        if raw.dtype.kind not in "iu":
            raise invalid(f"input '{alias}' must hold integers (the signature expects {want.name}), got {raw.dtype.name} values.")
        if raw.size and (raw.min() < want.min or raw.max() > want.max):
            raise invalid(f"input '{alias}' holds values outside {want.name}'s range [{want.min}, {want.max}].")
    elif want.is_floating and raw.dtype.kind == "b":
        raise invalid(f"input '{alias}' must hold numbers (the signature expects {want.name}), got true/false.")
    array = raw.astype(want.as_numpy_dtype)
    check_shape(alias, array.shape, info.tensor_shape)
    check_rows(alias, array.shape, max_rows)
    return array


def dtype_name(enum_value):
    try:
        return tf.dtypes.as_dtype(enum_value).name
    except TypeError:
        return f"<invalid dtype {enum_value}>"


def check_shape(alias, shape, tensor_shape):
    if tensor_shape.unknown_rank:
        return
    want = [d.size for d in tensor_shape.dim]
    matches = len(shape) == len(want) and all(w < 0 or w == s for w, s in zip(want, shape))
    if not matches:
        shown = ", ".join("None" if w < 0 else str(w) for w in want)
        raise invalid(f"input '{alias}' has shape {list(shape)} but the signature expects [{shown}].")


def output_aliases(signature, output_filter):
    """The outputs a request asks for: all (sorted), or `output_filter`'s."""
    if not output_filter:
        return sorted(signature.outputs)
    seen = set()
    for alias in output_filter:
        if alias not in signature.outputs:
            raise invalid(
                f"output tensor alias not found in signature: {alias} Outputs expected "
                f"to be in the set {{{','.join(sorted(signature.outputs))}}}."
            )
        if alias in seen:
            raise invalid(f"duplicate output tensor alias: {alias}")
        seen.add(alias)
    return list(output_filter)


def grpc_code(err):
    """The gRPC status of a `tf.errors.OpError` (TF's codes are gRPC's)."""
    return _STATUS_BY_NUMBER.get(err.error_code, grpc.StatusCode.INTERNAL)


_NOISE = ("Graph execution error", "Detected at node", "<stack traces unavailable>")
_TRAILER = re.compile(r"\s*(\[\[\{\{.*?\}\}\]\]|\[Op:[^\]]*\])")
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def op_error_message(err):
    """A TF error's message without the graph noise; a failed assertion
    becomes `assertion failed: <its message> (<its condition>)`."""
    lines = []
    for line in str(err.message).replace("\\'", "'").splitlines():
        line = _TRAILER.sub("", line).strip()
        if not line or line.startswith(_NOISE):
            continue
        if line.startswith("assertion failed:"):
            parts = _BRACKETED.findall(line)
            if parts:
                condition = f" ({parts[1].rstrip(':')})" if len(parts) > 1 else ""
                line = f"assertion failed: {parts[0]}{condition}"
        lines.append(line)
    return "\n".join(lines[:3]) or str(err.message)[:2000] or type(err).__name__


def as_request_error(err):
    """Any exception a request raised -> RequestError (unexpected ones INTERNAL)."""
    if isinstance(err, RequestError):
        return err
    if isinstance(err, tf.errors.OpError):
        return RequestError(grpc_code(err), op_error_message(err))
    return RequestError(grpc.StatusCode.INTERNAL, f"{type(err).__name__}: {err}")

"""TF Serving warmup records: `assets.extra/tf_serving_warmup_requests`.

TF Serving replays this file (a TFRecord of `tensorflow.serving.PredictionLog`,
at most 1,000 records) when it loads a version, before it marks the version
AVAILABLE, so the first user request does not pay the graph's
initialisation (or, for an XLA export, its compilation). A record that does
not parse, or a request that fails, fails the version's load.

`export_model` writes one `PredictLog` per signature at batch 1, and `sample`
at the export's largest batch; an XLA export's `sample` at every batch bucket
its compiled loop runs at (`batch_buckets`), at the model's default length
for a sequence model (XLA compiles per length; a portable graph does not, so
its records use a short one). The inputs are valid but arbitrary (level 0,
seed rows 0..B-1, temperature 1, label 0, zero features); `step` starts from
`initial_state`'s answer.

`arzoo serve` replays the file the same way (`replay_warmup`): before the
version is AVAILABLE, logging how long it took; a bad file fails that
version's load with an error naming the file and the record.
"""

import os

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from arzoo.serving.protocol import STATE_PREFIX
from arzoo.serving.signatures import batch_buckets, flatten_state

WARMUP_FOLDER = "assets.extra"
WARMUP_FILENAME = "tf_serving_warmup_requests"
WARMUP_PATH = os.path.join(WARMUP_FOLDER, WARMUP_FILENAME)
MAX_WARMUP_RECORDS = 1000  # TF Serving reads no more
# Portable exports warm their sequence signatures on this many steps at most.
PORTABLE_WARMUP_STEPS = 16


class WarmupError(ValueError):
    """A warmup file that cannot be replayed: names the file and the record."""


def warmup_length(module):
    """The steps a sequence model's warmup requests ask for (None for fixed-size events)."""
    if module.max_length is None:
        return None
    length = module.model.sample_length
    if not module.xla:
        length = min(length, PORTABLE_WARMUP_STEPS)
    return min(length, module.max_length)


def example_inputs(module, input_names, batch):
    """Valid inputs `{name: array}` of `batch` rows for a signature taking `input_names`."""
    model, events = module.model, module.events
    length = warmup_length(module)
    condition = events.serving_example_condition(batch, length)
    event_shape = [batch, *model.event_shape] if length is None else [batch, length]
    values = dict(condition)
    values.update(
        seed=np.stack([np.arange(batch), np.zeros(batch)], axis=1).astype(np.int32),
        temperature=np.ones([batch], np.float32),
        x=np.zeros(event_shape, model.values_dtype.as_numpy_dtype),
        known_mask=np.zeros(event_shape, np.int32),
        inputs_t=np.zeros([batch, model.values_per_step], model.values_dtype.as_numpy_dtype),
    )
    if length is not None:
        values["length"] = np.full([batch], length, np.int32)
    if model.latent_dim is not None:
        values["code"] = np.zeros([batch, model.latent_dim], np.float32)
    if any(name.startswith(STATE_PREFIX) for name in input_names):
        condition_inputs = {name: tf.constant(array) for name, array in condition.items()}
        state = module._initial_state({"seed": tf.constant(values["seed"]), **condition_inputs})
        values.update({name: tensor.numpy() for name, tensor in state.items()})
    missing = sorted(set(input_names) - set(values))
    if missing:
        raise ValueError(f"No warmup value for the inputs {missing} of {type(model).__name__}'s export.")
    return {name: values[name] for name in input_names}


def warmup_logs(module, signatures, model_name):
    """[PredictionLog]: every signature at batch 1, `sample` at the larger
    batches (see the module's docstring)."""
    sample_batches = batch_buckets(module.max_batch_size) if module.xla else sorted({1, module.max_batch_size})
    runs = [(name, 1) for name in sorted(signatures)]
    runs += [("sample", batch) for batch in sample_batches if batch > 1]
    logs = []
    for name, batch in runs:
        input_names = [spec.name for spec in signatures[name].structured_input_signature[0]]
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name
        request.model_spec.signature_name = name
        for key, array in example_inputs(module, input_names, batch).items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(array))
        logs.append(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request)))
    if len(logs) > MAX_WARMUP_RECORDS:
        raise ValueError(f"{len(logs)} warmup records; TF Serving reads at most {MAX_WARMUP_RECORDS}.")
    return logs


def write_warmup_records(export_dir, logs):
    """Write `logs` as `<export_dir>/assets.extra/tf_serving_warmup_requests`."""
    os.makedirs(os.path.join(export_dir, WARMUP_FOLDER), exist_ok=True)
    path = os.path.join(export_dir, WARMUP_PATH)
    with tf.io.TFRecordWriter(path) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


def read_warmup_records(export_dir):
    """The PredictionLogs of a version's warmup file ([] if it has none);
    a WarmupError naming the file and the record if one is unreadable."""
    path = os.path.join(export_dir, WARMUP_PATH)
    if not os.path.exists(path):
        return []
    logs = []
    records = iter(tf.data.TFRecordDataset(path))
    index = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except tf.errors.OpError as err:
            raise WarmupError(f"{path}: record {index} is not a readable TFRecord ({err.message})") from None
        log = prediction_log_pb2.PredictionLog()
        try:
            log.ParseFromString(record.numpy())
        except Exception as err:  # google.protobuf.message.DecodeError
            raise WarmupError(f"{path}: record {index} is not a tensorflow.serving.PredictionLog ({err})") from None
        if log.WhichOneof("log_type") != "predict_log":
            raise WarmupError(
                f"{path}: record {index} is a {log.WhichOneof('log_type') or 'empty'} log; "
                "arzoo serve replays predict_log records only."
            )
        logs.append(log)
        index += 1
        if index > MAX_WARMUP_RECORDS:
            raise WarmupError(f"{path}: more than {MAX_WARMUP_RECORDS} records (TF Serving's limit).")
    return logs

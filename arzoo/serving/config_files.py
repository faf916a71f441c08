"""TF Serving's config files: `models.config` and `batching.config`."""

import os

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from arzoo.files import atomic_write_bytes


def read_model_config(path):
    """The ModelServerConfig in a `models.config` text proto (empty if absent)."""
    config = model_server_config_pb2.ModelServerConfig()
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder; a models.config is a text file (TF Serving's ModelServerConfig).")
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        try:
            text_format.Parse(text, config)
        except text_format.ParseError as err:
            raise ValueError(
                f"{path} is not a valid TF Serving models.config (ModelServerConfig text proto): {err}"
            ) from None
    return config


def update_model_config(path, name, base_path):
    """Add or update `name` -> `base_path` in `models.config`, atomically."""
    config = read_model_config(path)
    entries = config.model_config_list.config
    for entry in entries:
        if entry.name == name:
            break
    else:
        entry = entries.add()
        entry.name = name
    entry.base_path = os.path.abspath(base_path)
    entry.model_platform = "tensorflow"
    atomic_write_bytes(path, text_format.MessageToString(config).encode())
    return config


def write_batching_config(path, max_batch_size, batch_timeout_micros=2000, num_batch_threads=2):
    """A `--batching_parameters_file` for tensorflow_model_server (BatchingParameters)."""
    text = (
        f"max_batch_size {{ value: {int(max_batch_size)} }}\n"
        f"batch_timeout_micros {{ value: {int(batch_timeout_micros)} }}\n"
        f"max_enqueued_batches {{ value: 100 }}\n"
        f"num_batch_threads {{ value: {int(num_batch_threads)} }}\n"
        "pad_variable_length_inputs: false\n"
    )
    atomic_write_bytes(path, text.encode())

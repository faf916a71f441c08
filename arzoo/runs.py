"""Opening what `arzoo train` wrote: a run folder, a .keras file or a config."""

import dataclasses
import os

import keras
import yaml

from arzoo.config import build_model, load_config, resolve_config, validate_config
from arzoo.files import atomic_write_bytes

CONFIG_FILENAME = "config.yaml"
MODEL_FILENAME = "model.keras"


@dataclasses.dataclass
class Run:
    """A model and, when known, the validated config it was trained with."""

    model: keras.Model
    config: dict = None
    path: str = None


def config_to_raw(config):
    """A validated config back to plain YAML-able dicts."""
    return {
        "model": dict(config["model"]),
        "data": dataclasses.asdict(config["data"]),
        "training": dataclasses.asdict(config["training"]),
    }


def save_run_config(output_dir, config):
    """Write the resolved config of a run as `output_dir/config.yaml`, atomically."""
    text = yaml.safe_dump(config_to_raw(config), sort_keys=False)
    atomic_write_bytes(os.path.join(output_dir, CONFIG_FILENAME), text.encode())


def open_run(path, overrides=()):
    """A `Run` from a run folder (config.yaml + model.keras), a `.keras` file
    (no config), or a config YAML (a freshly initialised model)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        model_path = os.path.join(path, MODEL_FILENAME)
        config_path = os.path.join(path, CONFIG_FILENAME)
        if not os.path.exists(model_path):
            raise FileNotFoundError(
                f"{path} has no {MODEL_FILENAME}: is it a finished `arzoo train` output folder?"
            )
        config = load_config(config_path, overrides) if os.path.exists(config_path) else None
        return Run(load_model(model_path), config, path)
    if path.endswith(".keras"):
        return Run(load_model(path), None, path)
    if path.endswith((".yaml", ".yml")):
        config = resolve_config(load_config(path, overrides))
        return Run(build_model(config), config, path)
    raise ValueError(
        f"Cannot open {path!r}: give a run folder, a .keras file or a config .yaml."
    )


def load_model(path):
    """`keras.models.load_model` with a clear error for a missing or corrupt file."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    try:
        return keras.models.load_model(path, safe_mode=True)
    except Exception as err:  # zip, h5 and config errors all mean: unusable file
        raise ValueError(
            f"Cannot load the model at {path!r} ({type(err).__name__}: {err}). "
            "Is it a complete .keras file written by arzoo?"
        ) from err


__all__ = ["Run", "open_run", "save_run_config", "config_to_raw", "validate_config"]

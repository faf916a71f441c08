"""Opening what `arzoo train` wrote: a run folder, a .keras file or a config."""

import dataclasses
import os
import sys

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
    raw = {
        "model": dict(config["model"]),
        "data": dataclasses.asdict(config["data"]),
        "training": dataclasses.asdict(config["training"]),
    }
    for section in ("distillation", "export"):
        if config.get(section) is not None:
            raw[section] = dataclasses.asdict(config[section])
    return raw


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
        model = load_model(model_path)
        if config is not None:
            model = reconcile_with_config(model, config["model"], config_path, model_path)
        return Run(model, config, path)
    if path.endswith(".keras"):
        return Run(load_model(path), None, path)
    if path.endswith((".yaml", ".yml")):
        config = resolve_config(load_config(path, overrides))
        return Run(build_model(config), config, path)
    raise ValueError(
        f"Cannot open {path!r}: give a run folder, a .keras file or a config .yaml."
    )


def _plain(value):
    """Lists and tuples alike, for comparing a YAML value with get_config's."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def reconcile_with_config(model, section, config_path, model_path):
    """The trained `model` as the run's config.yaml `section` describes it.

    An edit of config.yaml (or a `--set model.KEY=...`) was silently ignored
    before: the model came from model.keras alone. Now a key the family lists
    in `settable_after_training` (PixelVAE's iw_samples) is applied, the
    trained weights kept; any other disagreement is a ValueError naming each
    key and both values (the weights were trained with model.keras's)."""
    saved = model.get_config()
    family = section.get("family")
    if family is not None and family != getattr(type(model), "family", family):
        raise ValueError(
            f"{config_path} says model.family={family!r} but {model_path} holds a {type(model).family!r} "
            "model: the two files are not of one run."
        )
    section = {k: v for k, v in section.items() if k != "family"}
    if all(k in saved and _plain(v) == _plain(saved[k]) for k, v in section.items()):
        return model  # the usual case, without building anything
    # Shorthand keys (WaveNet's num_stacks for its dilations) are compared
    # through the model the section describes.
    described = type(model).from_config(section).get_config()
    differ = {k: described[k] for k in described
              if k not in ("name", "trainable", "dtype") and _plain(described[k]) != _plain(saved.get(k))}
    if not differ:
        return model
    fixed = sorted(k for k in differ if k not in type(model).settable_after_training)
    if fixed:
        listed = "; ".join(f"model.{k} is {differ[k]!r} there but {saved.get(k)!r} in model.keras" for k in fixed)
        settable = ", ".join(type(model).settable_after_training) or "none"
        raise ValueError(
            f"{config_path} disagrees with the trained {model_path}: {listed}. The weights were trained with "
            f"model.keras's values: restore them in config.yaml, or train a new run with the new ones "
            f"(keys a trained {type(model).family} takes new values of: {settable})."
        )
    rebuilt = type(model).from_config({**saved, **differ})
    rebuilt.set_weights(model.get_weights())
    print("arzoo: from " + config_path + ": " + ", ".join(f"model.{k}={v!r}" for k, v in sorted(differ.items()))
          + " (model.keras has " + ", ".join(f"{saved.get(k)!r}" for k in sorted(differ)) + ").",
          file=sys.stderr, flush=True)
    return rebuilt


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

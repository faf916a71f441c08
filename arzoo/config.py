"""Experiment configs: YAML with `model`, `data` and `training` sections.

`model` holds `family` plus that family's constructor arguments, so a config
is exactly what `build_model` passes to the class. `data` and `training` are
the dataclasses below. Unknown keys and bad values are rejected with the key,
the value and what is allowed.
"""

import copy
import dataclasses
import os
import typing
from typing import Optional

import yaml

from arzoo.models.registry import constructor_arguments, get_model_class, list_models

SECTIONS = ("model", "data", "training", "distillation", "export")
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


class ConfigError(ValueError):
    """A config key or value that is not allowed."""


@dataclasses.dataclass
class DataConfig:
    """Where the images or audio come from and how they are batched.

    `dataset` is an offline builder (`digits`, `fashion_mnist_local`,
    `image_folder`; `speech_corpus`, `wav_folder` for audio; `fortunes`,
    `python_stdlib`, `text_folder` for text) or any TFDS name (`mnist`,
    `cifar10`, ...; `ljspeech`, `vctk`, ... for audio; `tiny_shakespeare`).
    """

    dataset: str = "digits"
    batch_size: int = 32
    eval_batch_size: Optional[int] = None
    binarize: Optional[str] = None
    binarize_seed: int = 0
    data_dir: Optional[str] = None
    image_folder: Optional[str] = None
    image_size: Optional[list] = None
    channels: Optional[int] = None
    train_split: str = "train"
    test_split: str = "test"
    max_test_examples: Optional[int] = None
    shuffle_seed: int = 0
    # Real-valued models of images (spatial_lstm, mcgsm, rnade): subtract each
    # dequantized image's per-channel mean (the BSDS300 protocol of 8x8
    # patches); the image models then take zero_mean: true, RNADE's
    # flattened vectors drop the last pixel (it is minus the sum of the rest).
    remove_mean: bool = False
    # Audio (WaveNet): training clips of this many samples, cut at random
    # from every recording; a folder of WAVs for dataset=wav_folder; the
    # analysis window of the log-mel features of local conditioning (default
    # 4 x the model's hop_length: longer windows blur what the features say
    # about each hop).
    clip_length: Optional[int] = None
    wav_folder: Optional[str] = None
    feature_frame_length: Optional[int] = None
    # Text (Char-RNN): training windows of this many characters; a folder of
    # .txt files for dataset=text_folder.
    sequence_length: Optional[int] = None
    text_folder: Optional[str] = None


@dataclasses.dataclass
class TrainingConfig:
    """The training loop's settings."""

    steps: int = 1000
    learning_rate: float = 1e-3
    # Multiply the learning rate by this every step (PixelCNN++: 0.999995), or None.
    learning_rate_decay: Optional[float] = None
    strategy: str = "default"
    num_devices: Optional[int] = None
    tpu: Optional[str] = None
    checkpoint_every: int = 200
    log_every: int = 50
    eval_every: int = 0
    sample_every: int = 0
    num_samples: int = 16
    ema_decay: Optional[float] = None
    grad_clip_norm: Optional[float] = None
    jit_compile: bool = False
    seed: int = 0
    # Stop after this many seconds of training (a CPU budget), whatever `steps`.
    max_seconds: Optional[float] = None


@dataclasses.dataclass
class DistillationConfig:
    """`arzoo distill`'s losses (Parallel WaveNet, ClariNet): an optional
    section; see `arzoo.training.distillation`."""

    # The teacher run (a folder or .keras file); `arzoo distill` records it here.
    teacher: Optional[str] = None
    kl_weight: float = 1.0
    # Monte-Carlo samples of x_t per step for a KL without a closed form
    # (a logistic-mixture teacher, or a logistic student).
    kl_samples: int = 8
    # ClariNet's lambda: (log s_student - log s_teacher)^2 per step (a Gaussian teacher).
    log_scale_weight: float = 4.0
    # Parallel WaveNet's power loss: squared difference of the mean STFT power
    # per frequency band of the student's audio and the real clip's.
    power_weight: float = 1.0
    stft_frame_length: int = 512
    stft_frame_step: int = 128
    # Minus this times the KL to the teacher given another speaker (0: off).
    contrastive_weight: float = 0.0


@dataclasses.dataclass
class ExportConfig:
    """`arzoo export`'s settings (an optional section; the command's options
    override them); see `arzoo.serving.export_model`."""

    # Compile the sampling loops with XLA (TF Serving: --xla_cpu_compilation_enabled=true).
    xla: bool = False
    max_batch_size: int = 64
    # Sequence models: the most steps a request may ask for (default: ten seconds of audio, 10,000 characters).
    max_length: Optional[int] = None
    # Write TF Serving warmup records (assets.extra/tf_serving_warmup_requests).
    warmup: bool = True


# What a value of each annotated field type may be (YAML gives int, float,
# str, bool, list, None); an int is a float, a bool is neither.
_TYPE_CHECKS = {
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    str: ("a string", lambda v: isinstance(v, str)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    list: ("a list", lambda v: isinstance(v, list)),
}


def _check_type(section, field, value):
    annotation = field.type
    optional = typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)
    if optional:
        if value is None:
            return
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    what, check = _TYPE_CHECKS[annotation]
    if not check(value):
        allowed = f"{what} or null" if optional else what
        raise ConfigError(f"{section}.{field.name} must be {allowed}, got {value!r}.")


def _check_fields(section, cls, values):
    if not isinstance(values, dict):
        raise ConfigError(f"The {section!r} section must be a mapping of keys to values, got {values!r}.")
    names = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(
                f"Unknown key {section}.{key}; allowed keys in '{section}': "
                f"{', '.join(sorted(names))}."
            )
        _check_type(section, names[key], value)
    return cls(**values)


def _check_positive(section, obj, keys):
    """Range checks only: `_check_type` has already checked that each is a number."""
    for key in keys:
        value = getattr(obj, key)
        if value is not None and value <= 0:
            raise ConfigError(f"{section}.{key} must be a positive number, got {value!r}.")


def model_arguments(family):
    """The constructor arguments a `model:` section may hold for `family`."""
    return sorted(constructor_arguments(get_model_class(family)))


def validate_model_section(section):
    if not isinstance(section, dict) or "family" not in section:
        raise ConfigError(
            "The 'model' section must be a mapping with a 'family' key; "
            f"families: {', '.join(list_models())}."
        )
    family = section["family"]
    if family not in list_models():
        raise ConfigError(
            f"model.family={family!r} is not registered; allowed: {', '.join(list_models())}."
        )
    allowed = model_arguments(family)
    for key in section:
        if key != "family" and key not in allowed:
            raise ConfigError(
                f"Unknown key model.{key} for family {family!r}; allowed: {', '.join(allowed)}."
            )
    return dict(section)


def validate_config(config):
    """Check a config dict; return it with `data` and `training` as dataclasses."""
    if not isinstance(config, dict):
        raise ConfigError(f"A config must be a mapping, got {type(config).__name__}.")
    for key in config:
        if key not in SECTIONS:
            raise ConfigError(f"Unknown section {key!r}; allowed: {', '.join(SECTIONS)}.")
    model = validate_model_section(config.get("model"))
    data = _check_fields("data", DataConfig, config.get("data") or {})
    training = _check_fields("training", TrainingConfig, config.get("training") or {})
    distillation = None
    if config.get("distillation") is not None:
        distillation = _check_fields("distillation", DistillationConfig, config["distillation"])
        _check_positive("distillation", distillation, ["kl_samples", "stft_frame_length", "stft_frame_step"])
        for key in ("kl_weight", "log_scale_weight", "power_weight", "contrastive_weight"):
            if getattr(distillation, key) < 0:
                raise ConfigError(f"distillation.{key} must be >= 0, got {getattr(distillation, key)!r}.")
    export = None
    if config.get("export") is not None:
        export = _check_fields("export", ExportConfig, config["export"])
        _check_positive("export", export, ["max_batch_size", "max_length"])
    _check_positive("data", data, ["batch_size", "eval_batch_size", "max_test_examples", "clip_length", "feature_frame_length", "sequence_length"])
    _check_positive("training", training, ["steps", "learning_rate", "checkpoint_every", "log_every", "num_samples", "grad_clip_norm", "num_devices", "max_seconds"])
    decay = training.learning_rate_decay
    if decay is not None and not 0.0 < decay <= 1.0:
        raise ConfigError(
            f"training.learning_rate_decay must be in (0, 1] (a factor per step), "
            f"got {training.learning_rate_decay!r}."
        )
    if training.strategy not in STRATEGIES:
        raise ConfigError(
            f"training.strategy={training.strategy!r}; allowed: {', '.join(STRATEGIES)}."
        )
    if training.ema_decay is not None and not 0.0 < training.ema_decay < 1.0:
        raise ConfigError(f"training.ema_decay must lie in (0, 1), got {training.ema_decay!r}.")
    validated = {"model": model, "data": data, "training": training}
    if distillation is not None:
        validated["distillation"] = distillation
    if export is not None:
        validated["export"] = export
    return validated


def apply_overrides(raw, overrides):
    """Apply `section.key=value` strings (values parsed as YAML) to a raw config."""
    raw = copy.deepcopy(raw)
    for item in overrides or ():
        if "=" not in item:
            raise ConfigError(f"--set expects section.key=value, got {item!r}.")
        path, value = item.split("=", 1)
        parts = path.split(".")
        if len(parts) != 2 or parts[0] not in SECTIONS:
            raise ConfigError(
                f"--set key {path!r} must be section.key with section in {', '.join(SECTIONS)}."
            )
        if raw.get(parts[0]) is None:
            raw[parts[0]] = {}
        if not isinstance(raw[parts[0]], dict):
            raise ConfigError(f"--set {item!r}: the config's {parts[0]!r} section is not a mapping.")
        try:
            raw[parts[0]][parts[1]] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML: {' '.join(str(err).split())}") from None
    return raw


def read_config(path):
    """The raw (unvalidated) mapping of a YAML config file."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No config file at {path!r}.")
    if os.path.isdir(path):
        raise ConfigError(f"{path!r} is a folder; give a YAML config file, e.g. zoo_configs/digits/pixelcnn.yaml.")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (UTF-8) YAML file.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping, got {type(raw).__name__}.")
    return raw


# `ARZOO_QUICK=1`: every config loaded trains at most this many steps,
# without XLA compilation (compiling a training step takes longer than ten
# steps), and evaluates at most this many test examples. For checking that
# commands run (the docs test runs every README line with it); the figures
# mean nothing.
QUICK_ENV_VAR = "ARZOO_QUICK"
QUICK_STEPS = 10
QUICK_TEST_EXAMPLES = 16


def quick_mode():
    return os.environ.get(QUICK_ENV_VAR, "") not in ("", "0")


def _quick(config):
    training, data = config["training"], config["data"]
    return dict(
        config,
        training=dataclasses.replace(training, steps=min(training.steps, QUICK_STEPS), jit_compile=False),
        data=dataclasses.replace(data, max_test_examples=min(data.max_test_examples or QUICK_TEST_EXAMPLES,
                                                             QUICK_TEST_EXAMPLES)),
    )


def load_config(path, overrides=()):
    """Read, override (`section.key=value` strings) and validate a YAML config
    (capped for a quick check when `ARZOO_QUICK=1`)."""
    raw = apply_overrides(read_config(path), overrides)
    try:
        config = validate_config(raw)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    return _quick(config) if quick_mode() else config


def resolve_config(config):
    """A validated config with the model arguments that come from the data
    resolved (the model class's `resolve_config`), so the run's saved config
    rebuilds the same model without reading the data again."""
    section = dict(config["model"])
    resolved = get_model_class(section["family"]).resolve_config(section, config["data"])
    return config if resolved == section else dict(config, model=resolved)


def build_model(config):
    """Build the model of a config (the whole config or its `model` section)."""
    section = config["model"] if "model" in config and isinstance(config.get("model"), dict) else config
    section = validate_model_section(section)
    kwargs = {k: v for k, v in section.items() if k != "family"}
    return get_model_class(section["family"])(**kwargs)

"""arzoo: a zoo of deep autoregressive generative models for TensorFlow / Keras 3.

Entry points: `list_models()`, `load_config(path)`, `build_model(config)`.
Importing arzoo registers every model and layer with Keras (package "arzoo"),
so `keras.models.load_model("model.keras")` works after `import arzoo`.

The `arzoo` command defers that import (and TensorFlow's) until a command
runs, so `arzoo --help` answers at once: it sets `ARZOO_DEFER_IMPORTS=1`
before importing `arzoo.cli`. Anything read from arzoo then still works: the
first access to `build_model`, `load_config` or `list_models` registers
everything.
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_API = {"build_model": "arzoo.config", "load_config": "arzoo.config", "list_models": "arzoo.models.registry"}


def register():
    """Import every model, layer and likelihood, registering them with Keras
    (what `import arzoo` does unless the `arzoo` command deferred it)."""
    from arzoo import layers, likelihoods, models  # noqa: F401  (registration)


def __getattr__(name):  # PEP 562: only reached when the import was deferred
    if name not in _API:
        raise AttributeError(f"module 'arzoo' has no attribute {name!r}")
    register()
    return getattr(importlib.import_module(_API[name]), name)


if os.environ.get("ARZOO_DEFER_IMPORTS") != "1":
    register()
    from arzoo.config import build_model, load_config  # noqa: E402
    from arzoo.models.registry import list_models  # noqa: E402

__all__ = ["build_model", "list_models", "load_config", "register", "__version__"]

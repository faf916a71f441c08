"""arzoo: a zoo of deep autoregressive generative models for TensorFlow / Keras 3.

Entry points: `list_models()`, `load_config(path)`, `build_model(config)`.
Importing arzoo registers every model and layer with Keras (package "arzoo"),
so `keras.models.load_model("model.keras")` works after `import arzoo`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from arzoo import layers, likelihoods, models  # noqa: E402,F401  (registration)
from arzoo.config import build_model, load_config  # noqa: E402
from arzoo.models.registry import list_models  # noqa: E402

__version__ = "0.1.0"

__all__ = ["build_model", "list_models", "load_config", "__version__"]

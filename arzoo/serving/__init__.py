"""Serving: TF-Serving-ready export, an embedded gRPC PredictionService, a client.

Production serving is TensorFlow Serving (`tensorflow_model_server`); the
embedded server implements the same gRPC API over the same export folders for
machines where that binary is not installed, and `Client` speaks only the
public TF Serving API, so it works against either.
"""

from arzoo.serving.client import Client, ServingError
from arzoo.serving.export import existing_versions, export_model, serving_module_for
from arzoo.serving.server import Server, serve
from arzoo.serving.signatures import DEFAULT_MAX_BATCH_SIZE, ServingModule

__all__ = [
    "Client",
    "DEFAULT_MAX_BATCH_SIZE",
    "Server",
    "ServingError",
    "ServingModule",
    "existing_versions",
    "export_model",
    "serve",
    "serving_module_for",
]

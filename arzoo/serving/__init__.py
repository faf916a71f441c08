"""Export for TensorFlow Serving (signatures, versioned atomic layout)."""

from arzoo.serving.export import existing_versions, export_model
from arzoo.serving.signatures import DEFAULT_MAX_BATCH_SIZE, ServingModule

__all__ = ["DEFAULT_MAX_BATCH_SIZE", "ServingModule", "existing_versions", "export_model"]

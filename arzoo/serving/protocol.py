"""Names an export, the server and the client agree on (TF Serving's own and arzoo's)."""

# Prefix of the state tensors `initial_state` returns and `step` takes and returns.
STATE_PREFIX = "state_"
# The signature that describes an export's model (num_levels, ...).
METADATA_SIGNATURE = "metadata"
# GetModelMetadata's one metadata field (TF Serving's name).
SIGNATURE_DEF_FIELD = "signature_def"
# The signature a request without a signature_name runs, as in TF Serving.
DEFAULT_SIGNATURE = "serving_default"

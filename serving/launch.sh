#!/usr/bin/env bash
# Serve the exports listed in exports/models.config (what `arzoo export`
# keeps in its default export base; MODEL_CONFIG_FILE to change it) with
# TensorFlow Serving: the tensorflow_model_server binary if installed, else
# its Docker image; batching when exports/batching.config exists (written by
# `arzoo export --batching-config-file exports/batching.config`).
# (For development without either: `arzoo serve --model_config_file exports/models.config`.)
set -euo pipefail
config="$(realpath -m "${MODEL_CONFIG_FILE:-exports/models.config}")"
batching="$(realpath -m "${BATCHING_CONFIG_FILE:-$(dirname "$config")/batching.config}")"
grpc_port="${GRPC_PORT:-8500}"
rest_port="${REST_PORT:-8501}"
[ -f "$config" ] || { echo "no $config: run 'arzoo export' first" >&2; exit 2; }
args=(--model_config_file="$config" --file_system_poll_wait_seconds=5)
[ -f "$batching" ] && args+=(--enable_batching --batching_parameters_file="$batching")
if command -v tensorflow_model_server >/dev/null 2>&1; then
  exec tensorflow_model_server --port="$grpc_port" --rest_api_port="$rest_port" "${args[@]}"
elif command -v docker >/dev/null 2>&1; then
  # models.config holds absolute base paths: mount each at the same path.
  mounts=()
  while read -r base; do mounts+=(-v "$base:$base:ro"); done < <(sed -n 's/.*base_path: "\(.*\)".*/\1/p' "$config")
  exec docker run --rm -p "$grpc_port:8500" -p "$rest_port:8501" "${mounts[@]}" \
    -v "$(dirname "$config"):$(dirname "$config"):ro" tensorflow/serving "${args[@]}"
else
  echo "Neither tensorflow_model_server nor docker found; for development use: arzoo serve --model_config_file $config" >&2
  exit 2
fi

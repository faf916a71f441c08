#!/usr/bin/env bash
# Serve the exports listed in exports/models.config (what `arzoo export`
# keeps in its default export base; MODEL_CONFIG_FILE to change it) with
# TensorFlow Serving: the tensorflow_model_server binary if installed, else
# its Docker image; batching when exports/batching.config exists (written by
# `arzoo export --batching-config-file exports/batching.config`); XLA enabled
# (--xla_cpu_compilation_enabled=true) when an export it lists is XLA-compiled
# (`arzoo export --xla`: its graph has functions marked _XlaMustCompile).
# Without either (or with a docker program whose daemon does not answer) it
# runs `arzoo serve`, the embedded implementation, with the same flags.
set -euo pipefail
config="$(realpath -m "${MODEL_CONFIG_FILE:-exports/models.config}")"
batching="$(realpath -m "${BATCHING_CONFIG_FILE:-$(dirname "$config")/batching.config}")"
grpc_port="${GRPC_PORT:-8500}"
rest_port="${REST_PORT:-8501}"
[ -f "$config" ] || { echo "no $config: run 'arzoo export' first" >&2; exit 2; }
args=(--model_config_file="$config" --file_system_poll_wait_seconds=5)
[ -f "$batching" ] && args+=(--enable_batching --batching_parameters_file="$batching")
bases() { sed -n 's/.*base_path: "\(.*\)".*/\1/p' "$config"; }
while read -r base; do
  if grep -qs _XlaMustCompile "$base"/*/saved_model.pb; then
    args+=(--xla_cpu_compilation_enabled=true)
    break
  fi
done < <(bases)
if command -v tensorflow_model_server >/dev/null 2>&1; then
  exec tensorflow_model_server --port="$grpc_port" --rest_api_port="$rest_port" "${args[@]}"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  # models.config holds absolute base paths: mount each at the same path.
  mounts=()
  while read -r base; do mounts+=(-v "$base:$base:ro"); done < <(bases)
  exec docker run --rm -p "$grpc_port:8500" -p "$rest_port:8501" "${mounts[@]}" \
    -v "$(dirname "$config"):$(dirname "$config"):ro" tensorflow/serving "${args[@]}"
fi
# Neither TF Serving binary nor a Docker daemon that answers: arzoo's embedded
# implementation of the same APIs, over the same files and flags.
arzoo="$(command -v arzoo || true)"
[ -n "$arzoo" ] || { [ -x .venv/bin/arzoo ] && arzoo=.venv/bin/arzoo; }
if [ -z "$arzoo" ]; then
  echo "Neither tensorflow_model_server, a running Docker daemon nor arzoo found: install one (make run installs arzoo into .venv)." >&2
  exit 2
fi
reason="no tensorflow_model_server"
command -v docker >/dev/null 2>&1 && reason="$reason, and docker is installed but its daemon does not answer"
command -v docker >/dev/null 2>&1 || reason="$reason, no docker"
echo "launch.sh: $reason; serving with arzoo serve (the embedded TF Serving API) instead." >&2
exec "$arzoo" serve --port="$grpc_port" --rest_api_port="$rest_port" "${args[@]}"

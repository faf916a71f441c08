"""Runs every signature of arzoo exports with `tf.saved_model.load`, in a
process that cannot import arzoo (run by tests/serving/test_compat.py as
`python -I compat_loader.py jobs.json` from a folder outside the repository,
with compat_helpers.BLOCK_ARZOO written in front of it).

jobs.json: [{"key", "export_dir", "inputs": {signature: {name: npy path}}, "out"}].
Writes <out>/<signature>/<output>.npy and, streaming `step` from
`initial_state` over the `sample` inputs (as many steps as `sample` draws),
<out>/stream/values.npy [B, num_steps, V], params.npy [B, num_steps, P] and
positions.npy [B, num_steps].
Prints "REPORT <json>" with each export's signature names and input/output
specs, and "NO_ARZOO_OK" if arzoo was never imported.
"""

import sys

# `_NoArzoo`, the import blocker, is compat_helpers.BLOCK_ARZOO, which
# run_python_loader writes in front of this file; it exits if arzoo imports.
ARZOO_BLOCKED = "arzoo" not in sys.modules

import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def _save(folder, outputs):
    os.makedirs(folder, exist_ok=True)
    for name, value in outputs.items():
        np.save(os.path.join(folder, f"{name}.npy"), value.numpy())


# Inputs of `sample` that are not conditioning: every other one goes to `step` too.
SAMPLING_INPUTS = ("seed", "temperature", "length")


def _stream(loaded, sample_inputs, out):
    """initial_state, then `step` as many times as the `sample` signature has
    steps, feeding back `values`; then one step more, which an image (complete)
    or audio with features (all covered) must refuse."""
    cond = {k: v for k, v in sample_inputs.items() if k not in SAMPLING_INPUTS}
    seed, temperature = sample_inputs["seed"], sample_inputs["temperature"]
    step = loaded.signatures["step"]
    state = loaded.signatures["initial_state"](seed=seed, **cond)
    inputs_spec = step.structured_input_signature[1]["inputs_t"]
    values_per_step = inputs_spec.shape[1]
    samples = loaded.signatures["sample"](**sample_inputs)["samples"]
    num_steps = int(np.prod(samples.shape[1:])) // int(values_per_step)
    if "metadata" in loaded.signatures:  # an image export says (a step may draw a group of pixels)
        metadata = loaded.signatures["metadata"](seed=seed[:1])
        if "num_steps" in metadata:
            num_steps = int(metadata["num_steps"][0])
    inputs_t = tf.zeros([seed.shape[0], values_per_step], inputs_spec.dtype)
    all_values, all_params = [], []
    positions = []
    for _ in range(num_steps):
        positions.append(state["state_position"].numpy())
        result = step(inputs_t=inputs_t, seed=seed, temperature=temperature, **state, **cond)
        inputs_t = result["values"]
        all_values.append(result["values"].numpy())
        all_params.append(result["params"].numpy())
        state = {k: v for k, v in result.items() if k.startswith("state_")}
    try:
        step(inputs_t=inputs_t, seed=seed, temperature=temperature, **state, **cond)
        refused = None
    except tf.errors.InvalidArgumentError as error:
        refused = error.message[:4000]
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "values.npy"), np.stack(all_values, 1))
    np.save(os.path.join(out, "params.npy"), np.stack(all_params, 1))
    np.save(os.path.join(out, "positions.npy"), np.stack(positions, 1))
    return refused


def main(spec_path):
    assert ARZOO_BLOCKED, "arzoo is importable in the loader process"
    with open(spec_path) as f:
        jobs = json.load(f)
    report = {}
    for job in jobs:
        loaded = tf.saved_model.load(job["export_dir"])
        entry = {"signatures": sorted(loaded.signatures.keys()), "specs": {}}
        for name, fn in loaded.signatures.items():
            entry["specs"][name] = {
                "inputs": {
                    k: [v.dtype.name, v.shape.as_list()]
                    for k, v in fn.structured_input_signature[1].items()
                },
                "outputs": {
                    k: [v.dtype.name, v.shape.as_list()] for k, v in fn.structured_outputs.items()
                },
            }
        for signature, paths in job["inputs"].items():
            arrays = {name: tf.constant(np.load(path)) for name, path in paths.items()}
            outputs = loaded.signatures[signature](**arrays)
            _save(os.path.join(job["out"], signature), outputs)
        sample_inputs = {
            name: tf.constant(np.load(path)) for name, path in job["inputs"]["sample"].items()
        }
        entry["stream_refused_past_end"] = _stream(
            loaded, sample_inputs, os.path.join(job["out"], "stream")
        )
        report[job["key"]] = entry
    loaded_arzoo = [m for m in sys.modules if m == "arzoo" or m.startswith("arzoo.")]
    report["_arzoo"] = {"blocked": ARZOO_BLOCKED, "loaded": loaded_arzoo,
                        "attempts": list(_NoArzoo.attempts)}
    print("REPORT " + json.dumps(report), flush=True)
    if not loaded_arzoo and not _NoArzoo.attempts:
        print("NO_ARZOO_OK", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

"""Choosing a `tf.distribute.Strategy` by name.

| name           | strategy                                                      |
|----------------|---------------------------------------------------------------|
| "default"      | `tf.distribute.get_strategy()`: one device, no distribution   |
| "mirrored"     | `MirroredStrategy` over the local GPUs, or over logical CPU   |
|                | devices made with `configure_logical_cpus` when there is none |
| "multi_worker" | `MultiWorkerMirroredStrategy`; the cluster comes from the     |
|                | `TF_CONFIG` environment variable                              |
| "tpu"          | `TPUStrategy` through a `TPUClusterResolver`                  |

Example (data parallelism on a laptop, e.g. in a test):
```python
configure_logical_cpus(2)            # first thing, before any TensorFlow op
strategy = make_strategy("mirrored")
strategy.num_replicas_in_sync        # 2
```
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def configure_logical_cpus(num_devices):
    """Split the host CPU into `num_devices` logical devices.

    TensorFlow fixes its devices when its runtime starts (the first op, or
    `tf.config.list_logical_devices`), so call this first, before anything
    else touches TensorFlow. Calling it again with the count already in
    place is harmless.

    Args:
      num_devices: number of logical CPU devices, >= 1.

    Raises:
      ValueError: `num_devices` is not a positive integer.
      RuntimeError: TensorFlow already initialised its devices with another
        count.
    """
    if isinstance(num_devices, bool) or not isinstance(num_devices, int) or num_devices < 1:
        raise ValueError(f"num_devices must be a positive integer, got num_devices={num_devices!r}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
        )
    except RuntimeError:
        present = len(tf.config.list_logical_devices("CPU"))
        if present != num_devices:
            raise RuntimeError(
                f"configure_logical_cpus({num_devices}) came too late: TensorFlow has "
                f"already initialised {present} logical CPU device(s). Call it at the "
                "start of the process, before any TensorFlow op runs (in tests: in a "
                "fresh subprocess)."
            ) from None


def _mirrored(num_devices):
    gpus = tf.config.list_logical_devices("GPU")
    devices = gpus or tf.config.list_logical_devices("CPU")
    kind = "GPU" if gpus else "CPU"
    if num_devices is None:
        num_devices = len(devices)
    if num_devices > len(devices):
        hint = "" if gpus else " Call arzoo.training.configure_logical_cpus(n) before TensorFlow starts."
        raise ValueError(
            f"strategy 'mirrored' asked for num_devices={num_devices} but only "
            f"{len(devices)} {kind} device(s) exist: {[d.name for d in devices]}.{hint}"
        )
    return tf.distribute.MirroredStrategy([d.name for d in devices[:num_devices]])


def _multi_worker():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(
            "strategy 'multi_worker' needs the TF_CONFIG environment variable "
            '({"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
            '"index": i}}); it is not set.'
        )
    try:
        json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}): {raw!r}.") from None
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def _tpu(tpu):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as err:
        raise ValueError(f"strategy 'tpu' could not reach a TPU (tpu={tpu!r}): {err}") from err
    return tf.distribute.TPUStrategy(resolver)


def make_strategy(name, num_devices=None, tpu=None):
    """The `tf.distribute.Strategy` called `name`.

    Args:
      name: one of "default", "mirrored", "multi_worker", "tpu".
      num_devices: for "mirrored", how many local devices to use (all
        GPUs, else all logical CPUs, when None). Ignored otherwise.
      tpu: for "tpu", the TPU name or grpc address ("" or None: the local
        or environment-configured TPU).

    Returns:
      A `tf.distribute.Strategy`.

    Raises:
      ValueError: unknown name, too few devices, missing TF_CONFIG, no TPU.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; allowed: {', '.join(STRATEGIES)}.")
    if num_devices is not None and (
        isinstance(num_devices, bool) or not isinstance(num_devices, int) or num_devices < 1
    ):
        raise ValueError(f"num_devices must be a positive integer or None, got {num_devices!r}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return _mirrored(num_devices)
    if name == "multi_worker":
        return _multi_worker()
    return _tpu(tpu)


def is_chief(strategy):
    """Whether this process is the one that writes outputs.

    Under multi-worker training that is the "chief" task, or worker 0 when
    the cluster has no chief; every other strategy runs in one process.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if task_type is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and resolver.task_id == 0 and not has_chief

"""One custom training loop for every `tf.distribute` strategy.

Keras 3's `model.fit` breaks under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585), so arzoo trains with its own loop everywhere:

    config -> strategy -> (in strategy.scope()) model, Adam, step
           -> restore the newest checkpoint of output_dir, if any
           -> distribute_datasets_from_function (per-replica batches)
           -> repeat: strategy.run(replica_step) inside a tf.function
           -> checkpoints, TensorBoard scalars and samples, progress bar
           -> final checkpoint, EMA weights swapped in, model.keras

The loss is bits/dim averaged over the global batch (see `metrics`). With
`grad_clip_norm` the gradients are all-reduced first and clipped by the
global norm of the *summed* gradient (Keras would clip each replica's partial
gradient); with `ema_decay` the optimizer keeps exponential moving averages
of the weights (`use_ema`), swapped into the returned and saved model.

Example:
```python
config = arzoo.load_config("zoo_configs/tiny/gated_pixelcnn.yaml")
result = train(config, "/tmp/run", steps=20)   # again later: resumes at 20
result.step, result.bits_per_dim, result.model
```
"""

import dataclasses
import json
import os
import sys
import time
from typing import Callable, List, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from arzoo.models.base import AutoregressiveModel
from arzoo.config import DataConfig, TrainingConfig, build_model, resolve_config, validate_config
from arzoo.training import input_pipeline
from arzoo.training.checkpoints import Checkpointer
from arzoo.training.metrics import DatasetBitsPerDim, per_example_bits_per_dim
from arzoo.training.progress import ProgressBar
from arzoo.files import atomic_path
from arzoo.runs import save_run_config
from arzoo.training.strategy import is_chief, make_strategy
from arzoo.events import event_space
from arzoo.training.summaries import make_writer, write_scalars

MODEL_FILENAME = "model.keras"


@dataclasses.dataclass
class TrainResult:
    """What `train` returns.

    Attributes:
      step: the final step.
      start_step: the step training started from (> 0 after a resume).
      bits_per_dim: mean training bits/dim over the last logging window
        (None when no step ran in this call).
      test_bits_per_dim: the last evaluation (None without `eval_every`).
      wall_time: seconds spent in `train`.
      model: the trained model, EMA weights in place when EMA is on.
      history: `(step, train bits/dim)` at every logging point of this call.
      output_dir: where checkpoints, TensorBoard and model.keras went.
      num_replicas: replicas in sync (devices over all workers).
      chief: whether this process wrote `output_dir`.
      metric: the name of the training figure in the model's unit
        ("bits_per_dim" for images and vectors, "bits_per_sample" for audio,
        "bits_per_character" for text); `summary()` uses it as the key.
      window: (first, last) step of the logging window `bits_per_dim` is the
        mean over, or None.
      diagnostics: the model's last `training_diagnostics` (PixelVAE: the KL
        in nats per example), {} for models without any.
      warnings: what the model says those diagnostics show went wrong (a KL
        fallen to zero), also printed to stderr at the end of training.
    """

    step: int
    start_step: int
    bits_per_dim: Optional[float]
    test_bits_per_dim: Optional[float]
    wall_time: float
    model: keras.Model
    history: List[tuple]
    output_dir: str
    num_replicas: int = 1
    chief: bool = True
    metric: str = "bits_per_dim"
    window: Optional[tuple] = None
    diagnostics: dict = dataclasses.field(default_factory=dict)
    warnings: List[str] = dataclasses.field(default_factory=list)

    def summary(self):
        """The JSON-friendly fields (everything but the model), the training
        figure under the model's unit (`metric`) with the window it averages."""
        averaged = None
        if self.window is not None:
            first, last = self.window
            averaged = f"mean over the last logging window: steps {first}-{last} ({last - first + 1} steps)"
        return {
            "step": self.step,
            "start_step": self.start_step,
            self.metric: self.bits_per_dim,
            "averaged_over": averaged,
            f"test_{self.metric}": self.test_bits_per_dim,
            "wall_time": self.wall_time,
            "history": [list(h) for h in self.history],
            "output_dir": self.output_dir,
            "num_replicas": self.num_replicas,
            "chief": self.chief,
            **({"diagnostics": self.diagnostics} if self.diagnostics else {}),
            **({"warnings": self.warnings} if self.warnings else {}),
        }


def _validated(config):
    if isinstance(config, dict) and isinstance(config.get("data"), DataConfig) and isinstance(
        config.get("training"), TrainingConfig
    ):
        return config
    return validate_config(config)


def _check_trainable(model):
    # A model whose condition is its own code (the auto-encoder) trains on images alone.
    if getattr(model, "condition_shape", None) is not None and getattr(model, "external_conditions", True):
        raise ValueError(
            f"train() feeds class labels as the condition; a model with "
            f"condition_shape={list(model.condition_shape)} needs a dataset of "
            "conditions, which the training loop does not provide."
        )


def make_optimizer(training):
    """Adam with the config's learning rate (decayed exponentially per step
    with `learning_rate_decay`) and, with `ema_decay`, weight averages
    (Polyak averaging; the averages are what is saved and evaluated).

    Gradient clipping is not the optimizer's: `make_train_step` clips the
    all-reduced gradient itself.
    """
    kwargs = {}
    if training.ema_decay is not None:
        kwargs.update(use_ema=True, ema_momentum=training.ema_decay)
    learning_rate = training.learning_rate
    if training.learning_rate_decay is not None:
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=1, decay_rate=training.learning_rate_decay
        )
    return keras.optimizers.Adam(learning_rate=learning_rate, **kwargs)


def make_train_step(strategy, model, optimizer, step, global_batch_size, clip_norm=None, jit_compile=False):
    """A `tf.function` running one distributed step; returns the global mean bits/dim.

    Args:
      strategy: the strategy whose scope holds `model` and `optimizer`.
      model: the arzoo model.
      optimizer: a built Keras optimizer.
      step: int64 `tf.Variable`, incremented once per step.
      global_batch_size: examples per step over all replicas.
      clip_norm: clip the all-reduced gradient to this global norm, or None.
      jit_compile: XLA-compile the per-replica forward and backward pass.
    """
    variables = model.trainable_variables

    @tf.function(jit_compile=jit_compile, autograph=False)
    def loss_and_grads(batch):
        with tf.GradientTape() as tape:
            bpd = per_example_bits_per_dim(model, batch, training=True, step=step)
            # Sum over this replica's rows / global batch: the replicas' sum
            # is the mean over the global batch.
            loss = tf.reduce_sum(bpd) / global_batch_size
        return loss, tape.gradient(loss, variables)

    def replica_step(batch):
        loss, grads = loss_and_grads(batch)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        grads = [tf.convert_to_tensor(g) for g, _ in pairs]
        if clip_norm is not None:
            context = tf.distribute.get_replica_context()
            summed = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
            clipped, _ = tf.clip_by_global_norm(summed, clip_norm)
            # The optimizer sums over replicas again: give each a share.
            grads = [g / context.num_replicas_in_sync for g in clipped]
        optimizer.apply_gradients(zip(grads, [v for _, v in pairs]))
        return loss

    @tf.function(autograph=False)
    def train_step(iterator):
        losses = strategy.run(replica_step, args=(next(iterator),))
        step.assign_add(1)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    return train_step


def _build(strategy, config, setup_model=None):
    """Model, optimizer (with its slots) and step counter, all in `strategy`'s scope.

    Everything is created before a checkpoint is restored, so restoring
    fills existing variables instead of relying on deferred restoration.
    """
    with strategy.scope():
        keras.utils.set_random_seed(config["training"].seed)
        model = build_model(config)
        _check_trainable(model)
        if not model.built:
            model.build()
        if setup_model is not None:
            setup_model(model)
        optimizer = make_optimizer(config["training"])
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    return model, optimizer, step


def _make_evaluator(model, data, test_dataset=None):
    """() -> mean test bits/dim, on `test_dataset` or the config's test split."""
    if test_dataset is None:
        test_dataset = input_pipeline.load_model_split(data, data.test_split, model)
    elif callable(test_dataset):
        test_dataset = test_dataset()
    input_pipeline.check_element_spec(test_dataset, model, "test dataset")
    batches = input_pipeline.eval_dataset(
        test_dataset, data.eval_batch_size or data.batch_size, data.max_test_examples
    )
    evaluate = DatasetBitsPerDim(model)
    return lambda: evaluate(batches)


class _Window:
    """Mean loss and steps/s since the last logging point."""

    def __init__(self, step):
        self._losses, self._step, self._time = [], step, time.time()

    def add(self, loss):
        self._losses.append(loss)

    def close(self, step):
        elapsed = time.time() - self._time
        logs = {
            "bits_per_dim": float(np.mean(self._losses)),
            "steps_per_second": (step - self._step) / elapsed if elapsed > 0 else 0.0,
        }
        self._losses, self._step, self._time = [], step, time.time()
        return logs


def _diagnostics_batch(model, source_fn, batch_size):
    """(x, condition) of the first `batch_size` training examples, which the
    model's `training_diagnostics` read at every logging point; None for
    models without diagnostics."""
    if type(model).training_diagnostics is AutoregressiveModel.training_diagnostics:
        return None
    batch = next(iter(source_fn().batch(batch_size).take(1)))
    return model.inputs_from_batch(batch)


def _save_model_atomically(model, output_dir):
    path = os.path.join(output_dir, MODEL_FILENAME)
    with atomic_path(path) as temporary:  # ends in .keras, as model.save requires
        model.save(temporary)
    return path


def train(
    config,
    output_dir,
    *,
    steps=None,
    progress=True,
    callbacks: Sequence[Callable] = (),
    train_dataset=None,
    test_dataset=None,
    strategy=None,
    setup_model=None,
):
    """Train the config's model, resuming from `output_dir` when it has a checkpoint.

    Seeds Python's, NumPy's and TensorFlow's global generators with
    `training.seed` before building the model.

    Args:
      config: the dict of `arzoo.load_config` (or a raw dict with sections
        `model`, `data`, `training`, validated here).
      output_dir: where `config.yaml` (the resolved config), `checkpoints/`,
        `tensorboard/` and `model.keras` go; created once the config, the
        model and the data have been checked.
      steps: the step to train up to (overrides `training.steps`). A run
        resumed at or past it only writes the final outputs. With
        `training.max_seconds`, training also stops once that much wall time
        has passed in this call (the result's `step` says where).
      progress: show a progress bar (step, bits/dim, steps/s) on stderr.
      callbacks: callables `fn(step, logs)` called at every logging point
        (every `training.log_every` steps and at the end) on every worker;
        `logs` holds "bits_per_dim", "steps_per_second", "learning_rate",
        after an evaluation "test_bits_per_dim", and on the chief the model's
        `training_diagnostics` (PixelVAE: "kl_nats", "active_latent_dims").
      train_dataset: optional unbatched `tf.data.Dataset` of `{"image",
        "label"}` used instead of loading `data.dataset`, or a function of
        no arguments returning one. Under "multi_worker" pass a function:
        TensorFlow must not run any op before the strategy is built.
      test_dataset: likewise for evaluation (`training.eval_every`).
      strategy: an existing `tf.distribute.Strategy` to use instead of
        building `training.strategy`.
      setup_model: called with the built model inside the strategy's scope,
        before anything is restored or trained (`arzoo distill` attaches the
        teacher here).

    Returns:
      A `TrainResult`.

    Raises:
      ValueError: a bad config, a dataset that does not fit the model.
      CheckpointError: a checkpoint in `output_dir` that cannot be restored.
      FloatingPointError: the loss became NaN or infinite.
    """
    start_time = time.time()
    config = resolve_config(_validated(config))
    data, training = config["data"], config["training"]
    total_steps = training.steps if steps is None else steps
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got steps={total_steps!r}.")
    output_dir = os.fspath(output_dir)

    if training.max_seconds is not None and training.strategy == "multi_worker":
        raise ValueError(
            "training.max_seconds stops each process on its own clock, which would leave "
            "multi_worker peers waiting in a collective; use training.steps with "
            f"strategy='multi_worker' (got max_seconds={training.max_seconds})."
        )
    if strategy is None:
        strategy = make_strategy(training.strategy, training.num_devices, training.tpu)
    chief = is_chief(strategy)
    model, optimizer, step = _build(strategy, config, setup_model)
    if train_dataset is None:
        source_fn = lambda: input_pipeline.load_model_split(data, data.train_split, model, training=True)  # noqa: E731
    elif callable(train_dataset):
        source_fn = train_dataset
    else:
        source_fn = lambda: train_dataset  # noqa: E731
    input_pipeline.check_element_spec(source_fn(), model, "training dataset")
    # Everything is checked: only now is the run folder written.
    if chief:
        os.makedirs(output_dir, exist_ok=True)
        save_run_config(output_dir, config)
    checkpointer = Checkpointer(output_dir, chief=chief, model=model, optimizer=optimizer, step=step)
    restored = checkpointer.restore_latest()
    start_step = current = int(step.numpy())
    # Evaluation and samples need no collective ops, so only the chief runs them.
    evaluate = _make_evaluator(model, data, test_dataset) if training.eval_every and chief else None

    diagnosed = _diagnostics_batch(model, source_fn, min(data.batch_size, 256)) if chief else None
    diagnostics = {}
    writer = make_writer(output_dir, chief)
    bar = ProgressBar(total_steps, initial=min(start_step, total_steps), enabled=progress and chief,
                      metric=event_space(model).training_metric)
    window = _Window(current)
    window_start, last_window = current, None
    history, test_bpd = [], None
    try:
        if current < total_steps:
            # A resumed run goes on with the batches it would have seen had it
            # not stopped, so it ends on the same weights (exact resume).
            iterator = iter(input_pipeline.distributed_train_dataset(
                strategy, source_fn, data.batch_size, seed=data.shuffle_seed, skip_batches=start_step
            ))
            train_step = make_train_step(
                strategy, model, optimizer, step, data.batch_size,
                clip_norm=training.grad_clip_norm, jit_compile=training.jit_compile,
            )
        deadline = None if training.max_seconds is None else time.time() + training.max_seconds
        while current < total_steps:
            loss = float(train_step(iterator))
            current += 1
            if deadline is not None and time.time() >= deadline:
                total_steps = current  # the time budget is spent: this is the last step
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"The training loss became {loss} at step {current}; lower "
                    "training.learning_rate or set training.grad_clip_norm."
                )
            window.add(loss)
            bar.update(current, loss)
            at_end = current == total_steps
            scalars = {}
            if evaluate is not None and (current % training.eval_every == 0 or at_end):
                test_bpd = scalars["test/bits_per_dim"] = evaluate()
            if current % training.log_every == 0 or at_end:
                logs = window.close(current)
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
                if scalars:
                    logs["test_bits_per_dim"] = test_bpd
                if diagnosed is not None:
                    diagnostics = model.training_diagnostics(*diagnosed)
                    logs.update(diagnostics)
                scalars.update({f"train/{key}": value for key, value in logs.items() if key != "test_bits_per_dim"})
                history.append((current, logs["bits_per_dim"]))
                last_window = (window_start + 1, current)
                window_start = current
                for callback in callbacks:
                    callback(current, logs)
            if scalars:
                write_scalars(writer, current, scalars)
            if chief and training.sample_every and current % training.sample_every == 0:
                event_space(model).write_training_samples(writer, current, training.num_samples, training.seed, output_dir)
            if current % training.checkpoint_every == 0 and not at_end:
                checkpointer.save(current)
        bar.close()
        # The final checkpoint keeps the raw weights (the averages stay in the
        # optimizer), so a later call can go on training.
        if current != start_step or restored is None:
            checkpointer.save(current)
        if training.ema_decay is not None:
            optimizer.finalize_variable_values(model.trainable_variables)
        if chief:
            _save_model_atomically(model, output_dir)
        warnings = model.diagnostic_warnings(diagnostics) if diagnostics else []
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr, flush=True)
    finally:
        bar.close()
        writer.close()
        checkpointer.close()
    return TrainResult(
        step=current,
        start_step=start_step,
        bits_per_dim=history[-1][1] if history else None,
        test_bits_per_dim=test_bpd,
        wall_time=time.time() - start_time,
        model=model,
        history=history,
        output_dir=output_dir,
        num_replicas=strategy.num_replicas_in_sync,
        metric=event_space(model).training_metric,
        window=last_window,
        chief=chief,
        diagnostics=diagnostics,
        warnings=warnings,
    )


def print_result(result, stream=None):
    """Print `result.summary()` as one JSON line (for scripts and tests)."""
    print(json.dumps(result.summary()), file=stream, flush=True)

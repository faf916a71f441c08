"""Feeding a `tf.distribute` strategy: sharded, per-replica batched input.

Each input pipeline (one per worker) reads its own shard of the examples and
batches them at `global_batch / num_replicas_in_sync`, so one step consumes
exactly one global batch across all replicas.
"""

from arzoo.data import make_input_pipeline
from arzoo.events import event_space


def load_model_split(data, split, model, training=False):
    """The unbatched examples of one split of a `DataConfig`, in the form
    `model` trains on (its event space says which: `{"image", "label"}`,
    audio clips with speakers and features, `{"x"}` vectors, text windows)."""
    return event_space(model).load_split(data, split, training=training)


def check_element_spec(dataset, model, name="dataset"):
    """A ValueError unless `dataset`'s elements fit `model` (its event space checks)."""
    event_space(model).check_element_spec(dataset.element_spec, name)


def per_replica_batch_size(global_batch_size, num_replicas):
    """`global_batch_size / num_replicas`, or a ValueError if it does not divide."""
    if global_batch_size % num_replicas:
        raise ValueError(
            f"data.batch_size={global_batch_size} (the global batch) must be divisible by "
            f"the {num_replicas} replicas in sync."
        )
    return global_batch_size // num_replicas


def distributed_train_dataset(strategy, source_fn, global_batch_size, seed=0, skip_batches=0):
    """An endless, shuffled, distributed dataset of per-replica batches.

    The order of batches is a function of `seed` alone (each epoch's
    shuffle is derived from it), so a run resumed at step k with
    `skip_batches=k` sees the batches an uninterrupted run saw from step k
    on. Skipping reads the k batches (cheap next to training on them).

    Args:
      strategy: the `tf.distribute.Strategy`.
      source_fn: () -> unbatched `tf.data.Dataset` of examples;
        called once per input pipeline (worker).
      global_batch_size: examples per step over all replicas.
      seed: shuffle seed.
      skip_batches: batches (steps) to skip, the steps already trained.

    Returns:
      A `tf.distribute.DistributedDataset`.
    """
    per_replica_batch_size(global_batch_size, strategy.num_replicas_in_sync)

    def dataset_fn(input_context):
        batch = input_context.get_per_replica_batch_size(global_batch_size)
        ds = source_fn()
        if input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        ds = make_input_pipeline(ds, batch, shuffle=True, repeat=True, seed=seed, drop_remainder=True)
        return ds.skip(skip_batches) if skip_batches else ds

    return strategy.distribute_datasets_from_function(dataset_fn)


def eval_dataset(source, batch_size, max_examples=None):
    """A finite, unshuffled, batched dataset for evaluation."""
    if max_examples is not None:
        source = source.take(max_examples)
    return make_input_pipeline(
        source, batch_size, shuffle=False, repeat=False, drop_remainder=False
    )

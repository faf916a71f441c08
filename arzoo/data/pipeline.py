"""`make_input_pipeline`: shuffle, repeat, batch and prefetch for training."""

import tensorflow as tf

DEFAULT_SHUFFLE_BUFFER = 10_000


def make_input_pipeline(
    dataset,
    batch_size,
    *,
    shuffle=True,
    repeat=True,
    seed=0,
    drop_remainder=True,
    shuffle_buffer=DEFAULT_SHUFFLE_BUFFER,
):
    """`dataset` shuffled (seeded, reshuffled each epoch), repeated, batched, prefetched.

    Args:
      dataset: unbatched examples, e.g. from `load_dataset`.
      batch_size: examples per batch, >= 1.
      shuffle: shuffle with a buffer of `shuffle_buffer` examples.
      repeat: repeat forever (training); False for one pass (evaluation).
      seed: shuffle seed; the same seed gives the same order of batches.
      drop_remainder: drop a last, smaller batch, so batches have a static size.
      shuffle_buffer: examples held by the shuffle buffer.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be >= 1.")
    if shuffle:
        if shuffle_buffer < 1:
            raise ValueError(f"shuffle_buffer={shuffle_buffer} must be >= 1.")
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)

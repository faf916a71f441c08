"""Feeding a `tf.distribute` strategy: sharded, per-replica batched input.

Each input pipeline (one per worker) reads its own shard of the examples and
batches them at `global_batch / num_replicas_in_sync`, so one step consumes
exactly one global batch across all replicas.
"""

from arzoo.data import load_audio_dataset, load_dataset, make_input_pipeline
from arzoo.data.audio_pipeline import audio_clips


def load_split(data, split, num_levels):
    """The unbatched `{"image", "label"}` dataset of one split of a `DataConfig`."""
    return load_dataset(
        data.dataset,
        split,
        num_levels,
        binarize=data.binarize,
        binarize_seed=data.binarize_seed,
        data_dir=data.data_dir,
        image_folder=data.image_folder,
        image_size=data.image_size,
        channels=data.channels,
    )


EVAL_CLIP_SEED = 1234


def load_model_split(data, split, model, training=False):
    """The unbatched examples of one split, in the form `model` trains on:
    `{"image", "label"}` for image models, `{"x"}` for vector models (the
    real-valued sets of `arzoo.data.continuous`); for audio models one clip of
    `data.clip_length` levels from every recording, with speaker ids and, for
    local conditioning, log-mel features (at random places; the same places
    in every evaluation).
    """
    if model.modality == "image":
        return load_split(data, split, model.num_levels)
    if model.modality == "vector":
        import tensorflow as tf

        from arzoo.data.continuous import load_continuous

        return tf.data.Dataset.from_tensor_slices({"x": load_continuous(data.dataset, split)})
    if data.clip_length is None:
        raise ValueError(
            "An audio model trains on clips: set data.clip_length (samples per clip, "
            f"e.g. {model.sample_rate // 2} for half a second at {model.sample_rate} Hz)."
        )
    recordings = load_audio_dataset(
        data.dataset, split, model.sample_rate, data_dir=data.data_dir, wav_folder=data.wav_folder
    )
    return audio_clips(
        recordings,
        clip_length=data.clip_length,
        encode=model.encode_audio,
        sample_rate=model.sample_rate,
        hop_length=model.hop_length,
        num_mels=model.local_channels,
        frame_length=data.feature_frame_length or 4 * model.hop_length,
        # Clips at random places for training; for evaluation at places fixed
        # by one seed (the start of a recording is often silence).
        seed=data.shuffle_seed if training else EVAL_CLIP_SEED,
        random_crop=True,
    )


def check_element_spec(dataset, model, name="dataset"):
    """A ValueError unless `dataset` yields `{"image": [H, W, C], "label"}` fitting `model`."""
    spec = dataset.element_spec
    if model.modality == "audio":
        return _check_audio_spec(spec, model, name)
    if model.modality == "vector":
        if not isinstance(spec, dict) or "x" not in spec or tuple(spec["x"].shape) != (model.num_dims,):
            raise ValueError(
                f"The {name} must yield dicts with 'x' (float32 [{model.num_dims}]) for a "
                f"model with num_dims={model.num_dims}; got {spec}."
            )
        return None
    if not isinstance(spec, dict) or "image" not in spec:
        raise ValueError(
            f"The {name} must yield dicts with an 'image' key (and 'label'), got {spec}."
        )
    shape = tuple(spec["image"].shape)
    if shape != tuple(model.image_shape):
        raise ValueError(
            f"The {name} yields images of shape {shape} but the model has "
            f"image_shape={list(model.image_shape)}; set data.image_size / data.channels "
            "or the model's image_shape to match."
        )
    if model.num_classes is not None and "label" not in spec:
        raise ValueError(
            f"The model is class-conditional (num_classes={model.num_classes}) but the "
            f"{name} has no 'label'."
        )


def _check_audio_spec(spec, model, name):
    if not isinstance(spec, dict) or "audio" not in spec or spec["audio"].shape.rank != 1:
        raise ValueError(
            f"The {name} must yield dicts with 'audio' (int32 levels [T]), 'speaker' "
            f"and, for local conditioning, 'features'; got {spec}."
        )
    if model.num_speakers and "speaker" not in spec:
        raise ValueError(f"The model is conditioned on speakers but the {name} has no 'speaker'.")
    if model.local_channels:
        features = spec.get("features")
        if features is None or features.shape.rank != 2 or features.shape[-1] != model.local_channels:
            raise ValueError(
                f"The model takes local features [frames, {model.local_channels}] but the {name} "
                f"yields {features}."
            )


def per_replica_batch_size(global_batch_size, num_replicas):
    """`global_batch_size / num_replicas`, or a ValueError if it does not divide."""
    if global_batch_size % num_replicas:
        raise ValueError(
            f"data.batch_size={global_batch_size} (the global batch) must be divisible by "
            f"the {num_replicas} replicas in sync."
        )
    return global_batch_size // num_replicas


def distributed_train_dataset(strategy, source_fn, global_batch_size, seed=0):
    """An endless, shuffled, distributed dataset of per-replica batches.

    Args:
      strategy: the `tf.distribute.Strategy`.
      source_fn: () -> unbatched `tf.data.Dataset` of `{"image", "label"}`;
        called once per input pipeline (worker).
      global_batch_size: examples per step over all replicas.
      seed: shuffle seed.

    Returns:
      A `tf.distribute.DistributedDataset`.
    """
    per_replica_batch_size(global_batch_size, strategy.num_replicas_in_sync)

    def dataset_fn(input_context):
        batch = input_context.get_per_replica_batch_size(global_batch_size)
        ds = source_fn()
        if input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return make_input_pipeline(ds, batch, shuffle=True, repeat=True, seed=seed, drop_remainder=True)

    return strategy.distribute_datasets_from_function(dataset_fn)


def eval_dataset(source, batch_size, max_examples=None):
    """A finite, unshuffled, batched dataset for evaluation."""
    if max_examples is not None:
        source = source.take(max_examples)
    return make_input_pipeline(
        source, batch_size, shuffle=False, repeat=False, drop_remainder=False
    )

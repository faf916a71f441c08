"""Text datasets: documents as strings, and the fixed-length windows of
character ids a character-level model trains on.

Offline names (`TEXT_OFFLINE_NAMES`): "fortunes", "python_stdlib" and
"text_folder" (any folder of .txt files), read through the `TextCorpus`
builder; any other name is a TFDS catalogue dataset with a Text feature
(`tiny_shakespeare`, ...), downloaded on first use and failing fast offline
like the image and audio loaders.
"""

import functools
import sys

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from arzoo.data import sources
from arzoo.data.builders.text_corpus import TextCorpus, text_folder_config

TEXT_OFFLINE_NAMES = ("fortunes", "python_stdlib", "text_folder")
_TEXT_ALTERNATIVES = f"use an offline text dataset: {', '.join(TEXT_OFFLINE_NAMES)}"


def text_builder(name, *, data_dir=None, text_folder=None):
    """(builder, offline) for a text dataset name; nothing is prepared yet."""
    data_dir = sources.resolve_data_dir(data_dir)
    if text_folder is not None and name != "text_folder":
        raise ValueError(f"text_folder={text_folder!r} applies only to name='text_folder', got name={name!r}.")
    if name == "text_folder":
        if text_folder is None:
            raise ValueError("name='text_folder' needs text_folder=<a folder of .txt files>.")
        return TextCorpus(config=text_folder_config(text_folder), data_dir=data_dir), True
    if name in TEXT_OFFLINE_NAMES:
        return TextCorpus(config=name, data_dir=data_dir), True
    return sources.catalogue_builder(name, data_dir, TEXT_OFFLINE_NAMES, kind="text dataset"), False


def load_text_dataset(name, split, *, data_dir=None, text_folder=None):
    """Documents `{"text": tf.string []}` of one split (slices allowed)."""
    builder, offline = text_builder(name, data_dir=data_dir, text_folder=text_folder)
    if not sources.is_prepared(builder):
        if offline:
            sources.prepare_offline(builder)
        else:
            sources.download_catalogue(builder, name, _TEXT_ALTERNATIVES)
    features = builder.info.features
    keys = [k for k, f in features.items() if isinstance(f, tfds.features.Text)]
    if not keys:
        raise ValueError(f"The dataset {name!r} has no Text feature (features: {', '.join(features)}).")
    key = "text" if "text" in keys else keys[0]
    return builder.as_dataset(split=split).map(lambda example: {"text": example[key]})


def encode_documents(documents, vocabulary, separator="\n"):
    """All documents of a dataset as one int32 id stream, documents joined by
    `separator`; characters outside `vocabulary` map to id 0 (unknown).

    Args:
      documents: a dataset of `{"text": string}`.
      vocabulary: the model's characters; id i + 1 is `vocabulary[i]`.

    Returns:
      (ids `[N]` int32 numpy, number of unknown characters).
    """
    table = np.zeros(max(map(ord, vocabulary), default=0) + 2, np.int32)
    for i, char in enumerate(vocabulary):
        table[ord(char)] = i + 1
    pieces, unknown = [], 0
    for example in documents.as_numpy_iterator():
        codes = np.frombuffer((example["text"].decode("utf-8", "replace") + separator).encode("utf-32-le"), np.uint32)
        ids = np.where(codes < len(table), table[np.minimum(codes, len(table) - 1)], 0).astype(np.int32)
        unknown += int(np.count_nonzero(ids == 0))
        pieces.append(ids)
    return (np.concatenate(pieces) if pieces else np.zeros([0], np.int32)), unknown


def encoded_text_split(name, split, vocabulary, *, data_dir=None, text_folder=None):
    """`encode_documents` of one split, warning once about unknown characters.

    Cached per process (the training loop and evaluation read a split more
    than once, and encoding millions of characters takes seconds); the ids
    are read-only.
    """
    return _encoded_split(name, split, vocabulary, sources.resolve_data_dir(data_dir), text_folder)


@functools.lru_cache(maxsize=8)
def _encoded_split(name, split, vocabulary, data_dir, text_folder):
    documents = load_text_dataset(name, split, data_dir=data_dir, text_folder=text_folder)
    ids, unknown = encode_documents(documents, vocabulary)
    warn_unknown(unknown, len(ids), f"{name} {split}")
    ids.setflags(write=False)
    return ids


def split_characters(name, split, *, data_dir=None, text_folder=None, separator="\n"):
    """The distinct characters of one split (with the document `separator`),
    sorted by code point: a vocabulary built from the training data."""
    return _split_characters(name, split, sources.resolve_data_dir(data_dir), text_folder, separator)


@functools.lru_cache(maxsize=8)
def _split_characters(name, split, data_dir, text_folder, separator):
    documents = load_text_dataset(name, split, data_dir=data_dir, text_folder=text_folder)
    characters = set(separator)
    for example in documents.as_numpy_iterator():
        characters.update(example["text"].decode("utf-8", "replace"))
    characters.discard("\ufffd")  # the unknown character (id 0), never a vocabulary entry
    return "".join(sorted(characters))


def text_windows(ids, length, name="text"):
    """Non-overlapping windows `{"text": [length] int32}` of an id stream."""
    if len(ids) < length:
        raise ValueError(f"The {name} has {len(ids)} characters, fewer than one window of {length}.")
    count = len(ids) // length
    return tf.data.Dataset.from_tensor_slices({"text": ids[: count * length].reshape(count, length)})


def warn_unknown(unknown, total, name):
    if unknown:
        print(
            f"warning: {unknown} of {total} characters of {name} are not in the model's "
            "vocabulary and map to the unknown id 0",
            file=sys.stderr,
        )

"""Char-RNN: a character-level LSTM language model (Karpathy 2015; Graves 2013)."""

import string

import keras
import numpy as np
import tensorflow as tf

from arzoo.likelihoods import make_head
from arzoo.arguments import int_at_least
from arzoo.models.base import AutoregressiveModel
from arzoo.models.registry import register_model
from arzoo.models.sequence import SequenceEvents
from arzoo.models.validation import check_condition, check_rows

# Named vocabularies; id 0 is always the unknown character.
VOCABULARIES = {"printable": string.printable}
UNKNOWN = "\ufffd"


# The config value asking for the characters of the training split (see
# `CharRNN.resolve_config`).
FROM_TRAINING_SPLIT = "from_training_split"


def resolve_vocabulary(vocabulary):
    """A vocabulary name or a string of distinct characters -> that string."""
    if isinstance(vocabulary, str) and vocabulary in VOCABULARIES:
        return VOCABULARIES[vocabulary]
    if vocabulary == FROM_TRAINING_SPLIT:
        raise ValueError(
            f"vocabulary={FROM_TRAINING_SPLIT!r} is read from the training data when a run is configured "
            "(`arzoo train`, `arzoo.config.resolve_config(config)`); a model built on its own needs "
            "'printable' or the characters themselves."
        )
    if not isinstance(vocabulary, str) or len(vocabulary) < 1:
        raise ValueError(
            f"vocabulary must be one of {', '.join(VOCABULARIES)} or a string of distinct "
            f"characters; got {vocabulary!r}."
        )
    repeated = sorted({c for c in vocabulary if vocabulary.count(c) > 1})
    if repeated:
        raise ValueError(f"vocabulary has repeated characters {repeated!r}; each must appear once.")
    if UNKNOWN in vocabulary:
        raise ValueError(f"vocabulary must not contain {UNKNOWN!r}, the unknown character (id 0).")
    return vocabulary


def encode_text(texts, vocabulary):
    """Equally long strings -> `[B, T]` int32 ids: id i + 1 is `vocabulary[i]`,
    any other character is 0 (unknown)."""
    if isinstance(texts, (str, bytes)):  # iterating it would encode each character as a text
        raise ValueError(
            f"encode_text takes a list of strings, got a single {type(texts).__name__} {texts[:40]!r}: "
            "wrap it in a list."
        )
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        kinds = sorted({type(t).__name__ for t in texts}) or ["nothing"]
        raise ValueError(f"encode_text takes a non-empty list of strings, got {', '.join(kinds)}.")
    index = {c: i + 1 for i, c in enumerate(vocabulary)}
    lengths = {len(t) for t in texts}
    if len(lengths) != 1:
        raise ValueError(f"encode_text needs strings of one length; got lengths {sorted(lengths)}.")
    return np.array([[index.get(c, 0) for c in text] for text in texts], np.int32)


def decode_ids(ids, vocabulary):
    """`[B, T]` ids -> B strings (id 0 becomes U+FFFD, the unknown character)."""
    chars = np.array([UNKNOWN] + list(vocabulary))
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() > len(vocabulary)):
        raise ValueError(f"ids must lie in [0, {len(vocabulary)}] for a vocabulary of {len(vocabulary)} characters; "
                         f"got {ids.min()} ... {ids.max()}.")
    return ["".join(row) for row in chars[ids]]


@register_model("char_rnn")
class CharRNN(SequenceEvents, AutoregressiveModel):
    """p(c_1 ... c_T) = prod_t p(c_t | c_<t) over character ids, by a stack of LSTMs.

    Character ids: 0 is the unknown character, id i + 1 the i-th character
    of `vocabulary`, so `num_levels = len(vocabulary) + 1`. The input at step
    t is c_{t-1} (a start symbol at t = 0) as a one-hot vector (or an
    embedding), plus the class one-hot for a class-conditional model; the
    LSTMs' last hidden state goes through a dense layer to the logits of a
    softmax over the ids.

    Sampling: the cached path keeps every layer's (h, c) as its state, so one
    step is one LSTM cell per layer; the naive path reruns the whole prefix
    at every step. `complete` continues a prompt (a mask of ones over it).

    Args:
      vocabulary: "printable" (Python's `string.printable`, 100 characters)
        or a string of distinct characters. In a config, "from_training_split"
        builds it from the characters of the data's training split (sorted by
        code point, as Karpathy's char-rnn does; `arzoo.config.resolve_config`,
        which `arzoo train` calls, writes the characters into the run's config).
      num_layers: stacked LSTM layers.
      units: LSTM width.
      embedding_size: None for one-hot inputs (Karpathy's), else an embedding width.
      dropout: dropout between layers during training.
      num_classes: class-conditional model with this many classes, or None.
      sample_length: characters `sample()` draws when not told otherwise.

    Example:
    >>> model = CharRNN(vocabulary="ab ", num_layers=1, units=8)
    >>> ids = model.encode_text(["ab ba"])
    >>> model.log_prob(ids).shape
    TensorShape([1])
    >>> model.decode_text(model.sample(2, seed=0, length=5))[0].__len__()
    5

    References:
      [1] Karpathy (2015). The Unreasonable Effectiveness of Recurrent Neural
          Networks. karpathy.github.io/2015/05/21/rnn-effectiveness.
      [2] Graves (2013). Generating Sequences With Recurrent Neural Networks.
          arXiv:1308.0850.
      [3] Hochreiter and Schmidhuber (1997). Long Short-Term Memory. Neural
          Computation 9(8).
    """

    modality = "text"
    likelihoods = ("categorical",)
    event_description = "character ids"

    def __init__(
        self,
        vocabulary="printable",
        num_layers=2,
        units=128,
        embedding_size=None,
        dropout=0.0,
        num_classes=None,
        sample_length=200,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_spec = vocabulary
        self.vocabulary = resolve_vocabulary(vocabulary)
        self.num_levels = len(self.vocabulary) + 1
        self.num_layers = int_at_least("num_layers", num_layers, 1)
        self.units = int_at_least("units", units, 1)
        self.embedding_size = None if embedding_size is None else int_at_least("embedding_size", embedding_size, 1)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1), got dropout={dropout!r}.")
        self.dropout = float(dropout)
        self.num_classes = None if num_classes is None else int_at_least("num_classes", num_classes, 1)
        self.sample_length = int_at_least("sample_length", sample_length, 1)
        self.likelihood = "categorical"
        self.head = make_head("categorical", 1, self.num_levels)
        # The start symbol is input id num_levels.
        self.embedding = (
            keras.layers.Embedding(self.num_levels + 1, self.embedding_size, name="embedding")
            if self.embedding_size
            else None
        )
        self.lstms = [
            keras.layers.LSTM(self.units, return_sequences=True, name=f"lstm{i}") for i in range(self.num_layers)
        ]
        self.dropouts = [keras.layers.Dropout(self.dropout, name=f"dropout{i}") for i in range(self.num_layers)]
        self.output_logits = keras.layers.Dense(self.num_levels, name="output_logits")
        self.build()

    @classmethod
    def resolve_config(cls, section, data):
        """`vocabulary: from_training_split` -> the characters of `data`'s training split."""
        if section.get("vocabulary") != FROM_TRAINING_SPLIT:
            return section
        from arzoo.data.text import split_characters

        characters = split_characters(data.dataset, data.train_split, data_dir=data.data_dir,
                                      text_folder=data.text_folder)
        return dict(section, vocabulary=characters)

    # ----- text <-> ids --------------------------------------------------------

    def encode_text(self, texts):
        """A list of equally long strings -> `[B, T]` int32 ids (unknown -> 0)."""
        return encode_text(texts, self.vocabulary)

    def decode_text(self, ids):
        """`[B, T]` ids -> a list of B strings (id 0 becomes U+FFFD)."""
        return decode_ids(ids, self.vocabulary)

    # ----- the network -------------------------------------------------------

    @property
    def is_conditional(self):
        return self.num_classes is not None

    def check_condition(self, condition, batch=None, length=None):
        condition = check_condition(condition, self.num_classes, None)
        check_rows("condition", condition, batch)
        return condition

    def prepare_condition(self, condition):
        """The class one-hot `[B, num_classes]`, or None."""
        if condition is None:
            return None
        return tf.one_hot(tf.cast(condition, tf.int32), self.num_classes)

    def encode_inputs(self, ids, context):
        """Input ids `[B, T]` (the start symbol is num_levels) -> `[B, T, F]`.
        Float ids go through a hat function equal to the one-hot code on
        integers, so the causality audit can differentiate through it."""
        if self.embedding is not None:
            encoded = self.embedding(tf.cast(ids, tf.int32))
        elif ids.dtype.is_integer:
            encoded = tf.one_hot(ids, self.num_levels + 1)
        else:
            levels = tf.range(self.num_levels + 1, dtype=tf.float32)
            encoded = tf.nn.relu(1.0 - tf.abs(tf.cast(ids, tf.float32)[..., None] - levels))
        if context is None:
            return encoded
        if encoded.shape.rank == 3:  # a whole sequence: the class at every step
            context = tf.repeat(context[:, None], tf.shape(encoded)[1], axis=1)
        return tf.concat([encoded, context], axis=-1)

    def call(self, x, condition=None, training=False):
        """`[B, T]` ids -> `[B, T, num_levels]` logits of p(c_t | c_<t)."""
        x = tf.convert_to_tensor(x)
        if x.shape.rank == 3:
            x = x[..., 0]
        start = tf.fill(tf.stack([tf.shape(x)[0], 1]), tf.cast(self.num_levels, x.dtype))
        shifted = tf.concat([start, x[:, :-1]], axis=1)
        h = self.encode_inputs(shifted, self.prepare_condition(condition))
        for lstm, dropout in zip(self.lstms, self.dropouts):
            h = dropout(lstm(h), training=training)
        return self.output_logits(h)

    def build(self, input_shape=None):
        if self.built:
            return
        condition = tf.zeros([1], tf.int32) if self.num_classes else None
        self.call(tf.zeros([1, 2], tf.int32), condition)
        self.built = True

    # ----- likelihoods -------------------------------------------------------

    bits_per_character = SequenceEvents.bits_per_step

    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"text", "label"}`."""
        return batch["text"], (batch["label"] if self.num_classes is not None else None)

    # ----- incremental contract ----------------------------------------------

    def initial_state(self, batch_size, condition=None):
        """Position 0 and zero (h, c) for every layer."""
        zeros = lambda: tf.zeros([batch_size, self.units])  # noqa: E731
        return {
            "position": tf.zeros([batch_size], tf.int32),
            "h": [zeros() for _ in self.lstms],
            "c": [zeros() for _ in self.lstms],
        }

    def step(self, inputs_t, state, condition=None):
        """Feed c_{t-1} (`[B, 1]` int32, ignored at t = 0), get the logits of
        p(c_t | c_<t) for t = `state["position"]`: one cell per layer."""
        return self.prepared_step(inputs_t, state, self.prepare_condition(condition))

    def prepared_step(self, inputs_t, state, context, in_place=False):
        position = state["position"]
        ids = tf.where(position > 0, tf.cast(inputs_t[:, 0], tf.int32), self.num_levels)
        h = self.encode_inputs(ids, context)
        hs, cs = [], []
        for lstm, h_l, c_l in zip(self.lstms, state["h"], state["c"]):
            h, (h_new, c_new) = lstm.cell(h, [h_l, c_l])
            hs.append(h_new)
            cs.append(c_new)
        return self.output_logits(h), {"position": position + 1, "h": hs, "c": cs}

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary=self.vocabulary_spec,
            num_layers=self.num_layers,
            units=self.units,
            embedding_size=self.embedding_size,
            dropout=self.dropout,
            num_classes=self.num_classes,
            sample_length=self.sample_length,
        )
        return config

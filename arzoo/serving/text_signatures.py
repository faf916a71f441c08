"""TF-Serving-ready signatures of a text model (Char-RNN).

x is int32 character ids `[B, T]` with T free (every row of one request the
same T); id 0 is the unknown character, id i + 1 the i-th character of the
vocabulary. A class-conditional model takes `condition` `[B]` int32.

| signature | inputs | outputs |
|---|---|---|
| serving_default, log_prob | x [B,T] int32 (+ condition) | log_prob [B], bits_per_character [B] |
| sample | seed [B,2], temperature [B], length [B] int32 (+ condition) | samples [B,T] int32 |
| complete | x, known_mask [B,T] int32, seed, temperature (+ condition) | samples |
| initial_state | seed (+ condition) | state_<path> tensors |
| step | inputs_t [B,1] int32, seed, temperature, state_<path> (+ condition) | params [B,P], values [B,1], state_<path> |
| metadata | seed [B,2] | num_levels, max_length, max_batch_size, num_classes [B] int32; vocabulary [B,V] int32 (Unicode code points, index i = id i + 1) |

The vocabulary is also a SavedModel asset, `assets/vocabulary.json`
(`{"unknown_id": 0, "characters": [...]}`), so a client can encode and
decode text without arzoo. `step` draws from the same per-row uniforms as
`sample`, so streaming from `initial_state` reproduces `sample` exactly.
"""

import json
import os
import shutil
import tempfile
import weakref

import numpy as np
import tensorflow as tf

from arzoo.sampling.driver import cached_sample
from arzoo.sampling.seeds import step_uniforms
from arzoo.serving.signatures import (
    DEFAULT_MAX_BATCH_SIZE,
    ServingModule,
    flatten_state,
    state_specs,
    unflatten_state,
)

DEFAULT_MAX_LENGTH = 10_000
VOCABULARY_ASSET = "vocabulary.json"


def vocabulary_json(model):
    return json.dumps({"unknown_id": 0, "characters": list(model.vocabulary)}, ensure_ascii=False)


class TextServingModule(ServingModule):
    """The signatures of a `CharRNN`-like model (`modality == "text"`).

    Args:
      model: the model.
      max_batch_size: largest B any signature accepts.
      max_length: most characters any request may ask for or send.
    """

    def __init__(self, model, max_batch_size=DEFAULT_MAX_BATCH_SIZE, max_length=None):
        super().__init__(model, max_batch_size)
        max_length = DEFAULT_MAX_LENGTH if max_length is None else max_length
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be an integer >= 1 (characters), got {max_length!r}.")
        self.max_length = int(max_length)
        self._state_template = model.initial_state(1)
        # The asset must be a file when the module is saved; it is copied into
        # <export>/assets/, and this copy goes when the module does.
        folder = tempfile.mkdtemp(prefix="arzoo-vocabulary-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        path = os.path.join(folder, VOCABULARY_ASSET)
        with open(path, "w", encoding="utf-8") as f:
            f.write(vocabulary_json(model))
        self.vocabulary_asset = tf.saved_model.Asset(path)

    def metadata_values(self):
        model = self.model
        return {
            "num_levels": model.num_levels,
            "vocabulary": [ord(c) for c in model.vocabulary],
            "max_length": self.max_length,
            "max_batch_size": self.max_batch_size,
            "num_classes": model.num_classes or 0,
        }

    def _check_condition(self, condition):
        if condition is None:
            return []
        return self._check_ids("condition", condition, "label", "num_classes", self.model.num_classes)

    def _log_prob(self, inputs):
        x, condition = inputs["x"], inputs.get("condition")
        model = self.model
        length = tf.shape(x)[1]
        checks = self._check_batch(tf.shape(x)[0], condition=condition)
        checks += self._check_levels("x", x) + self._check_length("x", length, "characters") + self._check_condition(condition)

        def run():
            log_prob = tf.reduce_sum(model.teacher_forced_log_probs(x, condition), axis=1)
            bits = -log_prob / (tf.cast(length, tf.float32) * np.log(2.0))
            return {"log_prob": log_prob, "bits_per_character": bits}

        return self._with_checks(checks, run)

    def _generate(self, seed, temperature, condition, known, known_mask):
        uniforms = step_uniforms(seed, tf.shape(known)[1], self.model.head.num_uniforms)
        return {"samples": cached_sample(self.model, uniforms, temperature, condition, known, known_mask > 0)}

    def _complete(self, inputs):
        x, known_mask, condition = inputs["x"], inputs["known_mask"], inputs.get("condition")
        seed, temperature = inputs["seed"], inputs["temperature"]
        checks = self._check_batch(
            tf.shape(seed)[0], x=x, known_mask=known_mask, temperature=temperature, condition=condition
        )
        checks += self._check_levels("x", x) + self._check_length("x", tf.shape(x)[1], "characters")
        checks += self._check_mask(known_mask, x) + self._check_sampling(temperature) + self._check_condition(condition)

        def run():
            known = tf.where(known_mask > 0, x, tf.zeros_like(x))
            return self._generate(seed, temperature, condition, known, known_mask)

        return self._with_checks(checks, run)

    def _sample(self, inputs):
        seed, temperature, lengths = inputs["seed"], inputs["temperature"], inputs["length"]
        condition = inputs.get("condition")
        batch = tf.shape(seed)[0]
        checks = self._check_batch(batch, temperature=temperature, length=lengths, condition=condition)
        checks += self._check_sampling(temperature) + self._check_length("length", lengths, "characters")
        checks += self._check_condition(condition)
        length = tf.reduce_max(lengths)
        checks.append(
            tf.debugging.assert_equal(lengths, length, message="input 'length' must be the same in every row of a request")
        )

        def run():
            zeros = tf.zeros(tf.stack([batch, length]), tf.int32)
            return self._generate(seed, temperature, condition, zeros, zeros)

        return self._with_checks(checks, run)

    def _initial_state(self, inputs):
        seed, condition = inputs["seed"], inputs.get("condition")
        checks = self._check_batch(tf.shape(seed)[0], condition=condition) + self._check_condition(condition)
        return self._with_checks(checks, lambda: flatten_state(self.model.initial_state(tf.shape(seed)[0])))

    def _step(self, inputs):
        inputs_t, seed, temperature = inputs["inputs_t"], inputs["seed"], inputs["temperature"]
        condition = inputs.get("condition")
        state, position = self._state_inputs(inputs)
        checks = self._check_batch(
            tf.shape(seed)[0], inputs_t=inputs_t, temperature=temperature, condition=condition, **state
        )
        checks += self._check_levels("inputs_t", inputs_t) + self._check_sampling(temperature)
        checks += self._check_condition(condition)
        checks += self._check_position(position, self.max_length, f"max_length={self.max_length} (this export's limit)")

        def run():
            nest = unflatten_state(self._state_template, state)
            params_t, new_state = self.model.step(inputs_t, nest, condition)
            return self._step_outputs(params_t, new_state, seed, position, temperature)

        return self._with_checks(checks, run)

    def signatures(self):
        model = self.model
        x = tf.TensorSpec([None, None], tf.int32, name="x")
        known_mask = tf.TensorSpec([None, None], tf.int32, name="known_mask")
        seed = tf.TensorSpec([None, 2], tf.int32, name="seed")
        temperature = tf.TensorSpec([None], tf.float32, name="temperature")
        length = tf.TensorSpec([None], tf.int32, name="length")
        inputs_t = tf.TensorSpec([None, 1], tf.int32, name="inputs_t")
        condition = tf.TensorSpec([None], tf.int32, name="condition") if model.num_classes else None
        state = state_specs(self._state_template)
        log_prob = self._endpoint(self._log_prob, [x, condition])
        return {
            "serving_default": log_prob,
            "log_prob": log_prob,
            "sample": self._endpoint(self._sample, [seed, temperature, length, condition]),
            "complete": self._endpoint(self._complete, [x, known_mask, seed, temperature, condition]),
            "initial_state": self._endpoint(self._initial_state, [seed, condition]),
            "step": self._endpoint(self._step, [inputs_t, seed, temperature, *state, condition]),
            "metadata": self._metadata_endpoint(),
        }

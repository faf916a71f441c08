"""TF-Serving-ready signatures of an arzoo image model.

| signature | inputs | outputs |
|---|---|---|
| serving_default, log_prob | x [B,H,W,C] int32 (+ condition) | log_prob [B], bits_per_dim [B] |
| sample | seed [B,2] int32, temperature [B] float32 (+ condition) | samples [B,H,W,C] int32 |
| complete | x, known_mask [B,H,W,C] int32, seed, temperature (+ condition) | samples |
| initial_state | seed [B,2] (+ condition) | state_<name> tensors |
| step | inputs_t [B,V] int32, seed, temperature, state_<name> (+ condition) | params [B,P], values [B,V] int32, state_<name> |
| metadata | seed [B,2] | num_levels [B], image_shape [B,3], num_steps [B], max_batch_size [B] |

`condition` is int32 [B] class labels (num_classes models) or float32
[B] + condition_shape. `step` draws `values` from the same per-row uniforms
as `sample`, so streaming step by step from `initial_state` reproduces the
`sample` signature exactly for the same seeds.
"""

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


def _condition_spec(model):
    if model.num_classes is not None:
        return tf.TensorSpec([None], tf.int32, name="condition")
    if model.condition_shape is not None:
        return tf.TensorSpec([None, *model.condition_shape], tf.float32, name="condition")
    return None


class ImageServingModule(ServingModule):
    """The signatures of an `AutoregressiveImageModel`.

    Args:
      model: an `AutoregressiveImageModel`.
      max_batch_size: largest B any signature accepts.
    """

    def __init__(self, model, max_batch_size=DEFAULT_MAX_BATCH_SIZE):
        super().__init__(model, max_batch_size)
        self._condition_spec = _condition_spec(model)
        self._state_template = model.initial_state(1, model.dummy_condition(1))

    def metadata_values(self):
        model = self.model
        return {
            "num_levels": model.num_levels,
            "image_shape": list(model.image_shape),
            "num_steps": model.num_steps,
            "max_batch_size": self.max_batch_size,
        }

    # ----- validation --------------------------------------------------------

    def _check_condition(self, condition):
        if condition is None:
            return []
        if self.model.num_classes is not None:
            return self._check_ids("condition", condition, "label", "num_classes", self.model.num_classes)
        return [tf.debugging.assert_all_finite(condition, "input 'condition' is not finite")]

    # ----- endpoints ---------------------------------------------------------

    def _log_prob(self, inputs):
        x, condition = inputs["x"], inputs.get("condition")
        model = self.model
        checks = self._check_batch(tf.shape(x)[0], condition=condition)
        checks += self._check_levels("x", x) + self._check_condition(condition)

        def run():
            conditionals = model.head.conditional_log_probs(model(x, condition), x)
            log_prob = tf.reduce_sum(conditionals, axis=[1, 2, 3])
            dims = float(np.prod(model.image_shape))
            return {"log_prob": log_prob, "bits_per_dim": -log_prob / (dims * np.log(2.0))}

        return self._with_checks(checks, run)

    def _complete(self, inputs):
        x, known_mask, condition = inputs["x"], inputs["known_mask"], inputs.get("condition")
        seed, temperature = inputs["seed"], inputs["temperature"]
        model = self.model
        checks = self._check_batch(
            tf.shape(seed)[0], x=x, known_mask=known_mask, temperature=temperature, condition=condition
        )
        checks += self._check_levels("x", x) + self._check_sampling(temperature)
        checks += self._check_condition(condition) + self._check_mask(known_mask)

        def run():
            known = tf.where(known_mask > 0, x, tf.zeros_like(x))
            uniforms = step_uniforms(seed, model.num_steps, model.head.num_uniforms)
            samples = cached_sample(model, uniforms, temperature, condition, known, known_mask > 0)
            return {"samples": samples}

        return self._with_checks(checks, run)

    def _sample(self, inputs):
        shape = tf.concat([tf.shape(inputs["seed"])[:1], self.model.image_shape], 0)
        zeros = tf.zeros(shape, tf.int32)
        return self._complete(dict(inputs, x=zeros, known_mask=zeros))

    def _initial_state(self, inputs):
        seed, condition = inputs["seed"], inputs.get("condition")
        checks = self._check_batch(tf.shape(seed)[0], condition=condition)
        checks += self._check_condition(condition)

        def run():
            return flatten_state(self.model.initial_state(tf.shape(seed)[0], condition))

        return self._with_checks(checks, run)

    def _step(self, inputs):
        inputs_t, seed, temperature = inputs["inputs_t"], inputs["seed"], inputs["temperature"]
        condition = inputs.get("condition")
        state, position = self._state_inputs(inputs)
        model = self.model
        checks = self._check_batch(
            tf.shape(seed)[0], inputs_t=inputs_t, temperature=temperature, condition=condition, **state
        )
        checks += self._check_levels("inputs_t", inputs_t) + self._check_sampling(temperature)
        checks += self._check_condition(condition)
        checks += self._check_position(position, model.num_steps, f"num_steps={model.num_steps}: the image is complete")

        def run():
            nest = unflatten_state(self._state_template, state)
            params_t, new_state = model.step(inputs_t, nest, condition)
            return self._step_outputs(params_t, new_state, seed, position, temperature)

        return self._with_checks(checks, run)

    # ----- concrete functions ------------------------------------------------

    def signatures(self):
        model = self.model
        h, w, c = model.image_shape
        x = tf.TensorSpec([None, h, w, c], tf.int32, name="x")
        known_mask = tf.TensorSpec([None, h, w, c], tf.int32, name="known_mask")
        seed = tf.TensorSpec([None, 2], tf.int32, name="seed")
        temperature = tf.TensorSpec([None], tf.float32, name="temperature")
        inputs_t = tf.TensorSpec([None, model.head.values_per_step], tf.int32, name="inputs_t")
        state = state_specs(self._state_template)
        condition = self._condition_spec
        log_prob = self._endpoint(self._log_prob, [x, condition])
        return {
            "serving_default": log_prob,
            "log_prob": log_prob,
            "sample": self._endpoint(self._sample, [seed, temperature, condition]),
            "complete": self._endpoint(self._complete, [x, known_mask, seed, temperature, condition]),
            "initial_state": self._endpoint(self._initial_state, [seed, condition]),
            "step": self._endpoint(self._step, [inputs_t, seed, temperature, *state, condition]),
            "metadata": self._metadata_endpoint(),
        }

"""Signatures of real-valued vector models (RNADE), `modality = "vector"`.

| signature | inputs | outputs |
|---|---|---|
| serving_default, log_prob | x [B,D] float32 | log_prob [B] (nats) |
| sample | seed [B,2], temperature [B] | samples [B,D] float32 |
| complete | x [B,D], known_mask [B,D] int32 0/1, seed, temperature | samples [B,D] |
| initial_state | seed [B,2] | state_<name> tensors |
| step | inputs_t [B,1] float32, seed, temperature, state_<name> | params [B,P], values [B,1], state_<name> |
| metadata | seed [B,2] | num_dims [B], num_steps [B], max_batch_size [B] |

Step t of row b draws from the uniforms `sample` uses at t, so streaming
`step` from `initial_state` reproduces `sample` for the same seeds.
"""

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


class VectorServingModule(ServingModule):
    """The signatures of a vector model such as `arzoo.models.RNADE`."""

    def __init__(self, model, max_batch_size=DEFAULT_MAX_BATCH_SIZE):
        super().__init__(model, max_batch_size)
        self._state_template = model.initial_state(1)

    def metadata_values(self):
        return {
            "num_dims": self.model.num_dims,
            "num_steps": self.model.num_steps,
            "max_batch_size": self.max_batch_size,
        }

    def _check_finite(self, name, x, where=None):
        values = x if where is None else tf.where(where > 0, x, tf.zeros_like(x))
        return [tf.debugging.assert_all_finite(values, f"input '{name}' is not finite (NaN or inf)")]

    def _log_prob(self, inputs):
        x = inputs["x"]
        checks = self._check_batch(tf.shape(x)[0]) + self._check_finite("x", x)
        return self._with_checks(checks, lambda: {"log_prob": self.model.log_prob(x)})

    def _complete(self, inputs):
        x, known_mask = inputs["x"], inputs["known_mask"]
        seed, temperature = inputs["seed"], inputs["temperature"]
        model = self.model
        checks = self._check_batch(tf.shape(seed)[0], x=x, known_mask=known_mask, temperature=temperature)
        checks += self._check_sampling(temperature) + self._check_mask(known_mask)
        checks += self._check_finite("x", x, where=known_mask)

        def run():
            known = tf.where(known_mask > 0, x, tf.zeros_like(x))
            uniforms = step_uniforms(seed, model.num_steps, model.head.num_uniforms)
            return {"samples": cached_sample(model, uniforms, temperature, None, known, known_mask > 0)}

        return self._with_checks(checks, run)

    def _sample(self, inputs):
        zeros = tf.zeros([tf.shape(inputs["seed"])[0], self.model.num_dims])
        return self._complete(dict(inputs, x=zeros, known_mask=tf.zeros_like(zeros, tf.int32)))

    def _initial_state(self, inputs):
        seed = inputs["seed"]
        return self._with_checks(
            self._check_batch(tf.shape(seed)[0]),
            lambda: flatten_state(self.model.initial_state(tf.shape(seed)[0])),
        )

    def _step(self, inputs):
        inputs_t, seed, temperature = inputs["inputs_t"], inputs["seed"], inputs["temperature"]
        state, position = self._state_inputs(inputs)
        model = self.model
        checks = self._check_batch(tf.shape(seed)[0], inputs_t=inputs_t, temperature=temperature, **state)
        checks += self._check_sampling(temperature) + self._check_finite("inputs_t", inputs_t)
        checks += self._check_position(position, model.num_steps, f"num_steps={model.num_steps}: the vector is complete")

        def run():
            params_t, new_state = model.step(inputs_t, unflatten_state(self._state_template, state))
            return self._step_outputs(params_t, new_state, seed, position, temperature)

        return self._with_checks(checks, run)

    def signatures(self):
        dims = self.model.num_dims
        x = tf.TensorSpec([None, dims], tf.float32, name="x")
        known_mask = tf.TensorSpec([None, dims], tf.int32, name="known_mask")
        seed = tf.TensorSpec([None, 2], tf.int32, name="seed")
        temperature = tf.TensorSpec([None], tf.float32, name="temperature")
        inputs_t = tf.TensorSpec([None, 1], tf.float32, name="inputs_t")
        state = state_specs(self._state_template)
        log_prob = self._endpoint(self._log_prob, [x])
        return {
            "serving_default": log_prob,
            "log_prob": log_prob,
            "sample": self._endpoint(self._sample, [seed, temperature]),
            "complete": self._endpoint(self._complete, [x, known_mask, seed, temperature]),
            "initial_state": self._endpoint(self._initial_state, [seed]),
            "step": self._endpoint(self._step, [inputs_t, seed, temperature, *state]),
            "metadata": self._metadata_endpoint(),
        }

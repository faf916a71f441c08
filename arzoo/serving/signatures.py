"""TF-Serving-ready signatures of an arzoo model.

Every input has a leading batch dimension B (TF Serving's batcher concatenates
requests along it), every row has its own seed, and each signature validates
its inputs inside the graph, so bad input is an INVALID_ARGUMENT status, never
a crash. The whole sampling loop runs inside `sample` and `complete`.

| signature | inputs | outputs |
|---|---|---|
| serving_default, log_prob | x [B,H,W,C] int32 (+ condition) | log_prob [B], bits_per_dim [B] |
| sample | seed [B,2] int32, temperature [B] float32 (+ condition) | samples [B,H,W,C] int32 |
| complete | x, known_mask [B,H,W,C] int32, seed, temperature (+ condition) | samples |
| initial_state | seed [B,2] (+ condition) | state_<name> tensors |
| step | inputs_t [B,V] int32, seed, temperature, state_<name> (+ condition) | params [B,P], values [B,V] int32, state_<name> |

`condition` is int32 [B] class labels (num_classes models) or float32
[B] + condition_shape. `step` draws `values` from the same per-row uniforms
as `sample`, so streaming step by step from `initial_state` reproduces the
`sample` signature exactly for the same seeds.
"""

import numpy as np
import tensorflow as tf

from arzoo.sampling import SAMPLERS
from arzoo.sampling.seeds import step_uniforms

STATE_PREFIX = "state_"
DEFAULT_MAX_BATCH_SIZE = 64


def _condition_spec(model):
    if model.num_classes is not None:
        return tf.TensorSpec([None], tf.int32, name="condition")
    if model.condition_shape is not None:
        return tf.TensorSpec([None, *model.condition_shape], tf.float32, name="condition")
    return None


def flatten_state(state):
    """A state nest -> {"state_<path>": tensor}."""
    flat = {}
    for path, tensor in _paths(state):
        flat[STATE_PREFIX + path] = tensor
    return flat


def unflatten_state(template, flat):
    """{"state_<path>": tensor} -> a nest shaped like `template`."""
    paths = [path for path, _ in _paths(template)]
    return tf.nest.pack_sequence_as(template, [flat[STATE_PREFIX + p] for p in paths])


def _paths(nest):
    """(path, tensor) pairs in `tf.nest` order, path parts joined by '__'."""
    from tensorflow.python.util import nest as nest_util  # public tf.nest lacks paths

    return [
        ("__".join(str(part) for part in path), tensor)
        for path, tensor in nest_util.flatten_with_tuple_paths(nest)
    ]


class ServingModule(tf.Module):
    """Holds the model and its exported functions.

    Args:
      model: an `AutoregressiveImageModel`.
      max_batch_size: largest B any signature accepts.
    """

    def __init__(self, model, max_batch_size=DEFAULT_MAX_BATCH_SIZE):
        super().__init__(name="arzoo_serving")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}.")
        # Track the backing tf.Variables, not the Keras model: Keras variables
        # export copies of themselves, which the TF2 loader matches by object
        # but the TF1 / C++ loader (TF Serving's) never restores, so every
        # signature would read uninitialised weights there (keras-team/keras#20095).
        object.__setattr__(self, "model", model)
        self.model_variables = [v.value for v in model.variables]
        self.max_batch_size = int(max_batch_size)
        self._condition_spec = _condition_spec(model)
        self._state_template = model.initial_state(1, model.dummy_condition(1))

    # ----- validation --------------------------------------------------------

    def _check_batch(self, batch, **tensors):
        checks = [
            tf.debugging.assert_greater(batch, 0, message="the batch is empty"),
            tf.debugging.assert_less_equal(
                batch,
                self.max_batch_size,
                message=f"batch size must be <= {self.max_batch_size} (this export's max_batch_size)",
            ),
        ]
        for name, tensor in tensors.items():
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(tensor)[0], batch,
                    message=f"input '{name}' must have the same batch size as the others",
                )
            )
        return checks

    def _check_levels(self, name, x):
        return [
            tf.debugging.assert_non_negative(x, message=f"input '{name}' has a negative level"),
            tf.debugging.assert_less(
                x, self.model.num_levels,
                message=f"input '{name}' has a level >= num_levels={self.model.num_levels}",
            ),
        ]

    def _check_sampling(self, temperature):
        return [
            tf.debugging.assert_all_finite(temperature, "input 'temperature' is not finite"),
            tf.debugging.assert_positive(temperature, message="input 'temperature' must be > 0"),
        ]

    def _check_condition(self, condition):
        if condition is None:
            return []
        if self.model.num_classes is not None:
            return [
                tf.debugging.assert_non_negative(condition, message="input 'condition' has a negative label"),
                tf.debugging.assert_less(
                    condition, self.model.num_classes,
                    message=f"input 'condition' has a label >= num_classes={self.model.num_classes}",
                ),
            ]
        return [tf.debugging.assert_all_finite(condition, "input 'condition' is not finite")]

    def _with_checks(self, checks, fn):
        with tf.control_dependencies(checks):
            return fn()

    # ----- endpoints ---------------------------------------------------------

    def _log_prob(self, inputs):
        x, condition = inputs["x"], inputs.get("condition")
        model = self.model
        checks = self._check_batch(tf.shape(x)[0], **({} if condition is None else {"condition": condition}))
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
        extra = {"x": x, "known_mask": known_mask, "temperature": temperature}
        if condition is not None:
            extra["condition"] = condition
        checks = self._check_batch(tf.shape(seed)[0], **extra)
        checks += self._check_levels("x", x) + self._check_sampling(temperature)
        checks += self._check_condition(condition)
        checks += [
            tf.debugging.assert_non_negative(known_mask, message="input 'known_mask' must be 0 or 1"),
            tf.debugging.assert_less_equal(known_mask, 1, message="input 'known_mask' must be 0 or 1"),
        ]

        def run():
            known = tf.where(known_mask > 0, x, tf.zeros_like(x))
            uniforms = step_uniforms(seed, model.num_steps, model.head.num_uniforms)
            samples = SAMPLERS["cached"](model, uniforms, temperature, condition, known, known_mask)
            return {"samples": samples}

        return self._with_checks(checks, run)

    def _sample(self, inputs):
        shape = tf.concat([tf.shape(inputs["seed"])[:1], self.model.image_shape], 0)
        zeros = tf.zeros(shape, tf.int32)
        return self._complete(dict(inputs, x=zeros, known_mask=zeros))

    def _initial_state(self, inputs):
        seed, condition = inputs["seed"], inputs.get("condition")
        checks = self._check_batch(tf.shape(seed)[0], **({} if condition is None else {"condition": condition}))
        checks += self._check_condition(condition)

        def run():
            return flatten_state(self.model.initial_state(tf.shape(seed)[0], condition))

        return self._with_checks(checks, run)

    def _step(self, inputs):
        inputs_t, seed, temperature = inputs["inputs_t"], inputs["seed"], inputs["temperature"]
        condition = inputs.get("condition")
        state = {k: v for k, v in inputs.items() if k.startswith(STATE_PREFIX)}
        model = self.model
        extra = {"inputs_t": inputs_t, "temperature": temperature}
        extra.update(state)
        if condition is not None:
            extra["condition"] = condition
        checks = self._check_batch(tf.shape(seed)[0], **extra)
        checks += self._check_levels("inputs_t", inputs_t) + self._check_sampling(temperature)
        checks += self._check_condition(condition)
        position = state[STATE_PREFIX + "position"]
        checks.append(
            tf.debugging.assert_less(
                position, model.num_steps,
                message=f"state_position must be < num_steps={model.num_steps}: the image is complete",
            )
        )

        def run():
            nest = unflatten_state(self._state_template, state)
            params_t, new_state = model.step(inputs_t, nest, condition)
            uniforms = step_uniforms(seed, model.num_steps, model.head.num_uniforms)
            uniforms_t = tf.gather(uniforms, position, axis=1, batch_dims=1)
            values = model.head.step_sample(params_t, uniforms_t, temperature)
            out = {"params": params_t, "values": values}
            out.update(flatten_state(new_state))
            return out

        return self._with_checks(checks, run)

    # ----- concrete functions ------------------------------------------------

    def _endpoint(self, method, specs):
        specs = [spec for spec in specs if spec is not None]
        names = [spec.name for spec in specs]

        def endpoint(*args):
            return method(dict(zip(names, args)))

        return tf.function(endpoint, input_signature=specs).get_concrete_function()

    def signatures(self):
        """{name: concrete function} for `tf.saved_model.save`."""
        model = self.model
        h, w, c = model.image_shape
        x = tf.TensorSpec([None, h, w, c], tf.int32, name="x")
        known_mask = tf.TensorSpec([None, h, w, c], tf.int32, name="known_mask")
        seed = tf.TensorSpec([None, 2], tf.int32, name="seed")
        temperature = tf.TensorSpec([None], tf.float32, name="temperature")
        inputs_t = tf.TensorSpec([None, model.head.values_per_step], tf.int32, name="inputs_t")
        state = [
            tf.TensorSpec([None, *t.shape[1:]], t.dtype, name=name)
            for name, t in flatten_state(self._state_template).items()
        ]
        condition = self._condition_spec
        log_prob = self._endpoint(self._log_prob, [x, condition])
        return {
            "serving_default": log_prob,
            "log_prob": log_prob,
            "sample": self._endpoint(self._sample, [seed, temperature, condition]),
            "complete": self._endpoint(self._complete, [x, known_mask, seed, temperature, condition]),
            "initial_state": self._endpoint(self._initial_state, [seed, condition]),
            "step": self._endpoint(self._step, [inputs_t, seed, temperature, *state, condition]),
        }

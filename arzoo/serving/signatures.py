"""TF-Serving-ready signatures: what every modality's export shares.

Every input has a leading batch dimension B (TF Serving's batcher concatenates
requests along it), every row has its own seed, and each signature validates
its inputs inside the graph, so bad input is an INVALID_ARGUMENT status whose
message names the input, never a crash. The whole sampling loop runs inside
`sample` and `complete`; `initial_state` / `step` stream the same samples one
step per request, with the state passed in and out as `state_<path>` tensors.

The signatures of each kind of event: `image_signatures.ImageServingModule`,
`audio_signatures.AudioServingModule`, `vector_signatures.VectorServingModule`
(RNADE) and `text_signatures.TextServingModule` (Char-RNN);
`arzoo.serving.export.serving_module_for(model)` asks the model's event space (`arzoo.events`)
which. All export `metadata`: `seed` [B, 2] in (every input is batched), the
numbers a client needs to read the outputs (num_levels, ...) out, one row
per seed.
"""

import tensorflow as tf

STATE_PREFIX = "state_"
DEFAULT_MAX_BATCH_SIZE = 64


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


def state_specs(template):
    """`TensorSpec`s named `state_<path>` with a free batch dimension, for a
    state nest of batch size 1."""
    return [
        tf.TensorSpec([None, *t.shape[1:]], t.dtype, name=name)
        for name, t in flatten_state(template).items()
    ]


class ServingModule(tf.Module):
    """What every modality's exported module shares: the model's variables,
    the batch bound, validation helpers and endpoint wrapping.

    Subclasses implement `signatures()` ({name: concrete function}) and
    `metadata_values()` ({output name: int or list of ints}).

    Args:
      model: an arzoo model.
      max_batch_size: largest B any signature accepts.
    """

    def __init__(self, model, max_batch_size=DEFAULT_MAX_BATCH_SIZE):
        super().__init__(name="arzoo_serving")
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1:
            raise ValueError(f"max_batch_size must be an integer >= 1, got {max_batch_size!r}.")
        # Track the backing tf.Variables, not the Keras model: Keras variables
        # export copies of themselves, which the TF2 loader matches by object
        # but the TF1 / C++ loader (TF Serving's) never restores, so every
        # signature would read uninitialised weights there (keras-team/keras#20095).
        object.__setattr__(self, "model", model)
        self.model_variables = [v.value for v in model.variables]
        self.max_batch_size = int(max_batch_size)

    def signatures(self):
        """{name: concrete function} for `tf.saved_model.save`."""
        raise NotImplementedError

    def metadata_values(self):
        """{output name: int or list of ints}: the `metadata` signature's rows."""
        raise NotImplementedError

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
            if tensor is None:
                continue
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

    def _check_ids(self, name, ids, what, limit_name, limit):
        """ids in [0, limit): class labels, speaker ids."""
        return [
            tf.debugging.assert_non_negative(ids, message=f"input '{name}' has a negative {what}"),
            tf.debugging.assert_less(
                ids, limit, message=f"input '{name}' has a {what} >= {limit_name}={limit}",
            ),
        ]

    def _check_sampling(self, temperature):
        return [
            tf.debugging.assert_all_finite(temperature, "input 'temperature' is not finite"),
            tf.debugging.assert_positive(temperature, message="input 'temperature' must be > 0"),
        ]

    def _check_mask(self, known_mask, x=None):
        """known_mask is 0 / 1 (and, with `x` of a free shape, shaped like it)."""
        checks = [
            tf.debugging.assert_non_negative(known_mask, message="input 'known_mask' must be 0 or 1"),
            tf.debugging.assert_less_equal(known_mask, 1, message="input 'known_mask' must be 0 or 1"),
        ]
        if x is not None:
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(known_mask), tf.shape(x), message="input 'known_mask' must have the shape of 'x'"
                )
            )
        return checks

    def _check_length(self, name, length, unit):
        """1 <= length <= self.max_length (sequence modules), for a scalar or a
        vector of lengths; `unit` names what is counted ("samples")."""
        return [
            tf.debugging.assert_positive(length, message=f"input '{name}' has no {unit} (length must be >= 1)"),
            tf.debugging.assert_less_equal(
                length, self.max_length,
                message=f"input '{name}' asks for more than max_length={self.max_length} {unit} "
                "(this export's limit)",
            ),
        ]

    def _state_inputs(self, inputs):
        """(the `state_<path>` tensors of a `step` request, its `state_position`)."""
        state = {k: v for k, v in inputs.items() if k.startswith(STATE_PREFIX)}
        return state, state[STATE_PREFIX + "position"]

    def _check_position(self, position, limit, bound):
        """0 <= state_position < limit; `bound` says what the limit is."""
        return [
            tf.debugging.assert_non_negative(position, message="state_position must be >= 0"),
            tf.debugging.assert_less(position, limit, message=f"state_position must be < {bound}"),
        ]

    def _with_checks(self, checks, fn):
        with tf.control_dependencies(checks):
            return fn()

    def _step_outputs(self, params_t, new_state, seed, position, temperature):
        """The `step` signature's outputs: params, the values drawn from the
        uniforms `sample` would use at `position`, and the flattened state."""
        from arzoo.sampling.seeds import step_uniforms_at

        uniforms_t = step_uniforms_at(seed, position, self.model.head.num_uniforms)
        out = {"params": params_t, "values": self.model.head.step_sample(params_t, uniforms_t, temperature)}
        out.update(flatten_state(new_state))
        return out

    # ----- endpoints ---------------------------------------------------------

    def _metadata(self, inputs):
        seed = inputs["seed"]
        batch = tf.shape(seed)[0]

        def run():
            rows = {}
            for name, value in self.metadata_values().items():
                value = tf.constant(value, tf.int32)
                rows[name] = tf.tile(value[None], tf.concat([[batch], tf.ones_like(tf.shape(value))], 0))
            return rows

        return self._with_checks(self._check_batch(batch), run)

    def _endpoint(self, method, specs):
        specs = [spec for spec in specs if spec is not None]
        names = [spec.name for spec in specs]

        def endpoint(*args):
            return method(dict(zip(names, args)))

        return tf.function(endpoint, input_signature=specs).get_concrete_function()

    def _metadata_endpoint(self):
        return self._endpoint(self._metadata, [tf.TensorSpec([None, 2], tf.int32, name="seed")])

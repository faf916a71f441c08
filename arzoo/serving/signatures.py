"""TF-Serving-ready signatures: one module class for every kind of event.

`ServingModule(model, events)` builds the six endpoints from the model's
step contract (`initial_state`, `step`, the sampling driver) and its event
space's serving specs (`arzoo.events`: the input specs, the checks, the
condition, the metadata). `arzoo.serving.export` makes it; nothing here knows
a modality.

| signature | inputs | outputs |
|---|---|---|
| serving_default, log_prob | x (+ condition inputs) | log_prob [B] nats (+ the space's unit: bits_per_dim, bits_per_sample, bits_per_character; a bound's terms, PixelVAE: iw_bound, elbo, kl, reconstruction) |
| sample | seed [B,2] int32, temperature [B] float32 (+ length [B] for sequences) (+ condition inputs) | samples (+ audio for audio) |
| complete | x, known_mask (int32 0/1, x's shape), seed, temperature (+ condition inputs) | samples (+ audio) |
| initial_state | seed (+ condition inputs) | state_<path> tensors |
| step | inputs_t [B,V], seed, temperature, state_<path> (+ condition inputs) | params [B,P], values [B,V], state_<path> |
| metadata | seed [B,2] | what a client needs to read the outputs (num_levels, ...; a bound's export likelihood_is_exact = 0), one row per seed |
| encode (models with a code) | x | PixelVAE: mean, log_variance [B, latent_dim]; auto-encoder: code |
| decode (models with a code) | code [B, latent_dim] float32, seed, temperature | samples (the decoder's cached loop) |

x is what the event space says: images `[B, H, W, C]` int32 levels, audio
and text `[B, T]` int32 with T free (at most `max_length`), vectors `[B, D]`
float32. Every input has a leading batch dimension B (TF Serving's batcher
concatenates requests along it), every row has its own seed, and each
signature validates its inputs inside the graph, so bad input is an
INVALID_ARGUMENT status whose message names the input, never a crash. The
whole sampling loop runs inside `sample` and `complete`; `step` draws from
the same per-row uniforms as `sample`, so streaming from `initial_state`
reproduces `sample` exactly.

Portable or XLA. By default (portable) the exported loops run on TensorFlow's
kernels and write caches with `TensorStridedSliceUpdate` (`in_place=False`),
so any TF Serving loads and runs them. With `xla=True` the sampling loops of
`sample`, `complete` and `decode` run inside a `jit_compile=True` function
(caches written in place, XLA's dynamic-update-slice): as fast as in-process
sampling, but TF Serving runs it only when started with
`--xla_cpu_compilation_enabled=true` (`--xla_gpu_compilation_enabled` on
GPUs). The checks stay outside the compiled part (XLA drops `Assert`). XLA
compiles once per input shape, so the compiled loop runs on batches padded to
`batch_buckets(max_batch_size)` (powers of two, then max_batch_size; the
padded rows repeat the last row and are dropped): at most a handful of
compilations per signature, each warmed up by the export's warmup records. A
model that samples in row groups in process (PixelCNN++, PixelSNAIL, WaveNet:
`sampling_threads`) does so in its XLA export too, up to one group per CPU
core of the exporting machine: the groups are independent compiled calls
that the executor runs side by side. A sequence's length is part of the
shape too: each new length compiles once.
`log_prob`, `step`, `initial_state` and `metadata` stay portable in both (one
pass, or one step: XLA gains little there and would compile per shape).
"""

import numpy as np
import tensorflow as tf

from arzoo.sampling.driver import SAMPLERS
from arzoo.sampling.row_groups import MIN_ROWS_PER_GROUP, max_row_groups
from arzoo.sampling.seeds import step_uniforms, step_uniforms_at
from arzoo.serving.protocol import DEFAULT_SIGNATURE, STATE_PREFIX

DEFAULT_MAX_BATCH_SIZE = 64


def batch_buckets(max_batch_size):
    """The batch sizes an XLA export compiles its loops for: the powers of
    two below `max_batch_size`, then `max_batch_size` (a request of B rows
    runs padded to the smallest bucket >= B)."""
    buckets, size = [], 1
    while size < max_batch_size:
        buckets.append(size)
        size *= 2
    return buckets + [int(max_batch_size)]


def _padded_to(tensor, rows):
    """`tensor` with `rows` rows (>= its own): the last row repeated."""
    if tensor is None:
        return None
    return tf.gather(tensor, tf.minimum(tf.range(rows), tf.shape(tensor)[0] - 1))


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
    """The exported signatures of any arzoo model.

    Args:
      model: an arzoo model.
      events: its event space (`arzoo.events.event_space(model)`).
      max_batch_size: largest B any signature accepts.
      max_length: sequence models only: the most steps any request may ask
        for or send (default: the event space's, e.g. ten seconds of audio).
      xla: compile the sampling loops with XLA (see the module's docstring).
    """

    def __init__(self, model, events, max_batch_size=DEFAULT_MAX_BATCH_SIZE, max_length=None, xla=False):
        super().__init__(name="arzoo_serving")
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1:
            raise ValueError(f"max_batch_size must be an integer >= 1, got {max_batch_size!r}.")
        # Track the backing tf.Variables, not the Keras model: Keras variables
        # export copies of themselves, which the TF2 loader matches by object
        # but the TF1 / C++ loader (TF Serving's) never restores, so every
        # signature would read uninitialised weights there (keras-team/keras#20095).
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "events", events)
        self.model_variables = [v.value for v in model.variables]
        self.max_batch_size = int(max_batch_size)
        if not isinstance(xla, bool):
            raise ValueError(f"xla must be True or False, got {xla!r}.")
        self.xla = xla
        # Not tracked: the endpoints that call these are what is saved.
        object.__setattr__(self, "_compiled_samplers", {})
        self.max_length = events.serving_max_length(max_length)
        self._state_template = events.serving_state_template()
        self.assets = events.serving_assets()

    def metadata_values(self):
        """{output name: int or list of ints}: the `metadata` signature's
        rows. A bound's export adds `likelihood_is_exact` = 0 (absent: exact,
        as in every export before it), a model with a code `latent_dim`, a
        flow `flow` = 1 (its `sample` is one parallel pass, its `log_prob`
        and `step` the sequential inversion), an XLA export `xla` = 1 (its
        sampling loops need TF Serving's --xla_cpu_compilation_enabled)."""
        values = dict(self.events.serving_metadata(self))
        if self.xla:
            values["xla"] = 1
        if not self.model.likelihood_is_exact:
            values["likelihood_is_exact"] = 0
        if self.model.default_sampling_method == "parallel":
            values["flow"] = 1
        if self.model.latent_dim is not None:
            values["latent_dim"] = self.model.latent_dim
        return values

    # ----- validation helpers (the event spaces' checks use them too) -------

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

    def check_levels(self, name, x):
        """x in [0, num_levels)."""
        return [
            tf.debugging.assert_non_negative(x, message=f"input '{name}' has a negative level"),
            tf.debugging.assert_less(
                x, self.model.num_levels,
                message=f"input '{name}' has a level >= num_levels={self.model.num_levels}",
            ),
        ]

    def check_ids(self, name, ids, what, limit_name, limit):
        """ids in [0, limit): class labels, speaker ids."""
        return [
            tf.debugging.assert_non_negative(ids, message=f"input '{name}' has a negative {what}"),
            tf.debugging.assert_less(
                ids, limit, message=f"input '{name}' has a {what} >= {limit_name}={limit}",
            ),
        ]

    def check_length(self, name, length, unit):
        """1 <= length <= self.max_length, for a scalar or a vector of
        lengths; `unit` names what is counted ("samples")."""
        return [
            tf.debugging.assert_positive(length, message=f"input '{name}' has no {unit} (length must be >= 1)"),
            tf.debugging.assert_less_equal(
                length, self.max_length,
                message=f"input '{name}' asks for more than max_length={self.max_length} {unit} "
                "(this export's limit)",
            ),
        ]

    def _check_sampling(self, temperature):
        return [
            tf.debugging.assert_all_finite(temperature, "input 'temperature' is not finite"),
            tf.debugging.assert_positive(temperature, message="input 'temperature' must be > 0"),
        ]

    def _check_mask(self, known_mask, x):
        """known_mask is 0 / 1 and shaped like x."""
        return [
            tf.debugging.assert_non_negative(known_mask, message="input 'known_mask' must be 0 or 1"),
            tf.debugging.assert_less_equal(known_mask, 1, message="input 'known_mask' must be 0 or 1"),
            tf.debugging.assert_equal(
                tf.shape(known_mask), tf.shape(x), message="input 'known_mask' must have the shape of 'x'"
            ),
        ]

    def _check_position(self, position):
        """0 <= state_position < the event's steps (or the export's max_length)."""
        if self.max_length is None:
            limit = self.model.num_steps
            bound = f"num_steps={limit}: the {self.events.name} is complete"
        else:
            limit, bound = self.max_length, f"max_length={self.max_length} (this export's limit)"
        checks = [
            tf.debugging.assert_non_negative(position, message="state_position must be >= 0"),
            tf.debugging.assert_less(position, limit, message=f"state_position must be < {bound}"),
        ]
        if self.events.rows_advance_together:
            checks.append(
                tf.debugging.assert_equal(
                    position, tf.reduce_max(position),
                    message="state_position must be the same in every row (the rows of a state advance together)",
                )
            )
        return checks

    def _with_checks(self, checks, fn):
        with tf.control_dependencies(checks):
            return fn()

    def _condition_inputs(self, inputs):
        return {spec.name: inputs.get(spec.name) for spec in self.events.serving_condition_specs()}

    def _event_length(self, x):
        """x's steps for a sequence (checked against max_length), else None."""
        return None if self.max_length is None else tf.shape(x)[1]

    def _input_checks(self, batch, x=None, known_mask=None, condition_length=None, inputs=None, **others):
        """The checks every endpoint shares: the batch, x (where known), the
        length of a sequence, the mask, the condition."""
        conditions = self._condition_inputs(inputs)
        checks = self._check_batch(batch, x=x, known_mask=known_mask, **others, **conditions)
        if x is not None:
            checks += self.events.serving_event_checks(self, "x", x, known_mask)
            if self.max_length is not None:
                checks += self.check_length("x", tf.shape(x)[1], self.events.step_unit)
        if known_mask is not None:
            checks += self._check_mask(known_mask, x)
        return checks + self.events.serving_condition_checks(self, inputs, condition_length)

    # ----- endpoints ---------------------------------------------------------

    def _log_prob(self, inputs):
        x = inputs["x"]
        model, events = self.model, self.events
        checks = self._input_checks(tf.shape(x)[0], x=x, condition_length=self._event_length(x), inputs=inputs)

        def run():
            # A bound's terms come out beside it, named (PixelVAE: iw_bound, elbo, kl, reconstruction).
            outputs = dict(model.log_prob_terms(x, events.serving_condition(inputs)))
            log_prob = outputs["log_prob"]
            if events.score_output is not None:
                count = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)
                outputs[events.score_output] = -log_prob / (count * np.log(2.0))
            return outputs

        return self._with_checks(checks, run)

    def _generate(self, inputs, known, known_mask, target=None, method="cached"):
        """The sampler `method` (the cached loop, or a flow's parallel pass)
        of `target` (model, condition), default the model's
        `sampling_target` (a latent-variable model's decoder)."""
        if target is None:
            target = self.model.sampling_target(inputs["seed"], self.events.serving_condition(inputs))
        model, condition = target
        uniforms = step_uniforms(inputs["seed"], model.num_steps_of(known), model.uniforms_per_step)
        args = (uniforms, inputs["temperature"], condition, known, known_mask > 0)
        if self.xla:
            samples = self._compiled_sampler(model, method, args)
        else:
            samples = SAMPLERS[method](model, *args)
        return {"samples": samples, **self.events.serving_sample_outputs(samples)}

    def _compiled_sampler(self, model, method, args):
        """`SAMPLERS[method]` of `model` on `args` inside one `jit_compile`
        function, its rows padded to the next of `batch_buckets` (rows are
        independent: each draws from its own uniforms). A model that samples
        in row groups in process (`sampling_threads`) does so here too: the
        batch is cut into up to `row_groups` groups, one compiled call each,
        which the executor runs on its inter-op threads side by side."""
        key = (id(model), method)
        if key not in self._compiled_samplers:
            sampler = SAMPLERS[method]

            def run(uniforms, temperature, condition, known, known_mask):
                return sampler(model, uniforms, temperature, condition, known, known_mask, in_place=True)

            self._compiled_samplers[key] = tf.function(run, jit_compile=True, autograph=False)
        compiled = self._compiled_samplers[key]
        batch = tf.shape(args[0])[0]
        counts = batch_buckets(max_row_groups(model.sampling_threads))  # 1, 2, 4, ... groups
        if len(counts) == 1:
            return self._padded_call(compiled, args, 0, batch)
        # The most groups that leave each at least MIN_ROWS_PER_GROUP rows.
        fits = tf.cast(batch // tf.constant(counts, tf.int32) >= MIN_ROWS_PER_GROUP, tf.int32)
        index = tf.maximum(tf.reduce_sum(fits) - 1, 0)

        def in_groups(count):
            bounds = [(batch * i) // count for i in range(count + 1)]
            return tf.concat([self._padded_call(compiled, args, start, stop)
                              for start, stop in zip(bounds[:-1], bounds[1:])], axis=0)

        return tf.switch_case(index, [lambda count=count: in_groups(count) for count in counts])

    def _padded_call(self, compiled, args, start, stop):
        """`compiled` on rows [start, stop) of `args`, padded to a bucket."""
        rows = stop - start
        buckets = tf.constant(batch_buckets(self.max_batch_size), tf.int32)
        size = tf.gather(buckets, tf.searchsorted(buckets, rows[None]))[0]
        group = tf.nest.map_structure(lambda t: None if t is None else _padded_to(t[start:stop], size), args)
        return compiled(*group)[:rows]

    def _generate_from_blank(self, inputs, shape, target=None):
        """`_generate` from nothing known, a blank canvas of `shape`, by the
        target's default sampler (a flow's: one pass, no loop over time)."""
        blank = tf.zeros(shape, self.model.values_dtype)
        method = (target[0] if target is not None else self.model).default_sampling_method
        return self._generate(inputs, blank, tf.zeros(shape, tf.int32), target, method)

    def _complete(self, inputs):
        x, known_mask, temperature = inputs["x"], inputs["known_mask"], inputs["temperature"]
        checks = self._input_checks(
            tf.shape(inputs["seed"])[0], x=x, known_mask=known_mask, condition_length=self._event_length(x),
            inputs=inputs, temperature=temperature,
        ) + self._check_sampling(temperature)

        def run():
            known = tf.where(known_mask > 0, x, tf.zeros_like(x))
            return self._generate(inputs, known, known_mask)

        return self._with_checks(checks, run)

    def _sample(self, inputs):
        temperature = inputs["temperature"]
        batch = tf.shape(inputs["seed"])[0]
        checks = self._input_checks(batch, inputs=inputs, temperature=temperature) + self._check_sampling(temperature)
        shape = tf.concat([[batch], self.model.event_shape], 0) if self.max_length is None else None
        if shape is None:
            length = self.events.serving_length_from_condition(inputs)
            if length is None:  # the request says how long, equal in every row
                lengths = inputs["length"]
                length = tf.reduce_max(lengths)
                checks += self._check_batch(batch, length=lengths)
                checks += self.check_length("length", lengths, self.events.step_unit)
                checks.append(tf.debugging.assert_equal(
                    lengths, length, message="input 'length' must be the same in every row of a request"
                ))
            shape = tf.stack([batch, length])

        return self._with_checks(checks, lambda: self._generate_from_blank(inputs, shape))

    def _initial_state(self, inputs):
        seed = inputs["seed"]
        checks = self._input_checks(tf.shape(seed)[0], inputs=inputs)

        def run():
            condition = self.events.serving_condition(inputs)
            return flatten_state(self.model.initial_state_for_seeds(seed, condition))

        return self._with_checks(checks, run)

    def _step(self, inputs):
        inputs_t, seed, temperature = inputs["inputs_t"], inputs["seed"], inputs["temperature"]
        state = {k: v for k, v in inputs.items() if k.startswith(STATE_PREFIX)}
        position = state[STATE_PREFIX + "position"]
        model = self.model
        # A sequence's condition must cover the step drawn (audio features).
        reach = None if self.max_length is None else tf.reduce_max(position) + 1
        checks = self._input_checks(
            tf.shape(seed)[0], condition_length=reach, inputs=inputs, inputs_t=inputs_t, temperature=temperature,
            **state,
        )
        checks += self.events.serving_event_checks(self, "inputs_t", inputs_t)
        checks += self._check_sampling(temperature) + self._check_position(position)
        # A NaN or infinite cache would answer OK with NaN params.
        checks += [tf.debugging.assert_all_finite(tensor, f"input '{name}' is not finite (NaN or inf)")
                   for name, tensor in sorted(state.items()) if tensor.dtype.is_floating]

        def run():
            nest = unflatten_state(self._state_template, state)
            params_t, new_state = model.step(inputs_t, nest, self.events.serving_condition(inputs))
            uniforms_t = step_uniforms_at(seed, position, model.uniforms_per_step)
            out = {"params": params_t, "values": model.draw_step(params_t, uniforms_t, temperature)}
            out.update(flatten_state(new_state))
            return out

        return self._with_checks(checks, run)

    def _encode(self, inputs):
        x = inputs["x"]
        checks = self._input_checks(tf.shape(x)[0], x=x, inputs=inputs)
        return self._with_checks(checks, lambda: dict(self.model.encode(x)))

    def _decode(self, inputs):
        code, temperature = inputs["code"], inputs["temperature"]
        batch = tf.shape(inputs["seed"])[0]
        checks = self._input_checks(batch, inputs=inputs, code=code, temperature=temperature)
        checks += self._check_sampling(temperature)
        checks.append(tf.debugging.assert_all_finite(code, "input 'code' is not finite"))
        shape = tf.concat([[batch], self.model.event_shape], 0)
        return self._with_checks(
            checks, lambda: self._generate_from_blank(inputs, shape, self.model.decoding_target(code))
        )

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

    # ----- concrete functions ------------------------------------------------

    def _endpoint(self, method, specs):
        specs = [spec for spec in specs if spec is not None]
        names = [spec.name for spec in specs]

        def endpoint(*args):
            return method(dict(zip(names, args)))

        # autograph=False: the endpoints are explicit TF control flow (and
        # converting the cached loop cost most of its tracing time).
        return tf.function(endpoint, input_signature=specs, autograph=False).get_concrete_function()

    def signatures(self):
        """{name: concrete function} for `tf.saved_model.save`."""
        model, events = self.model, self.events
        x = events.serving_event_spec("x")
        known_mask = tf.TensorSpec(x.shape, tf.int32, name="known_mask")
        seed = tf.TensorSpec([None, 2], tf.int32, name="seed")
        temperature = tf.TensorSpec([None], tf.float32, name="temperature")
        inputs_t = tf.TensorSpec([None, model.values_per_step], model.values_dtype, name="inputs_t")
        conditions = events.serving_condition_specs()
        length = None
        if self.max_length is not None and not events.serving_length_given_by_condition():
            length = tf.TensorSpec([None], tf.int32, name="length")
        state = state_specs(self._state_template)
        log_prob = self._endpoint(self._log_prob, [x, *conditions])
        latent = {}
        if model.latent_dim is not None:  # a model with a code: encode and decode it
            code = tf.TensorSpec([None, model.latent_dim], tf.float32, name="code")
            latent = {
                "encode": self._endpoint(self._encode, [x]),
                "decode": self._endpoint(self._decode, [code, seed, temperature]),
            }
        return {
            **latent,
            DEFAULT_SIGNATURE: log_prob,
            "log_prob": log_prob,
            "sample": self._endpoint(self._sample, [seed, temperature, length, *conditions]),
            "complete": self._endpoint(self._complete, [x, known_mask, seed, temperature, *conditions]),
            "initial_state": self._endpoint(self._initial_state, [seed, *conditions]),
            "step": self._endpoint(self._step, [inputs_t, seed, temperature, *state, *conditions]),
            "metadata": self._endpoint(self._metadata, [seed]),
        }

"""The contract every arzoo model shares, whatever its events are.

A model is a density over events x (an image, a waveform, a text, a real
vector) factorised in an explicit sampling order:

    p(x) = prod_t p(x_t | x_<t),

x_t being what sampling step t draws: a sub-pixel or a whole pixel, an audio
sample, a character, one dimension of a vector. This module owns, once for
every family, what does not depend on the kind of event: the checks of
seeds, temperature, method and completion masks, `sample` and `complete`,
the cache of compiled samplers, and the declaration of the incremental
protocol (`initial_state`, `step` and its optional hooks) that the one
sampling driver (`arzoo.sampling.driver`) runs. A family implements its
network, its event hooks (below, "events") and its incremental state.
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import fits_int32, int_at_least

SAMPLING_METHODS = ("cached", "naive", "parallel")


def resolve_seeds(num_samples, seed, seeds):
    """`[B, 2]` int32 seeds, one per row: `seeds` as given, else row i gets
    `stateless_fold_in(seed, i)` for `num_samples` rows."""
    from arzoo.sampling.seeds import as_seed, row_seeds

    if num_samples is not None:
        num_samples = int_at_least("num_samples", num_samples, 1)
    if seeds is not None:
        seeds = tf.convert_to_tensor(seeds)
        if not seeds.dtype.is_integer:
            raise ValueError(f"seeds must be integers; got dtype {seeds.dtype.name}.")
        if hasattr(seeds, "numpy"):  # eager: refuse values an int32 cast would wrap
            fits_int32("seeds", seeds.numpy())
        seeds = tf.cast(seeds, tf.int32)
        if seeds.shape.rank != 2 or seeds.shape[1] != 2 or seeds.shape[0] == 0:
            raise ValueError(f"seeds must have shape [batch, 2] with batch >= 1, got {tuple(seeds.shape)}.")
        if num_samples is not None and seeds.shape[0] != num_samples:
            raise ValueError(f"num_samples={num_samples} but seeds has {seeds.shape[0]} rows.")
        return seeds
    if num_samples is None:
        raise ValueError("Give num_samples (an integer >= 1) or seeds ([batch, 2] ints).")
    return row_seeds(as_seed(seed), num_samples)


def check_temperature(temperature, batch):
    """`temperature` (a number or one per row) as `[batch]` float32, finite and > 0."""
    temperature = tf.convert_to_tensor(temperature)
    if not (temperature.dtype.is_floating or temperature.dtype.is_integer):
        raise ValueError(f"temperature must be a number; got dtype {temperature.dtype.name}.")
    try:
        temperature = tf.broadcast_to(tf.cast(temperature, tf.float32), [batch])
    except (ValueError, tf.errors.InvalidArgumentError):
        raise ValueError(
            f"temperature must be a float or {batch} floats (one per sample); got shape "
            f"{tuple(temperature.shape)}."
        ) from None
    if tf.executing_eagerly():
        values = temperature.numpy()
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"temperature must be finite and > 0, got {values.tolist()}.")
    return temperature


def check_mask_values(known_mask, name="known_mask"):
    """A completion mask (bool, or numbers that are all 0 or 1) as a bool tensor."""
    try:
        known_mask = tf.convert_to_tensor(known_mask)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a bool or 0/1 array: {err}") from None
    if known_mask.dtype.is_bool:
        return known_mask
    if not (known_mask.dtype.is_integer or known_mask.dtype.is_floating):
        raise ValueError(f"{name} must be bool or 0/1; got dtype {known_mask.dtype.name}.")
    if tf.executing_eagerly():
        values = known_mask.numpy()
        bad = values[(values != 0) & (values != 1)]
        if bad.size:
            raise ValueError(f"{name} must be 0 or 1 (or bool); got the value {bad.flat[0]!r}.")
    return tf.not_equal(known_mask, 0)


class AutoregressiveModel(keras.Model):
    """Base class of every arzoo family.

    Subclasses implement the network (`call`), the likelihoods
    (`conditional_log_probs`, `log_prob`, `teacher_forced_log_probs`,
    `inputs_from_batch`) and the hooks below; `sample` and `complete` are
    defined here only.

    Class attributes:
      modality: the name of the family's event space ("image", "audio",
        "vector", "text"; `arzoo.events`), the one place that name is read.
      likelihoods: the likelihood heads the family takes.
      jit_sampling: compile the cached sampling loop with XLA.
      sampling_threads: eager `sample` of a batch runs as up to this many
        parallel groups of rows on a CPU (None: one per core; 1: never;
        see `arzoo.sampling.row_groups`). Samples are unchanged.
      ROW_KEYS: the optional row protocol's constant state keys
        (arzoo.models.row_protocol); empty for families without it.
      likelihood_is_exact: whether `log_prob` is log p(x) itself (False
        for latent-variable models, whose `log_prob` is a lower bound; such a
        model has a `decoder`, the exact density p(x | code) it wraps, whose
        condition is the code).
      latent_dim: models with a code (PixelVAE, the PixelCNN auto-encoder):
        its size; they have `encode(x)` (a dict of `[B, latent_dim]`
        tensors), `code_of(encoding)` and `decoding_target(code)`, and
        `decode` draws given codes. None for the others.
    """

    modality = None
    likelihood_is_exact = True
    # Constructor arguments a trained model may take new values of without
    # new weights (a run's edited config.yaml applies them; any other edit is
    # refused): PixelVAE's iw_samples, say.
    settable_after_training = ()
    latent_dim = None
    likelihoods = ()
    jit_sampling = True
    sampling_threads = 1
    ROW_KEYS = ()
    # What `sample` (and the exported `sample` signature) runs: "cached", or
    # "parallel" for a model with a `parallel_sample` (a flow: one pass, no
    # loop over steps).
    default_sampling_method = "cached"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Compiled samplers, kept out of Keras / SavedModel tracking.
        object.__setattr__(self, "_compiled", {})

    def __init_subclass__(cls, **kwargs):
        # Every family's `step` is the public incremental entry point: its
        # arguments are checked here, once for all families, so a wrong shape
        # is a ValueError naming it instead of a failure deep in the cache
        # updates. The checks read static shapes only (free inside traced loops).
        super().__init_subclass__(**kwargs)
        step = getattr(cls, "step", None)  # its own or a mixin's (the row protocol's)
        if step is not None and not getattr(step, "_checks_arguments", False):

            @functools.wraps(step)
            def checked_step(self, inputs_t, state, condition=None):
                self.check_step_arguments(inputs_t, state)
                return step(self, inputs_t, state, condition)

            checked_step._checks_arguments = True
            cls.step = checked_step

    def check_step_arguments(self, inputs_t, state):
        """A ValueError unless `inputs_t` is `[B, values_per_step]` and every
        tensor of `state` has the same leading B (checked where shapes are known)."""
        if not isinstance(state, dict) or "position" not in state:
            raise ValueError(
                "state must be the dict initial_state (or the previous step) returned, with 'position'; "
                f"got {type(state).__name__}{' with keys ' + str(sorted(state)) if isinstance(state, dict) else ''}."
            )
        shape = tf.TensorShape(getattr(inputs_t, "shape", np.shape(inputs_t)))
        wanted = self.values_per_step
        if shape.rank != 2 or shape[1] not in (None, wanted):
            raise ValueError(
                f"inputs_t must have shape [batch, {wanted}] (the values drawn at the previous step), "
                f"got {shape.as_list() if shape.rank is not None else 'unknown rank'}."
            )
        batch = tf.TensorShape(state["position"].shape)[:1]
        for path, value in _tensor_paths(state):
            leading = tf.TensorShape(getattr(value, "shape", np.shape(value)))[:1]
            if not leading.is_compatible_with(batch):
                raise ValueError(
                    f"state[{path}] has batch {leading.as_list()} but state['position'] has {batch.as_list()}: "
                    "every state tensor has one row per sample."
                )
        if not shape[:1].is_compatible_with(batch):
            raise ValueError(
                f"inputs_t has {shape[0]} rows but the state has {batch[0]}: one row of values per sample."
            )

    # ----- events: what a family's kind of event implements ------------------

    @property
    def values_dtype(self):
        """dtype of the values one step draws (int32 levels, float32 reals)."""
        return tf.int32

    @property
    def values_per_step(self):
        """How many values one step draws (a whole pixel with a coupled head;
        a group of pixels, padded to the largest group, for a multiscale model)."""
        return self.head.values_per_step

    @property
    def params_per_step(self):
        """How many parameters `step` returns per row (`[B, params_per_step]`)."""
        return self.head.params_per_step

    @property
    def uniforms_per_step(self):
        """How many uniforms one step's draw reads per row (`draw_step`)."""
        return self.head.num_uniforms

    def draw_step(self, params_t, uniforms_t, temperature):
        """The values `[B, values_per_step]` of one step, drawn by inverse
        CDF from `params_t` `[B, params_per_step]` and `uniforms_t`
        `[B, uniforms_per_step]` at `temperature` `[B]`. Default: the head's
        draw; a model whose step draws a group of positions draws each."""
        return self.head.step_sample(params_t, uniforms_t, temperature)

    def step_log_prob(self, params_t, values_t, position):
        """log p `[B]` of the values `[B, values_per_step]` one step drew at
        `position` `[B]` given its parameters (the padding of a step that
        draws fewer positions than `values_per_step` counts nothing)."""
        del position
        return self.head.step_log_prob(params_t, values_t)

    def fill_determined(self, events):
        """`events` with the values the others determine filled in: every
        sampler's last word. Default: none are (a zero-mean image model's
        last pixel is, `arzoo.models.real_image`)."""
        return events

    def check_events(self, x, name="x", where=None):
        """`x` as a validated tensor of events `[B, ...]`, or a ValueError
        naming what is wrong; values are checked (eagerly) only where the
        bool tensor `where` is true, when given."""
        raise NotImplementedError

    def check_condition(self, condition, batch=None, length=None):
        """The validated condition (None for an unconditional model); its
        rows must number `batch` when given, and it must cover `length`
        steps when given (local features). `blank_events` reads the
        validated condition (the length local features imply)."""
        raise NotImplementedError

    @property
    def event_shape(self):
        """The shape of one event, for events of a fixed size."""
        raise NotImplementedError

    def blank_events(self, batch, length=None, condition=None):
        """`[batch, ...]` zeros in the event shape: the canvas `sample` fills.
        `length` is for events whose size varies (sequences, which override
        this); fixed-size events refuse it."""
        if length is not None:
            raise ValueError(
                f"length={length!r} applies to sequence models; {type(self).__name__} draws "
                f"events of shape {list(self.event_shape)}."
            )
        return tf.zeros((batch,) + tuple(self.event_shape), self.values_dtype)

    def align_known_mask(self, x, known_mask):
        """`(x, known_mask)` of a completion, the bool mask in `x`'s shape, or a
        ValueError. Families whose steps draw several values at once require
        those to be known or unknown together."""
        if tuple(known_mask.shape) != tuple(x.shape):
            raise ValueError(
                f"known_mask must have the shape of x {tuple(x.shape)}, got {tuple(known_mask.shape)}."
            )
        return x, known_mask

    def num_steps_of(self, events):
        """How many sampling steps generating `events` takes."""
        return self.num_steps

    def to_steps(self, x):
        """Events `[B, ...]` -> `[B, num_steps, values_per_step]` in sampling order."""
        raise NotImplementedError

    def from_steps(self, steps):
        """`[B, num_steps, values_per_step]` in sampling order -> events `[B, ...]`."""
        raise NotImplementedError

    def write_step(self, canvas, position, values):
        """`canvas` with each row's step `position` `[B]` set to `values` `[B, V]`."""
        raise NotImplementedError

    def params_at(self, params, position):
        """From a teacher-forced `call`'s output, the parameters
        `[B, params_per_step]` of each row's step `position` `[B]`."""
        raise NotImplementedError

    # ----- configuration -------------------------------------------------------

    @classmethod
    def resolve_config(cls, section, data):
        """The model section of a run's config with the arguments that are read
        from the data filled in (Char-RNN's `vocabulary: from_training_split`);
        `data` is the run's `DataConfig`. Default: the section as it is."""
        return section

    # ----- training -------------------------------------------------------------

    def training_log_probs(self, x, condition, step):
        """What one training step maximises, shaped like
        `teacher_forced_log_probs` (its sum over an example is the
        objective); `step` is the training step (an int64 tensor), for
        objectives that change during training (PixelVAE's KL warm-up).
        Default: `teacher_forced_log_probs(x, condition, training=True)`."""
        del step
        return self.teacher_forced_log_probs(x, condition, training=True)

    def training_diagnostics(self, x, condition=None):
        """{name: Python number} the training loop logs at every logging
        point, from a fixed batch of training examples (PixelVAE's KL).
        Default: none."""
        return {}

    def diagnostic_warnings(self, diagnostics):
        """Sentences on what the last `training_diagnostics` say went wrong
        (a KL that fell to zero); the training summary reports them."""
        return []

    # ----- likelihoods ------------------------------------------------------------

    @property
    def likelihood_description(self):
        """What `log_prob` is, for reports: "exact", or which bound."""
        return "exact" if self.likelihood_is_exact else "a lower bound"

    def log_prob_terms(self, x, condition=None):
        """{"log_prob": `[B]` nats, and for a bound what it is made of
        ("elbo", "kl", ...)}: evaluation and the exported `log_prob` use it.
        Eagerly its inputs are checked as `log_prob`'s; in a graph (the
        export, which checks its inputs itself) they are not. Default: the
        teacher-forced log_prob alone."""
        if tf.executing_eagerly():
            return {"log_prob": self.log_prob(x, condition)}
        log_probs = self.teacher_forced_log_probs(x, condition)
        return {"log_prob": tf.reduce_sum(tf.reshape(log_probs, [tf.shape(log_probs)[0], -1]), axis=1)}

    # ----- the incremental protocol ------------------------------------------

    def initial_state_for_seeds(self, seeds, condition=None):
        """The state before step 0 of rows `seeds` `[B, 2]`: `initial_state`
        for a model whose state does not depend on the row's seed; a
        latent-variable model draws each row's latent here (PixelVAE)."""
        batch = seeds.shape[0] if seeds.shape[0] is not None else tf.shape(seeds)[0]
        return self.initial_state(batch, condition)

    def initial_state(self, batch_size, condition=None):
        """The state before step 0: a nest of tensors with a leading batch
        dimension and `position` `[B]` int32 among them."""
        raise NotImplementedError

    def step(self, inputs_t, state, condition=None):
        """Feed the values drawn at the previous step, get the next step's params.

        Args:
          inputs_t: `[B, values_per_step]` values drawn at step
            `position - 1` (ignored at position 0).
          state: the nest from `initial_state` or the previous `step`.
          condition: as for `call`.

        Returns:
          `(params_t, new_state)`: `[B, params_per_step]` parameters of the
          step at `state["position"]`, and the advanced state. State is passed
          in and out, never kept in variables, so a stateless server can
          stream it.
        """
        raise NotImplementedError

    def prepare_condition(self, condition):
        """What `prepared_step` reads of a validated condition: computed once
        per sampling call, not at every step (a speaker's projections, a
        one-hot label). Default: the condition itself."""
        return condition

    def prepared_step(self, inputs_t, state, context, in_place=False):
        """`step` with `context = prepare_condition(condition)`. `in_place`
        says the loop is XLA-compiled, so caches may be written with XLA's
        in-place update (`arzoo.layers.caches.write_at`). Default: `step`."""
        return self.step(inputs_t, state, context)

    def sampling_step(self, inputs_t, state, context, uniforms_t, temperature, in_place=False):
        """`prepared_step`, then its draw: `(values [B, values_per_step],
        new_state)` with `uniforms_t` `[B, uniforms_per_step]`. The cached
        loop calls this; a family whose steps differ in size (a multiscale
        model's base sub-pixels and pixel groups) draws each at its own width
        here rather than materialising padded parameters. Default:
        `draw_step` of `prepared_step`'s parameters."""
        params_t, state = self.prepared_step(inputs_t, state, context, in_place=in_place)
        return self.draw_step(params_t, uniforms_t, temperature), state

    def sampling_scales(self):
        """The strides of the scales a coarse-to-fine sampler completes in
        turn, coarsest first (the event at `[::s, ::s]` is complete once its
        scale is); empty for a sampler with no scales (raster, time).
        `arzoo sample` draws a coarse-to-fine figure from them."""
        return ()

    # The optional row protocol (arzoo.models.row_protocol): a family with a
    # cache part recomputed once per block of `steps_per_row` steps names
    # that part's state keys in `ROW_KEYS`, and the driver samples it row-wise.

    steps_per_row = None

    # ----- sampling ----------------------------------------------------------

    def sample(
        self,
        num_samples=None,
        seed=0,
        condition=None,
        temperature=1.0,
        method=None,
        seeds=None,
        length=None,
    ):
        """Draw `num_samples` events.

        Args:
          num_samples: B; may be omitted when `seeds` is given.
          seed: int or `[2]` ints; row i uses `stateless_fold_in(seed, i)`, so
            a row's sample does not depend on the batch it is drawn in.
          condition: B rows of the model's condition (None if unconditional).
          temperature: float or `[B]` floats, finite and > 0.
          method: "cached" (the incremental `step`s), "naive" (the whole
            network recomputed at every step; the reference the cached path
            equals sample for sample) or, for a flow, "parallel" (one pass
            over every step); None: the model's `default_sampling_method`.
          seeds: `[B, 2]` int32, one seed per row (overrides `seed`).
          length: sequence models only: steps to draw (default: what the
            condition covers, else the model's `sample_length`).
        """
        method = self.check_sampling_method(self.default_sampling_method if method is None else method)
        seeds = resolve_seeds(num_samples, seed, seeds)
        batch = int(seeds.shape[0])
        condition = self.check_condition(condition, batch, length)
        blank = self.blank_events(batch, length, condition)
        return self._run_sampler(method, seeds, condition, temperature, blank, tf.zeros_like(blank, tf.bool))

    def complete(self, x, known_mask, seed=0, condition=None, temperature=1.0, method=None, seeds=None):
        """Sample the unknown parts of `x` given the known ones, in sampling
        order (image completion, audio or text continuation).

        Args:
          x: events; only the entries where `known_mask` is true are read.
          known_mask: bool or 0/1 in `x`'s shape, true where `x` is given.
          seed, condition, temperature, seeds: as for `sample`.
          method: "cached" (None) or "naive".

        Returns events equal to `x` where `known_mask` is true. Known values
        are conditioned on only through what precedes each step: a step
        reads the known values before it, never those after it.
        """
        if method == "parallel":
            raise ValueError(
                "complete draws with method='cached' or 'naive': each step conditions on the known values "
                "before it, which a parallel pass cannot."
            )
        method = self.check_sampling_method("cached" if method is None else method)
        x, known_mask = self.align_known_mask(tf.convert_to_tensor(x), check_mask_values(known_mask))
        x = self.check_events(x, where=known_mask)
        x = tf.where(known_mask, x, tf.zeros_like(x))
        batch = int(x.shape[0])
        seeds = resolve_seeds(batch, seed, seeds)
        condition = self.check_condition(condition, batch, self.num_steps_of(x))
        return self._run_sampler(method, seeds, condition, temperature, x, known_mask)

    def check_sampling_method(self, method):
        """`method` if this model samples by it, else a ValueError naming the allowed ones."""
        allowed = [m for m in SAMPLING_METHODS if m != "parallel" or hasattr(self, "parallel_sample")]
        if method not in allowed:
            raise ValueError(
                f"Unknown sampling method {method!r}; allowed: {', '.join(allowed)} (for {type(self).__name__})."
            )
        return method

    def sampling_target(self, seeds, condition):
        """(the model whose steps the sampling loop runs, the condition it
        runs them with) for rows `seeds` `[B, 2]` and a validated
        `condition`. Default: this model and its condition; a latent-variable
        model returns its decoder and each row's latent (PixelVAE)."""
        del seeds
        return self, condition

    def decoding_target(self, code):
        """Models with a code: (the model whose sampler draws given codes,
        the condition it takes for `code` `[B, latent_dim]`)."""
        raise NotImplementedError(f"{type(self).__name__} has no code to decode (latent_dim is None).")

    def decode(self, code, seeds, temperature=1.0, method="cached"):
        """Models with a code: events drawn given `code` `[B, latent_dim]`
        (one row seed each, `[B, 2]`), by the sampler `decoding_target`
        names (PixelVAE's and the auto-encoder's: their Gated PixelCNN
        decoder's cached loop)."""
        target, condition = self.decoding_target(code)
        target.jit_sampling = self.jit_sampling
        return target.sample(seeds=seeds, condition=condition, temperature=temperature, method=method)

    def _run_sampler(self, method, seeds, condition, temperature, known, known_mask):
        from arzoo.sampling.driver import SAMPLERS, traced_step_uniforms
        from arzoo.sampling.row_groups import call_in_row_groups, num_row_groups

        batch = int(seeds.shape[0])
        temperature = check_temperature(temperature, batch)
        target, condition = self.sampling_target(seeds, condition)
        if target is not self:
            target.jit_sampling = self.jit_sampling
            return target._run_sampler(method, seeds, condition, temperature, known, known_mask)
        jit = method == "cached" and self.jit_sampling  # a parallel pass gains nothing from it
        uniforms = traced_step_uniforms(seeds, tf.constant(self.num_steps_of(known), tf.int32), self.uniforms_per_step)
        args = (uniforms, temperature, condition, known, known_mask)
        # One trace for every batch size (XLA still compiles per size): the
        # loop is traced with the batch dimension unknown.
        specs = tf.nest.map_structure(
            lambda t: None if t is None else tf.TensorSpec([None] + t.shape[1:], t.dtype), args
        )
        key = (method, jit, str(specs))
        if key not in self._compiled:
            # autograph=False: the loops are explicit tf.while_loop / tf.cond,
            # and converting them cost most of a first call (5 of 7 s tracing
            # PixelCNN++'s loop).
            sampler = SAMPLERS[method]

            def run(uniforms, temperature, condition, known, known_mask):
                return sampler(self, uniforms, temperature, condition, known, known_mask, in_place=jit)

            self._compiled[key] = tf.function(run, jit_compile=jit, autograph=False)
            self._compiled[key].get_concrete_function(*specs)  # later calls dispatch to this trace
        groups = num_row_groups(batch, self.sampling_threads)
        return call_in_row_groups(self._compiled[key], groups, *args)


def _tensor_paths(nest, prefix=""):
    """(readable path, tensor) of every leaf of a state nest of dicts and lists."""
    if isinstance(nest, dict):
        for key in sorted(nest):
            yield from _tensor_paths(nest[key], f"{prefix}[{key!r}]" if prefix else repr(key))
    elif isinstance(nest, (list, tuple)):
        for i, item in enumerate(nest):
            yield from _tensor_paths(item, f"{prefix}[{i}]")
    elif nest is not None:
        yield prefix, nest

"""RNADE, the real-valued neural autoregressive density estimator (Uria,
Murray and Larochelle 2013)."""

import keras
import numpy as np
import tensorflow as tf

from arzoo.layers import NADEInput, NADEOutput
from arzoo.likelihoods.mixture_of_gaussians import MixtureOfGaussians
from arzoo.models.base import SAMPLING_METHODS, int_at_least, resolve_seeds
from arzoo.models.ordered import resolve_ordering, step_dimensions
from arzoo.models.registry import register_model


@register_model("rnade")
class RNADE(keras.Model):
    """RNADE: NADE's shared hidden layer with a mixture of Gaussians per
    conditional, a density over real vectors x in R^D:

        p(x) = prod_{t=1..D} p(x_{o_t} | x_{o_1}, ..., x_{o_{t-1}}),
        a_t = c + sum_{s<t} W_{:, o_s} x_{o_s},
        h_t = sigmoid(rho_t a_t),
        p(x_{o_t} | x_{o_<t}) = sum_k pi_{t,k} N(x_{o_t}; mu_{t,k}, sigma_{t,k}^2),

    with [logits, mu, log sigma]_t = V_{o_t} h_t + b_{o_t} (pi = softmax of
    the logits, see `MixtureOfGaussians`) and o the ordering. rho_t, the
    paper's activation rescaling (initialised to 1, trained), keeps late
    conditionals, whose a_t sums many inputs, out of the sigmoid's flat
    tails; `activation_scaling=False` fixes rho = 1.

    As in NADE, all D pre-activations are one cumulative sum over the
    ordering, so `log_prob` costs O(D H); sampling keeps the running a_t as
    its state (`initial_state` / `step`) and costs O(H K) per step. Step t
    draws x_{o_t} from two uniforms of its row's own seed (the component by
    inverse CDF, the value by the Normal quantile), so "cached" and "naive"
    sampling give the same numbers, and a row the same numbers in any batch.
    `temperature` T multiplies every component's variance.

    Args:
      num_dims: D, the length of the vectors.
      num_hidden: H (50 in the paper's UCI experiments).
      num_components: K, Gaussians per conditional (the paper uses 2 to 20).
      ordering: "raster" (0, 1, ..., D-1), "random" (seeded by
        `ordering_seed`) or a permutation of range(D).
      ordering_seed: seed of `ordering="random"`.
      activation_scaling: learn rho_t (True) or fix it to 1 (False).

    Call arguments:
      x: `[B, D]` floats.
      training: bool (no layer behaves differently).

    Returns `[B, D, 3K]` mixture parameters, row d those of p(x_d | the
    dimensions before d in the ordering), in the natural (not the ordered)
    order of the dimensions.

    Example:
    >>> model = RNADE(num_dims=3, num_hidden=8, num_components=2)
    >>> samples = model.sample(4, seed=0)   # [4, 3] float32
    >>> model.log_prob(samples).shape
    TensorShape([4])

    References:
      [1] Uria, Murray and Larochelle (2013). RNADE: The real-valued neural
          autoregressive density-estimator. NeurIPS. arXiv:1306.0186.
      [2] Larochelle and Murray (2011). The Neural Autoregressive Distribution
          Estimator. AISTATS, JMLR W&CP 15.
    """

    modality = "vector"

    def __init__(
        self,
        num_dims,
        num_hidden=50,
        num_components=10,
        ordering="raster",
        ordering_seed=0,
        activation_scaling=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_dims = int_at_least("num_dims", num_dims, 1)
        self.num_hidden = int_at_least("num_hidden", num_hidden, 1)
        self.num_components = int_at_least("num_components", num_components, 1)
        self.ordering_seed = int_at_least("ordering_seed", ordering_seed, 0)
        self.ordering = self._resolve_ordering(ordering)
        self.ordering_spec = ordering if isinstance(ordering, str) else self.ordering.tolist()
        if not isinstance(activation_scaling, (bool, np.bool_)):
            raise ValueError(
                f"activation_scaling must be True or False, got activation_scaling={activation_scaling!r}."
            )
        self.activation_scaling = bool(activation_scaling)
        self.likelihood = MixtureOfGaussians(self.num_components)
        # step_index[d]: the step at which dimension d is drawn.
        self.step_index = np.argsort(self.ordering).astype(np.int32)

        self.hidden_input = NADEInput(self.num_dims, 1, self.num_hidden, name="hidden_input")
        self.outputs = NADEOutput(
            self.num_dims, self.num_hidden, self.likelihood.params_per_dim, name="outputs"
        )
        self.hidden_input.build()
        self.outputs.build()
        self.activation_scale = (
            self.add_weight(name="activation_scale", shape=(self.num_dims,), initializer="ones")
            if self.activation_scaling
            else None
        )
        # Compiled samplers, kept out of Keras / SavedModel tracking.
        object.__setattr__(self, "_compiled", {})
        self.build()

    def _resolve_ordering(self, ordering):
        try:
            return resolve_ordering(ordering, self.ordering_seed, self.num_dims)
        except (TypeError, ValueError):
            if isinstance(ordering, str):
                raise
            raise ValueError(  # the shared message speaks of images
                f"ordering must be 'raster', 'random' or a permutation of 0..{self.num_dims - 1} "
                f"(num_dims={self.num_dims}); got {np.asarray(ordering).tolist()}."
            ) from None

    def build(self, input_shape=None):
        # Every weight exists after __init__; one pass on zeros marks the
        # model built, so it saves and loads straight from its config.
        if self.built:
            return
        self.call(tf.zeros([1, self.num_dims]))
        self.built = True

    # ----- the network -------------------------------------------------------

    def _scale(self, activation, steps):
        """rho at `steps` times `activation` (`[B, T, H]` with `[T]`, or `[B, H]` with `[B]`)."""
        if self.activation_scale is None:
            return activation
        rho = tf.gather(self.activation_scale, steps)
        return activation * (rho[None, :, None] if activation.shape.rank == 3 else rho[:, None])

    def call(self, x, training=False):
        x = tf.cast(x, tf.float32)
        activations = self.hidden_input.prefix_activations(x[..., None], self.ordering)
        hidden = tf.sigmoid(self._scale(activations, tf.range(self.num_dims)))
        ordered = self.outputs.at(hidden, self.ordering)  # [B, D, 3K], step order
        return tf.gather(ordered, self.step_index, axis=1)

    # ----- inputs ------------------------------------------------------------

    def check_events(self, x, name="x", where=None):
        """`x` as a `[B, D]` float32 tensor, or a ValueError naming what is wrong.

        Shape and dtype are checked always, values (NaN, inf) when running
        eagerly and, with a bool `where` `[B, D]`, only where it is true.
        """
        try:
            x = tf.convert_to_tensor(x)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a float array of shape [batch, {self.num_dims}]: {err}") from None
        if not (x.dtype.is_floating or x.dtype.is_integer) or x.dtype.is_complex:
            raise ValueError(
                f"{name} must be real numbers (a float or integer dtype); got dtype {x.dtype.name}."
            )
        if x.shape.rank != 2 or x.shape[1] != self.num_dims:
            raise ValueError(
                f"{name} must have shape [batch, num_dims] = [batch, {self.num_dims}]; "
                f"got shape {tuple(x.shape)}."
            )
        x = tf.cast(x, tf.float32)
        if tf.executing_eagerly():
            values = x.numpy() if where is None else x.numpy()[where.numpy()]
            if np.isnan(values).any():
                raise ValueError(f"{name} contains NaN ({int(np.isnan(values).sum())} entries).")
            if np.isinf(values).any():
                raise ValueError(
                    f"{name} contains inf ({int(np.isinf(values).sum())} entries; values beyond "
                    "float32's range become inf)."
                )
        return x

    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"x": [B, D]}`; RNADE is unconditional."""
        return batch["x"], None

    # ----- likelihoods -------------------------------------------------------

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """`conditional_log_probs` without the input checks, for training graphs."""
        x = tf.cast(x, tf.float32)
        return self.likelihood.log_prob(self(x, training=training), x)

    def conditional_log_probs(self, x):
        """log p(x_d | the dimensions before d) in nats, `[B, D]`, natural order."""
        return self.teacher_forced_log_probs(self.check_events(x))

    def log_prob(self, x):
        """Exact log-density log p(x) in nats, `[B]`."""
        return tf.reduce_sum(self.conditional_log_probs(x), axis=1)

    # ----- incremental contract ----------------------------------------------

    @property
    def num_steps(self):
        return self.num_dims

    def initial_state(self, batch_size, condition=None):
        """The state before step 0: the pre-activation c and position 0 per row."""
        activation = tf.zeros([batch_size, self.num_hidden]) + self.hidden_input.bias
        return {"activation": activation, "position": tf.zeros([batch_size], tf.int32)}

    def step(self, inputs_t, state, condition=None):
        """Feed the value drawn at the previous step, get the next step's params.

        Args:
          inputs_t: `[B, 1]` floats, x_{o_{position-1}} (ignored at position 0).
          state: the nest from `initial_state` or the previous `step`.
          condition: unused (RNADE is unconditional).

        Returns:
          `(params_t, new_state)`: `[B, 3K]` mixture parameters of dimension
          `ordering[position]`, and the advanced state. O(H K) per row.
        """
        position = state["position"]
        previous, current, started = step_dimensions(self.ordering, position)
        values = tf.reshape(tf.cast(inputs_t, tf.float32), [-1, 1])
        added = self.hidden_input.add_dimension(tf.zeros_like(state["activation"]), previous, values)
        activation = state["activation"] + tf.where(started[:, None], added, 0.0)
        hidden = tf.sigmoid(self._scale(activation, tf.minimum(position, self.num_dims - 1)))
        params = self.outputs.at(hidden, current)
        return params, {"activation": activation, "position": position + 1}

    # ----- sampling ----------------------------------------------------------

    def sample(self, num_samples=None, seed=0, temperature=1.0, method="cached", seeds=None):
        """Draw `[B, D]` float32 vectors.

        Args:
          num_samples: B; may be omitted when `seeds` is given.
          seed: int or `[2]` ints; row i uses `stateless_fold_in(seed, i)`.
          temperature: float or `[B]` floats > 0, multiplies the variances.
          method: "cached" (incremental `step`s, O(H K) each) or "naive"
            (the whole network recomputed at every step; the reference).
          seeds: `[B, 2]` int32, one seed per row (overrides `seed`).
        """
        self._check_method(method)
        if num_samples is not None:
            num_samples = int_at_least("num_samples", num_samples, 1)
        seeds = resolve_seeds(num_samples, seed, seeds)
        batch = int(seeds.shape[0])
        zeros = tf.zeros([batch, self.num_dims])
        return self._run_sampler(method, seeds, temperature, zeros, tf.zeros_like(zeros, tf.bool))

    def complete(self, x, known_mask, seed=0, temperature=1.0, method="cached", seeds=None):
        """Sample the unknown dimensions given the known ones.

        Args:
          x: `[B, D]` floats; only the known entries are read (the others may
            be anything, NaN included).
          known_mask: `[B, D]` bool / 0-1, true where `x` is given.
          seed, temperature, method, seeds: as for `sample`.

        Returns `[B, D]` float32 equal to `x` where `known_mask` is true.
        """
        self._check_method(method)
        known_mask = tf.convert_to_tensor(known_mask)
        if not (known_mask.dtype.is_bool or known_mask.dtype.is_integer or known_mask.dtype.is_floating):
            raise ValueError(f"known_mask must be bool or 0/1; got dtype {known_mask.dtype.name}.")
        known_mask = tf.cast(known_mask, tf.bool)
        x_shape = tuple(tf.convert_to_tensor(x).shape)
        if tuple(known_mask.shape) != x_shape:
            raise ValueError(
                f"known_mask must have the shape of x {x_shape}, got {tuple(known_mask.shape)}."
            )
        x = self.check_events(x, where=known_mask)
        x = tf.where(known_mask, x, 0.0)
        seeds = resolve_seeds(int(x.shape[0]), seed, seeds)
        return self._run_sampler(method, seeds, temperature, x, known_mask)

    def _check_method(self, method):
        if method not in SAMPLING_METHODS:
            raise ValueError(
                f"Unknown sampling method {method!r}; allowed: {', '.join(SAMPLING_METHODS)}."
            )

    def _run_sampler(self, method, seeds, temperature, known, known_mask):
        from arzoo.sampling.seeds import step_uniforms

        batch = int(seeds.shape[0])
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
        if method not in self._compiled:
            loop = self.naive_sample if method == "naive" else self.cached_sample

            def draw(seeds, temperature, known, known_mask):
                # Drawn inside the graph: eager map_fn over rows costs ms per row.
                uniforms = step_uniforms(seeds, self.num_dims, self.likelihood.num_uniforms)
                return loop(uniforms, temperature, known, known_mask)

            self._compiled[method] = tf.function(draw, reduce_retracing=True)
        return self._compiled[method](seeds, temperature, known, known_mask)

    def _draw(self, params_t, uniforms_t, temperature, known_t, known_flag_t):
        drawn = self.likelihood.sample_from_uniforms(params_t, uniforms_t, temperature)
        return tf.where(known_flag_t, known_t, drawn)

    def naive_sample(self, uniforms, temperature, known, known_mask):
        """Recompute `call` over the whole canvas for each step t, draw x_{o_t}."""
        ordering = tf.constant(self.ordering)

        def body(t, canvas):
            dim = ordering[t]
            params_t = tf.gather(self(canvas), dim, axis=1)
            values = self._draw(params_t, uniforms[:, t], temperature, known[:, dim], known_mask[:, dim])
            column = tf.one_hot(dim, self.num_dims, on_value=True, off_value=False)
            return t + 1, tf.where(column[None], values[:, None], canvas)

        _, canvas = tf.while_loop(
            lambda t, _: t < self.num_dims, body, (tf.constant(0), tf.zeros_like(known))
        )
        return canvas

    def cached_sample(self, uniforms, temperature, known, known_mask):
        """Feed each drawn value back through `step` (O(H K) per step)."""
        known_steps = tf.gather(known, self.ordering, axis=1)
        known_flags = tf.gather(known_mask, self.ordering, axis=1)
        batch = tf.shape(known)[0]
        state = self.initial_state(batch)
        drawn = tf.TensorArray(tf.float32, size=self.num_dims, element_shape=[None])

        def body(t, previous, state, drawn):
            params_t, state = self.step(previous[:, None], state)
            values = self._draw(params_t, uniforms[:, t], temperature, known_steps[:, t], known_flags[:, t])
            return t + 1, values, state, drawn.write(t, values)

        _, _, _, drawn = tf.while_loop(
            lambda t, *_: t < self.num_dims,
            body,
            (tf.constant(0), tf.zeros([batch]), state, drawn),
        )
        steps = tf.transpose(drawn.stack())  # [B, D], step order
        return tf.gather(steps, self.step_index, axis=1)

    # ----- serialization -----------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            num_dims=self.num_dims,
            num_hidden=self.num_hidden,
            num_components=self.num_components,
            ordering=self.ordering_spec,
            ordering_seed=self.ordering_seed,
            activation_scaling=self.activation_scaling,
        )
        return config

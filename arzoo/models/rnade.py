"""RNADE, the real-valued neural autoregressive density estimator (Uria,
Murray and Larochelle 2013)."""

import numpy as np
import tensorflow as tf

from arzoo.layers import NADEInput, NADEOutput
from arzoo.likelihoods.mixture_of_gaussians import MixtureOfGaussians
from arzoo.arguments import int_at_least
from arzoo.models.base import AutoregressiveModel
from arzoo.models.ordered import resolve_ordering, step_dimensions
from arzoo.models.registry import register_model
from arzoo.models.validation import check_not_empty


@register_model("rnade")
class RNADE(AutoregressiveModel):
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
    likelihoods = ("mixture_of_gaussians",)
    # The loop is O(D H K): XLA's compile time would exceed what it saves.
    jit_sampling = False

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
        self.likelihood = "mixture_of_gaussians"
        self.head = MixtureOfGaussians(self.num_components)
        # step_index[d]: the step at which dimension d is drawn.
        self.step_index = np.argsort(self.ordering).astype(np.int32)

        self.hidden_input = NADEInput(self.num_dims, 1, self.num_hidden, name="hidden_input")
        self.outputs = NADEOutput(
            self.num_dims, self.num_hidden, self.head.params_per_dim, name="outputs"
        )
        self.hidden_input.build()
        self.outputs.build()
        self.activation_scale = (
            self.add_weight(name="activation_scale", shape=(self.num_dims,), initializer="ones")
            if self.activation_scaling
            else None
        )
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

    def call(self, x, condition=None, training=False):
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
        check_not_empty(x, name)
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

    def check_condition(self, condition, batch=None, length=None):
        if condition is not None:
            raise ValueError("RNADE is unconditional but a condition was given.")
        return None

    @property
    def event_shape(self):
        return (self.num_dims,)

    @property
    def values_dtype(self):
        return tf.float32

    def to_steps(self, x):
        return tf.gather(x, self.ordering, axis=1)[..., None]

    def from_steps(self, steps):
        return tf.gather(steps[..., 0], self.step_index, axis=1)

    def write_step(self, canvas, position, values):
        dims = tf.gather(tf.constant(self.ordering), position)
        column = tf.one_hot(dims, self.num_dims, on_value=True, off_value=False)
        return tf.where(column, tf.cast(values, canvas.dtype), canvas)

    def params_at(self, params, position):
        dims = tf.gather(tf.constant(self.ordering), position)
        return tf.gather(params, dims, axis=1, batch_dims=1)

    def inputs_from_batch(self, batch):
        """(x, condition) from a training batch `{"x": [B, D]}`; RNADE is unconditional."""
        return batch["x"], None

    # ----- likelihoods -------------------------------------------------------

    def teacher_forced_log_probs(self, x, condition=None, training=False):
        """`conditional_log_probs` without the input checks, for training graphs."""
        x = tf.cast(x, tf.float32)
        return self.head.log_prob(self(x, training=training), x)

    def conditional_log_probs(self, x, condition=None):
        """log p(x_d | the dimensions before d) in nats, `[B, D]`, natural order."""
        self.check_condition(condition)
        return self.teacher_forced_log_probs(self.check_events(x))

    def log_prob(self, x, condition=None):
        """Exact log-density log p(x) in nats, `[B]`."""
        return tf.reduce_sum(self.conditional_log_probs(x, condition), axis=1)

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

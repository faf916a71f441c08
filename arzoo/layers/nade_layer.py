"""NADE's weight-shared input and per-dimension output layers.

NADE (Larochelle and Murray 2011) computes the hidden pre-activation of
every conditional, a_t = c + sum_{s<t} W_{o_s} x_{o_s}, as a cumulative sum
over the ordering o: all D of them in O(D H), and one step in O(H) by
adding the newest input's column. DeepNADE (Uria et al. 2014) feeds the
network x (.) m and the mask m; its first layer is the same sum with the
mask's own weights added, so the prefix masks of one ordering are a
cumulative sum too. No Keras layer does this, hence these two.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="arzoo")
class NADEInput(keras.layers.Layer):
    """Hidden pre-activations from a subset of observed dimensions.

    Weights: `kernel` `[D, F, H]` (F features per dimension), `bias` `[H]`
    and, with `mask_inputs=True`, `mask_kernel` `[D, H]`, the weights of
    "dimension d is observed".

    Args:
      num_dims: D.
      num_features: F, input features per dimension.
      units: H.
      mask_inputs: also read the observed-mask (DeepNADE).
    """

    def __init__(self, num_dims, num_features, units, mask_inputs=False, **kwargs):
        super().__init__(**kwargs)
        self.num_dims = int(num_dims)
        self.num_features = int(num_features)
        self.units = int(units)
        self.mask_inputs = bool(mask_inputs)

    def build(self, input_shape=None):
        init = keras.initializers.RandomNormal(stddev=(self.num_dims * self.num_features) ** -0.5)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.num_dims, self.num_features, self.units), initializer=init
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.mask_kernel = (
            self.add_weight(name="mask_kernel", shape=(self.num_dims, self.units), initializer=init)
            if self.mask_inputs
            else None
        )

    def _contributions(self, features):
        """`[B, D, F]` -> `[B, D, H]`: what observing each dimension adds."""
        added = tf.einsum("bdf,dfh->bdh", features, self.kernel)
        if self.mask_inputs:
            added = added + self.mask_kernel[None]
        return added

    def call(self, features, mask):
        """`[B, D, F]` features and `[B, D]` 0/1 observed mask -> `[B, H]`."""
        mask = tf.cast(mask, features.dtype)
        observed = tf.reshape(features * mask[..., None], [-1, self.num_dims * self.num_features])
        kernel = tf.reshape(self.kernel, [self.num_dims * self.num_features, self.units])
        activation = tf.matmul(observed, kernel) + self.bias
        if self.mask_inputs:
            activation = activation + tf.matmul(mask, self.mask_kernel)
        return activation

    def prefix_activations(self, features, ordering):
        """`[B, D, H]`: row t is the pre-activation given dimensions
        ordering[:t] (exclusive cumulative sum along the ordering)."""
        ordered = tf.gather(self._contributions(features), ordering, axis=1)
        return tf.cumsum(ordered, axis=1, exclusive=True) + self.bias

    def add_dimension(self, activation, dims, features_t):
        """One step: `activation` `[B, H]` plus dimension `dims` `[B]` with
        features `[B, F]` observed."""
        added = tf.einsum("bf,bfh->bh", features_t, tf.gather(self.kernel, dims))
        if self.mask_inputs:
            added = added + tf.gather(self.mask_kernel, dims)
        return activation + added

    def get_config(self):
        config = super().get_config()
        config.update(
            num_dims=self.num_dims,
            num_features=self.num_features,
            units=self.units,
            mask_inputs=self.mask_inputs,
        )
        return config


@keras.saving.register_keras_serializable(package="arzoo")
class NADEOutput(keras.layers.Layer):
    """Per-dimension output weights `V` `[D, H, P]` and biases `b` `[D, P]`.

    Args:
      num_dims: D.
      units: H, the hidden width it reads.
      num_params: P, distribution parameters per dimension.
    """

    def __init__(self, num_dims, units, num_params, **kwargs):
        super().__init__(**kwargs)
        self.num_dims = int(num_dims)
        self.units = int(units)
        self.num_params = int(num_params)

    def build(self, input_shape=None):
        init = keras.initializers.RandomNormal(stddev=self.units ** -0.5)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.num_dims, self.units, self.num_params), initializer=init
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.num_dims, self.num_params), initializer="zeros"
        )

    def call(self, hidden):
        """Every dimension's parameters from one hidden vector: `[B, H]` -> `[B, D, P]`."""
        return tf.einsum("bh,dhp->bdp", hidden, self.kernel) + self.bias

    def at(self, hidden, dims):
        """Parameters of one dimension per hidden vector.

        `hidden` `[B, T, H]` with `dims` `[T]` (row t of every example reads
        dimension dims[t]) -> `[B, T, P]`; or `[B, H]` with `[B]` -> `[B, P]`.
        """
        kernel, bias = tf.gather(self.kernel, dims), tf.gather(self.bias, dims)
        if hidden.shape.rank == 3:
            return tf.einsum("bth,thp->btp", hidden, kernel) + bias
        return tf.einsum("bh,bhp->bp", hidden, kernel) + bias

    def get_config(self):
        config = super().get_config()
        config.update(num_dims=self.num_dims, units=self.units, num_params=self.num_params)
        return config

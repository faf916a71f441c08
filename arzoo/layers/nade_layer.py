"""NADE's weight-shared input and per-dimension output layers.

NADE (Larochelle and Murray 2011) computes the hidden pre-activation of
every conditional, a_t = c + sum_{s<t} W_{o_s} x_{o_s}, as a cumulative sum
over the ordering o: all D of them in O(D H), and one step in O(H) by
adding the newest input's column. DeepNADE (Uria et al. 2014) feeds the
network x (.) m and the mask m; its first layer is the same sum with the
mask's own weights added, so the prefix masks of one ordering are a
cumulative sum too. No Keras layer does this, hence these two.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least


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
        self.num_dims = int_at_least("num_dims", num_dims, 1)
        self.num_features = int_at_least("num_features", num_features, 1)
        self.units = int_at_least("units", units, 1)
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

    def call(self, features, mask):
        """`[B, D, F]` features and `[B, D]` 0/1 observed mask -> `[B, H]`."""
        mask = tf.cast(mask, features.dtype)
        observed = tf.reshape(features * mask[..., None], [-1, self.num_dims * self.num_features])
        kernel = tf.reshape(self.kernel, [self.num_dims * self.num_features, self.units])
        activation = tf.matmul(observed, kernel) + self.bias
        if self.mask_inputs:
            activation = activation + tf.matmul(mask, self.mask_kernel)
        return activation

    def _ordered_inputs(self, features, ordering):
        """Features and weights permuted into `ordering`; with mask inputs,
        "observed" is one more feature (always 1) with the mask weights."""
        features = tf.gather(features, ordering, axis=1)
        kernel = tf.gather(self.kernel, ordering)
        if self.mask_inputs:
            features = tf.concat([features, tf.ones_like(features[..., :1])], axis=-1)
            kernel = tf.concat([kernel, tf.gather(self.mask_kernel, ordering)[:, None]], axis=1)
        return features, kernel

    def prefix_activations(self, features, ordering):
        """`[B, D, H]`: row t is the pre-activation given dimensions
        ordering[:t], an exclusive cumulative sum along the ordering.

        Computed in blocks of about sqrt(D) steps as matrix products:
        what the blocks before a step add (`[B, blocks, H]`) plus what its
        own block adds before it (a strictly lower-triangular mask inside
        the block). The outputs are those of `tf.cumsum`, but TF's CPU scan
        kernel is slow on a `[B, D, H]` tensor: for NADE-500 on 28x28 at
        batch 100 on 2 CPU cores, 0.37 s with `tf.cumsum` against 0.07 s
        this way, a whole training step 0.68 s against 0.25 s
        (`python -m benchmarks.nade_prefix_sums`, BENCHMARKS.md).
        """
        num_dims = self.num_dims
        block = math.ceil(math.sqrt(num_dims))
        blocks = math.ceil(num_dims / block)
        padding = blocks * block - num_dims
        x, kernel = self._ordered_inputs(features, ordering)
        features_per_dim = x.shape[-1]
        x = tf.pad(x, [[0, 0], [0, padding], [0, 0]])
        kernel = tf.pad(kernel, [[0, padding], [0, 0], [0, 0]])
        block_of = np.repeat(np.arange(blocks), block * features_per_dim)
        earlier = (block_of[None, :] < np.arange(blocks)[:, None]).astype(np.float32)
        flat_x = tf.reshape(x, [-1, 1, blocks * block * features_per_dim])
        before = tf.matmul(
            flat_x * earlier, tf.reshape(kernel, [-1, self.units])
        )  # [B, blocks, H]
        inside = np.tril(np.ones((block, block), np.float32), -1)[None, None, :, :, None]
        x_blocks = tf.reshape(x, [-1, blocks, 1, block, features_per_dim]) * inside
        kernel_blocks = tf.reshape(kernel, [blocks, block, features_per_dim, self.units])
        within = tf.einsum("bktsf,ksfh->bkth", x_blocks, kernel_blocks)
        activations = within + before[:, :, None] + self.bias
        activations = tf.reshape(activations, [-1, blocks * block, self.units])
        return activations[:, :num_dims] if padding else activations

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
        self.num_dims = int_at_least("num_dims", num_dims, 1)
        self.units = int_at_least("units", units, 1)
        self.num_params = int_at_least("num_params", num_params, 1)

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
            if self.num_params == 1:
                return tf.reduce_sum(hidden * kernel[None, :, :, 0], -1, keepdims=True) + bias
            return tf.einsum("bth,thp->btp", hidden, kernel) + bias
        return tf.einsum("bh,bhp->bp", hidden, kernel) + bias

    def get_config(self):
        config = super().get_config()
        config.update(num_dims=self.num_dims, units=self.units, num_params=self.num_params)
        return config

"""The interface every likelihood head implements.

A head turns the raw network output at one pixel, a vector of
`params_per_pixel` floats, into a distribution over that pixel's `num_channels`
integer values in `[0, num_levels)`. Heads hold no weights: the network makes
the parameters, the head only interprets them, so heads are plain Python
objects rebuilt from the model's constructor arguments.

Two kinds of head exist:

* channel-independent heads (`channel_coupled = False`: Bernoulli,
  Categorical). Each channel has its own slice of parameters; dependence of
  green on red inside a pixel must come from the network's channel-group
  masks, and the sampler takes one step per sub-pixel.
* channel-coupled heads (`channel_coupled = True`: the discretized logistic
  mixture). The head itself couples the channels of one pixel, the network
  only sees earlier pixels, and the sampler takes one step per pixel.

Sampling uses uniforms drawn by the caller (one row of `num_uniforms` per
step and batch row) so that every batch row draws from its own stateless
seed; see `arzoo.sampling.seeds`.
"""

import abc

import tensorflow as tf


class LikelihoodHead(abc.ABC):
    """Base class of the likelihood heads.

    Subclasses set `num_channels`, `num_levels`, `channel_coupled`,
    `params_per_pixel` and `num_uniforms`, and implement the methods below.
    """

    num_channels: int
    num_levels: int
    channel_coupled: bool
    params_per_pixel: int
    num_uniforms: int

    @property
    def steps_per_pixel(self):
        """Sampling steps per pixel: 1 for coupled heads, else one per channel."""
        return 1 if self.channel_coupled else self.num_channels

    @property
    def values_per_step(self):
        """How many channel values one sampling step produces."""
        return self.num_channels if self.channel_coupled else 1

    @property
    def params_per_step(self):
        """Length of the parameter vector one sampling step reads."""
        if self.channel_coupled:
            return self.params_per_pixel
        return self.params_per_pixel // self.num_channels

    def step_params(self, pixel_params, channel):
        """The slice of one pixel's parameters that a sampling step reads.

        Args:
          pixel_params: `[B, params_per_pixel]` float tensor.
          channel: `[B]` int tensor, the channel each row's step samples
            (ignored by coupled heads, which sample the whole pixel at once).

        Returns:
          `[B, params_per_step]` float tensor.
        """
        if self.channel_coupled:
            return pixel_params
        per_channel = tf.reshape(
            pixel_params, [-1, self.num_channels, self.params_per_step]
        )
        return tf.gather(per_channel, channel, axis=1, batch_dims=1)

    @abc.abstractmethod
    def conditional_log_probs(self, params, x):
        """log p(x_c | everything before it) for every sub-pixel.

        Args:
          params: `[..., params_per_pixel]` float32.
          x: `[..., num_channels]` integer values in `[0, num_levels)`.

        Returns:
          `[..., num_channels]` float32 log-probabilities in nats.
        """

    @abc.abstractmethod
    def step_log_prob(self, params_t, values_t):
        """Log-probability of one step's values: `[B, P_t]`, `[B, V_t]` -> `[B]`."""

    @abc.abstractmethod
    def step_sample(self, params_t, uniforms, temperature):
        """Draw one step's values.

        Args:
          params_t: `[B, params_per_step]` float32.
          uniforms: `[B, num_uniforms]` float32 in [0, 1), one row per sample.
          temperature: `[B]` float32 > 0.

        Returns:
          `[B, values_per_step]` int32.
        """

    @abc.abstractmethod
    def distribution(self, params):
        """A `tfp.distributions.Distribution` over one pixel's values.

        Batch shape `params.shape[:-1]`, event shape `[num_channels]`.
        """

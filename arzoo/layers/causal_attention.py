"""PixelSNAIL's causal attention block (Chen et al. 2018, arXiv:1712.09763).

Keys and values at position j come from the image itself at j, the block's
features at j and j's coordinates; the query at position i from the features
at i and i's coordinates. Position i reads positions j < i only: the keys
hold the pixel values at j, so j = i is excluded even though the features
there are causal. The first position reads nothing (its output is zero).

Written with `tf.einsum` and an explicit mask rather than
`keras.layers.MultiHeadAttention`: with every key masked (position 0) its
softmax gives equal weights to all of them, which would let the first
pixel read the whole image.
"""

import keras
import numpy as np
import tensorflow as tf

from arzoo.arguments import int_at_least
from arzoo.layers.gated_resnet import GatedResNet

# Logit of a masked key: exp(it - max) is 0 in float32 next to any real key.
_MASKED_LOGIT = -1e9


def causal_attention(query, keys, values, mask, num_heads):
    """softmax(q k^T / sqrt(d)) v over the keys `mask` allows.

    Args:
      query: `[B, Q, num_heads * d]`.
      keys: `[B, N, num_heads * d]`.
      values: `[B, N, num_heads * dv]`.
      mask: bool `[Q, N]`, true where query q may read key n.
      num_heads: heads, each with its slice of the channels.

    Returns `[B, Q, num_heads * dv]`; a query with no key allowed gets zeros.
    """
    def heads(t):
        return tf.reshape(t, tf.concat([tf.shape(t)[:2], [num_heads, t.shape[-1] // num_heads]], 0))

    q, k, v = heads(query), heads(keys), heads(values)
    logits = tf.einsum("bqhd,bnhd->bhqn", q, k) / np.sqrt(q.shape[-1]).astype(np.float32)
    allowed = tf.cast(mask, logits.dtype)
    weights = tf.nn.softmax(tf.where(mask, logits, _MASKED_LOGIT), axis=-1) * allowed
    mixed = tf.einsum("bhqn,bnhd->bqhd", weights, v)
    return tf.reshape(mixed, tf.concat([tf.shape(mixed)[:2], [values.shape[-1]]], 0))


def strictly_causal_mask(size):
    """`[size, size]` bool: query i may read keys j < i."""
    return np.tril(np.ones((size, size), bool), k=-1)


@keras.saving.register_keras_serializable(package="arzoo")
class CausalAttentionBlock(keras.layers.Layer):
    """features + gate(features, attention): PixelSNAIL's attention block.

    keys, values = nin(gated_resnet_1x1([x, features, coordinates]))
    query = nin(gated_resnet_1x1([features, coordinates]))
    output = gated_resnet_1x1(features, shortcut=attention(query, keys, values))

    All of it is pointwise but the attention, so cached sampling computes a
    position's key and value once its pixel is known (`keys_values`), its
    query (`query`), the attention over the keys stored so far (`attend`)
    and the output (`output`), and equals `call` on the whole map.

    Args:
      num_filters: channels F of the features (in and out).
      image_channels: channels C of the image x.
      key_size: channels of a key and a query, per head.
      value_size: channels of a value, per head.
      num_heads: attention heads.
      dropout_p: dropout of the gated blocks while training.
      conditional: whether the gated blocks take an encoded condition.

    Call arguments:
      x: `[B, H, W, C]` the image (scaled levels); features: `[B, H, W, F]`;
      coordinates: `[B, H, W, 2]`; condition: `[B, D]`, `[B, H, W, D]` or
      None; training: bool.
    """

    def __init__(self, num_filters, image_channels, key_size, value_size, num_heads=1, dropout_p=0.0,
                 conditional=False, **kwargs):
        super().__init__(**kwargs)
        self.num_filters = int_at_least("num_filters", num_filters, 1)
        self.image_channels = int_at_least("image_channels", image_channels, 1)
        self.key_size = int_at_least("key_size", key_size, 1)
        self.value_size = int_at_least("value_size", value_size, 1)
        self.num_heads = int_at_least("num_heads", num_heads, 1)
        self.dropout_p = float(dropout_p)
        self.conditional = bool(conditional)
        f, heads = self.num_filters, self.num_heads
        block = dict(stream="pixel", dropout_p=self.dropout_p, conditional=self.conditional)
        self.content_block = GatedResNet(self.image_channels + f + 2, name="content_block", **block)
        self.keys_values_projection = keras.layers.Dense(
            heads * (self.key_size + self.value_size), name="keys_values_projection")
        self.query_block = GatedResNet(f + 2, name="query_block", **block)
        self.query_projection = keras.layers.Dense(heads * self.key_size, name="query_projection")
        self.output_block = GatedResNet(f, shortcut=True, name="output_block", **block)

    def keys_values(self, x, features, coordinates, condition=None, training=False):
        """(keys `[..., heads * key_size]`, values `[..., heads * value_size]`) at every position given."""
        content = self.content_block(tf.concat([x, features, coordinates], -1), None, condition, training=training)
        projected = self.keys_values_projection(content)
        return projected[..., : self.num_heads * self.key_size], projected[..., self.num_heads * self.key_size:]

    def query(self, features, coordinates, condition=None, training=False):
        """The query `[..., heads * key_size]` at every position given."""
        return self.query_projection(
            self.query_block(tf.concat([features, coordinates], -1), None, condition, training=training))

    def attend(self, query, keys, values, mask):
        """`causal_attention` with this block's heads."""
        return causal_attention(query, keys, values, mask, self.num_heads)

    def output(self, features, mixed, condition=None, training=False):
        return self.output_block(features, mixed, condition, training=training)

    def call(self, x, features, coordinates, condition=None, training=False):
        shape = tf.shape(features)
        size = features.shape[1] * features.shape[2]

        def flat(t):
            return tf.reshape(t, [shape[0], size, t.shape[-1]])

        keys, values = self.keys_values(x, features, coordinates, condition, training)
        query = self.query(features, coordinates, condition, training)
        mixed = self.attend(flat(query), flat(keys), flat(values), strictly_causal_mask(size))
        mixed = tf.reshape(mixed, tf.concat([shape[:3], [mixed.shape[-1]]], 0))
        return self.output(features, mixed, condition, training)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_filters=self.num_filters,
            image_channels=self.image_channels,
            key_size=self.key_size,
            value_size=self.value_size,
            num_heads=self.num_heads,
            dropout_p=self.dropout_p,
            conditional=self.conditional,
        )
        return config

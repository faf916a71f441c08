"""TF-Serving-ready signatures of an arzoo audio model (WaveNet).

x is int32 levels `[B, T]` with T free (every row of one request the same
T); a model conditioned on speakers takes `speaker` `[B]` int32, one on
local features takes `features` `[B, F, local_channels]` float32 (one frame
per `hop_length` samples, covering every sample: F * hop_length >= T).

| signature | inputs | outputs |
|---|---|---|
| serving_default, log_prob | x [B,T] int32 (+ speaker, features) | log_prob [B], bits_per_sample [B] |
| sample | seed [B,2] int32, temperature [B] float32, length [B] int32 (+ speaker) / (features [+ speaker]) | samples [B,T] int32, audio [B,T] float32 |
| complete | x, known_mask [B,T] int32, seed, temperature (+ speaker, features) | samples, audio |
| initial_state | seed (+ speaker, features) | state_<path> tensors |
| step | inputs_t [B,1] int32, seed, temperature, state_<path> (+ speaker, features) | params [B,P], values [B,1] int32, state_<path> |
| metadata | seed [B,2] | num_levels, sample_rate, hop_length, sample_length, max_length, max_batch_size, num_speakers, local_channels, receptive_field: [B] int32 each |

`sample` takes `length` (equal in every row) only when the model has no local
features; with features the length is F * hop_length. `audio` is `samples`
decoded to [-1, 1] by the model's companding (`model.decode_audio`). Every
time axis is at most `max_length` samples (default ten seconds), so one
request cannot hold the server for long. `step` draws sample
`state_position` from the same per-row uniforms as `sample`, so streaming from
`initial_state` (feeding `values` back as `inputs_t`) reproduces `sample`
exactly; the rows of a state advance together, so their positions must agree.
The exported loops write the queues with `TensorStridedSliceUpdate`
(`in_place=False`): XLA's in-place update op must not appear in a SavedModel.
"""

import numpy as np
import tensorflow as tf

from arzoo.sampling.driver import cached_sample
from arzoo.sampling.seeds import step_uniforms
from arzoo.serving.signatures import (
    DEFAULT_MAX_BATCH_SIZE,
    ServingModule,
    flatten_state,
    state_specs,
    unflatten_state,
)

DEFAULT_MAX_SECONDS = 10


class AudioServingModule(ServingModule):
    """The signatures of a `WaveNet`-like model (`modality == "audio"`).

    Args:
      model: the model: `num_levels`, `num_speakers`, `local_channels`,
        `hop_length`, `sample_rate`, `join_condition` and the model contract.
      max_batch_size: largest B any signature accepts.
      max_length: most samples any time axis may have (default ten seconds
        at `model.sample_rate`).
    """

    def __init__(self, model, max_batch_size=DEFAULT_MAX_BATCH_SIZE, max_length=None):
        super().__init__(model, max_batch_size)
        if max_length is None:
            max_length = DEFAULT_MAX_SECONDS * model.sample_rate
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be an integer >= 1 (samples), got {max_length!r}.")
        self.max_length = int(max_length)
        self._state_template = model.initial_state(1)

    def metadata_values(self):
        model = self.model
        return {
            "num_levels": model.num_levels,
            "sample_rate": model.sample_rate,
            "hop_length": model.hop_length,
            "sample_length": model.sample_length,
            "max_length": self.max_length,
            "max_batch_size": self.max_batch_size,
            "num_speakers": model.num_speakers or 0,
            "local_channels": model.local_channels or 0,
            "receptive_field": model.receptive_field,
        }

    def decode(self, levels):
        """Levels -> float audio in [-1, 1], by the model's companding."""
        return self.model.decode_audio(levels)

    # ----- validation --------------------------------------------------------

    def _check_condition(self, speaker, features, length=None):
        """Speaker ids known, features finite and, if `length` (a scalar) is
        given, covering that many samples."""
        checks = []
        if speaker is not None:
            checks += self._check_ids("speaker", speaker, "speaker id", "num_speakers", self.model.num_speakers)
        if features is not None:
            checks.append(tf.debugging.assert_all_finite(features, "input 'features' is not finite"))
            if length is not None:
                hop = self.model.hop_length
                checks.append(
                    tf.debugging.assert_greater_equal(
                        tf.shape(features)[1] * hop, length,
                        message=f"input 'features' is too short: its frames x hop_length={hop} must cover "
                        "every sample asked for",
                    )
                )
        return checks

    # ----- endpoints ---------------------------------------------------------

    def _log_prob(self, inputs):
        x, speaker, features = inputs["x"], inputs.get("speaker"), inputs.get("features")
        model = self.model
        length = tf.shape(x)[1]
        checks = self._check_batch(tf.shape(x)[0], speaker=speaker, features=features)
        checks += self._check_levels("x", x) + self._check_length("x", length, "samples")
        checks += self._check_condition(speaker, features, length)

        def run():
            params = model(x, model.join_condition(speaker, features))
            conditionals = model.head.conditional_log_probs(params, x[..., None])[..., 0]
            log_prob = tf.reduce_sum(conditionals, axis=1)
            bits = -log_prob / (tf.cast(length, tf.float32) * np.log(2.0))
            return {"log_prob": log_prob, "bits_per_sample": bits}

        return self._with_checks(checks, run)

    def _generate(self, seed, temperature, speaker, features, known, known_mask):
        model = self.model
        uniforms = step_uniforms(seed, tf.shape(known)[1], model.head.num_uniforms)
        condition = model.join_condition(speaker, features)
        samples = cached_sample(model, uniforms, temperature, condition, known, known_mask > 0)
        return {"samples": samples, "audio": self.decode(samples)}

    def _complete(self, inputs):
        x, known_mask = inputs["x"], inputs["known_mask"]
        seed, temperature = inputs["seed"], inputs["temperature"]
        speaker, features = inputs.get("speaker"), inputs.get("features")
        length = tf.shape(x)[1]
        checks = self._check_batch(
            tf.shape(seed)[0], x=x, known_mask=known_mask, temperature=temperature,
            speaker=speaker, features=features,
        )
        checks += self._check_levels("x", x) + self._check_length("x", length, "samples")
        checks += self._check_mask(known_mask, x) + self._check_sampling(temperature)
        checks += self._check_condition(speaker, features, length)

        def run():
            known = tf.where(known_mask > 0, x, tf.zeros_like(x))
            return self._generate(seed, temperature, speaker, features, known, known_mask)

        return self._with_checks(checks, run)

    def _sample(self, inputs):
        seed, temperature = inputs["seed"], inputs["temperature"]
        speaker, features = inputs.get("speaker"), inputs.get("features")
        batch = tf.shape(seed)[0]
        checks = self._check_batch(batch, temperature=temperature, speaker=speaker, features=features)
        checks += self._check_sampling(temperature) + self._check_condition(speaker, features)
        if features is None:
            lengths = inputs["length"]
            checks += self._check_batch(batch, length=lengths) + self._check_length("length", lengths, "samples")
            length = tf.reduce_max(lengths)
            checks.append(
                tf.debugging.assert_equal(
                    lengths, length, message="input 'length' must be the same in every row of a request"
                )
            )
        else:  # the features say how long
            length = tf.shape(features)[1] * self.model.hop_length
            checks += self._check_length("features", length, "samples")

        def run():
            zeros = tf.zeros(tf.stack([batch, length]), tf.int32)
            return self._generate(seed, temperature, speaker, features, zeros, zeros)

        return self._with_checks(checks, run)

    def _initial_state(self, inputs):
        seed, speaker, features = inputs["seed"], inputs.get("speaker"), inputs.get("features")
        checks = self._check_batch(tf.shape(seed)[0], speaker=speaker, features=features)
        checks += self._check_condition(speaker, features)
        if features is not None:
            checks += self._check_length("features", tf.shape(features)[1] * self.model.hop_length, "samples")

        def run():
            return flatten_state(self.model.initial_state(tf.shape(seed)[0]))

        return self._with_checks(checks, run)

    def _step(self, inputs):
        inputs_t, seed, temperature = inputs["inputs_t"], inputs["seed"], inputs["temperature"]
        speaker, features = inputs.get("speaker"), inputs.get("features")
        state, position = self._state_inputs(inputs)
        model = self.model
        checks = self._check_batch(
            tf.shape(seed)[0], inputs_t=inputs_t, temperature=temperature,
            speaker=speaker, features=features, **state,
        )
        checks += self._check_levels("inputs_t", inputs_t) + self._check_sampling(temperature)
        # The sample this step draws must be covered by the features.
        checks += self._check_condition(speaker, features, tf.reduce_max(position) + 1)
        checks += self._check_position(position, self.max_length, f"max_length={self.max_length} (this export's limit)")
        checks.append(
            tf.debugging.assert_equal(
                position, tf.reduce_max(position),
                message="state_position must be the same in every row (the rows of a state advance together)",
            )
        )

        def run():
            nest = unflatten_state(self._state_template, state)
            context = model.prepare_condition(model.join_condition(speaker, features))
            params_t, new_state = model.prepared_step(inputs_t, nest, context)
            return self._step_outputs(params_t, new_state, seed, position, temperature)

        return self._with_checks(checks, run)

    # ----- concrete functions ------------------------------------------------

    def signatures(self):
        model = self.model
        x = tf.TensorSpec([None, None], tf.int32, name="x")
        known_mask = tf.TensorSpec([None, None], tf.int32, name="known_mask")
        seed = tf.TensorSpec([None, 2], tf.int32, name="seed")
        temperature = tf.TensorSpec([None], tf.float32, name="temperature")
        inputs_t = tf.TensorSpec([None, 1], tf.int32, name="inputs_t")
        speaker = tf.TensorSpec([None], tf.int32, name="speaker") if model.num_speakers else None
        features = (
            tf.TensorSpec([None, None, model.local_channels], tf.float32, name="features")
            if model.local_channels
            else None
        )
        length = None if features is not None else tf.TensorSpec([None], tf.int32, name="length")
        state = state_specs(self._state_template)
        log_prob = self._endpoint(self._log_prob, [x, speaker, features])
        return {
            "serving_default": log_prob,
            "log_prob": log_prob,
            "sample": self._endpoint(self._sample, [seed, temperature, length, speaker, features]),
            "complete": self._endpoint(
                self._complete, [x, known_mask, seed, temperature, speaker, features]
            ),
            "initial_state": self._endpoint(self._initial_state, [seed, speaker, features]),
            "step": self._endpoint(self._step, [inputs_t, seed, temperature, *state, speaker, features]),
            "metadata": self._metadata_endpoint(),
        }

"""A client of an exported arzoo model behind TensorFlow Serving's gRPC or
REST API.

It uses only the public TF Serving API (PredictionService, ModelService, and
the REST routes over them), so it works the same against `arzoo serve` and
the real `tensorflow_model_server`; a target "host:port" is gRPC (8500 by
convention), "http://host:port" REST (8501).
Every array goes out with the dtype the signatures declare (levels, labels,
speaker ids, lengths and seeds int32; temperatures, real conditions and
features float32).

Example:

    with Client("localhost:8500", "gated_pixelcnn") as client:
        seeds = row_seeds(0, 16)                      # [16, 2] int32, as model.sample(seed=0)
        images = client.sample(seeds, temperature=1.0)  # [16, H, W, C] int32
        client.log_prob(images)["bits_per_dim"]       # [16]
        for values in client.stream(seeds):           # one [16, V] array per step
            ...
        client.model_info()["num_levels"]

    with Client("http://localhost:8501", "gated_pixelcnn") as client:  # REST, same numbers
        images = client.sample(seeds)

    with Client("localhost:8500", "wavenet") as client:
        levels, audio = client.sample_audio(row_seeds(0, 4), length=16000)  # [4, 16000] each
        client.log_prob(levels)["bits_per_sample"]    # [4]
"""

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_pb2

from arzoo.arguments import fits_int32
from arzoo.sampling.seeds import row_seeds  # noqa: F401  (re-exported: the seeds of `sample`)
from arzoo.serving.protocol import METADATA_SIGNATURE, STATE_PREFIX
from arzoo.serving.transports import ServingError, transport_for  # noqa: F401  (ServingError re-exported)

DEFAULT_TIMEOUT_SECONDS = 120.0


def _int32(name, value):
    array = np.asarray(value)
    if array.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}.")
    return fits_int32(name, array).astype(np.int32)


def _condition(condition):
    if condition is None:
        return None
    array = np.asarray(condition)
    return fits_int32("condition", array).astype(np.int32 if array.dtype.kind in "iub" else np.float32)


def _condition_inputs(condition=None, speaker=None, features=None):
    """The conditioning inputs of a request: `condition` (image models),
    `speaker` and `features` (audio models); absent ones are left out."""
    inputs = {}
    if condition is not None:
        inputs["condition"] = _condition(condition)
    if speaker is not None:
        inputs["speaker"] = _int32("speaker", speaker)
    if features is not None:
        inputs["features"] = np.asarray(features, np.float32)
    return inputs


def served_modality(signatures, info):
    """The kind of event a served model draws, read from what its export
    shows: the metadata each event space exports (text: `vocabulary`, audio:
    `sample_rate`, vectors: `num_dims`, real-valued images: an `image_shape`
    without `num_levels`) or, for exports older than
    `metadata`, the `audio` output of audio models."""
    if "vocabulary" in info:
        return "text"
    if "sample_rate" in info or "audio" in signatures["sample"].outputs:
        return "audio"
    if "num_dims" in info:
        return "vector"
    if "num_frames" in info:
        return "video"
    if "num_levels" not in info and "image_shape" in info:  # real values have no levels
        return "real_image"
    return "image"


def row_batches(count, batch_size, option="batch_size"):
    """Row slices of at most `batch_size` rows covering `count` rows, one per request."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{option} must be an integer >= 1, got {batch_size!r}.")
    return [slice(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


class Client:
    """Calls the signatures of one served model.

    Args:
      target: "host:port" of TF Serving's gRPC API, or "http://host:port" of
        its REST API (numbers and errors are the same either way).
      model_name: the served model name.
      version: None (the latest), an integer version, or a version label.
      timeout: seconds allowed per request.
    """

    def __init__(self, target, model_name, version=None, timeout=DEFAULT_TIMEOUT_SECONDS):
        if isinstance(version, bool) or not (version is None or isinstance(version, (int, str))):
            raise ValueError(f"version must be None, an int or a label, got {version!r}.")
        self.target = target
        self.model_name = model_name
        self.version = version
        self.timeout = float(timeout)
        self._transport = transport_for(target, self.timeout)
        self._signature_defs = None
        self._model_info = None

    @property
    def protocol(self):
        """"grpc" or "rest"."""
        return self._transport.protocol

    def close(self):
        self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----- raw calls ---------------------------------------------------------

    def _spec(self, signature_name=None):
        spec = model_pb2.ModelSpec(name=self.model_name)
        if isinstance(self.version, str):
            spec.version_label = self.version
        elif self.version is not None:
            spec.version.value = int(self.version)
        if signature_name is not None:
            spec.signature_name = signature_name
        return spec

    def predict(self, signature_name, inputs, output_filter=()):
        """Run one signature: {alias: array} in, {alias: numpy array} out."""
        inputs = {alias: value for alias, value in inputs.items() if value is not None}
        return self._transport.predict(self._spec(signature_name), inputs, output_filter)

    def signature_defs(self):
        """{name: SignatureDef} of the served version (GetModelMetadata)."""
        if self._signature_defs is None:
            self._signature_defs = self._transport.signature_defs(self._spec())
        return self._signature_defs

    def metadata(self):
        """{signature: {"inputs": {alias: (dtype, shape)}, "outputs": ...}};
        -1 in a shape is a free dimension."""

        def summary(infos):
            return {
                alias: (tf.dtypes.as_dtype(info.dtype).name, [d.size for d in info.tensor_shape.dim])
                for alias, info in sorted(infos.items())
            }

        return {
            name: {"inputs": summary(sig.inputs), "outputs": summary(sig.outputs)}
            for name, sig in sorted(self.signature_defs().items())
            if not name.startswith("__")
        }

    def status(self):
        """{version: state name} (GetModelStatus)."""
        response = self._transport.status(self._spec())
        names = get_model_status_pb2.ModelVersionStatus.State.Name
        return {row.version: names(row.state) for row in response.model_version_status}

    def model_info(self):
        """What the export says about its model, from its `metadata` signature,
        with "modality" ("image", "audio", "text", "vector", "video" or "real_image") added:
        {"modality": ..., "num_levels": L, ...} (images: image_shape,
        num_steps, max_batch_size; audio: sample_rate, hop_length,
        sample_length, max_length, max_batch_size, num_speakers,
        local_channels, receptive_field; text: vocabulary as code points,
        max_length, num_classes; vectors: num_dims, num_steps; real-valued
        images: image_shape, num_steps, max_batch_size, zero_mean; a bound's
        export adds likelihood_is_exact = 0, a model with a code latent_dim). An export made
        before `metadata` existed gives what its signatures show: the
        modality, an image's shape, and "num_levels": None."""
        if self._model_info is None:
            signatures = self.signature_defs()
            if METADATA_SIGNATURE in signatures:
                rows = self.predict(METADATA_SIGNATURE, {"seed": np.zeros([1, 2], np.int32)})
                info = {name: value[0].tolist() for name, value in rows.items()}
            else:
                info = {"num_levels": None}
                if "audio" not in signatures["sample"].outputs:  # then the only other kind: images
                    info["image_shape"] = list(self.sampling_layout()[0])
            info["modality"] = served_modality(signatures, info)
            self._model_info = info
        return dict(self._model_info)

    # ----- signatures --------------------------------------------------------

    def log_prob(self, x, condition=None, speaker=None, features=None):
        """Exact log-likelihoods of int levels x: images `[B, H, W, C]` give
        {"log_prob": [B] nats, "bits_per_dim": [B]}, audio `[B, T]` gives
        {"log_prob": [B] nats, "bits_per_sample": [B]}. Models of real values
        take `log_density`."""
        inputs = {"x": _int32("x", x), **_condition_inputs(condition, speaker, features)}
        return self.predict("log_prob", inputs)

    def log_density(self, x):
        """Exact log-densities of real values x (vectors `[B, D]`, real-valued
        images `[B, H, W, C]`): {"log_prob": [B] nats}."""
        x = np.asarray(x)
        if x.dtype.kind not in "fiu":
            raise ValueError(f"x must hold real numbers, got dtype {x.dtype}.")
        return self.predict("log_prob", {"x": x.astype(np.float32)})

    def _sampling_inputs(self, seeds, temperature, condition=None, speaker=None, features=None):
        seeds = _int32("seeds", seeds)
        if seeds.ndim != 2 or seeds.shape[1] != 2:
            raise ValueError(f"seeds must have shape [batch, 2], got {seeds.shape}.")
        given = np.asarray(temperature, np.float32)
        try:
            temperature = np.broadcast_to(given, seeds.shape[:1]).copy()
        except ValueError:
            raise ValueError(
                f"temperature must be a number or one per row ({len(seeds)} rows), got shape {given.shape}."
            ) from None
        return {"seed": seeds, "temperature": temperature, **_condition_inputs(condition, speaker, features)}

    def sample(self, seeds, temperature=1.0, condition=None, length=None):
        """Samples, row b drawn from `seeds[b]` alone: images `[B, H, W, C]`
        int32, vectors `[B, D]` float32, text `[B, length]` int32 ids (text
        exports take `length`, the characters to draw; audio has
        `sample_audio`)."""
        inputs = self._sampling_inputs(seeds, temperature, condition)
        if "length" in self.signature_defs()["sample"].inputs:
            if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
                raise ValueError(f"This model draws sequences: give length, an integer >= 1, got {length!r}.")
            inputs["length"] = np.full([len(inputs["seed"])], length, np.int32)
        elif length is not None:
            raise ValueError("length was given but this model's events have a fixed size.")
        return self.predict("sample", inputs)["samples"]

    def complete(self, x, known_mask, seeds, temperature=1.0, condition=None):
        """Sample the entries of x where `known_mask` is 0, keep the others."""
        inputs = self._sampling_inputs(seeds, temperature, condition)
        inputs.update(x=_int32("x", x), known_mask=_int32("known_mask", known_mask))
        return self.predict("complete", inputs)["samples"]

    def encode(self, x):
        """A model with a code (PixelVAE, the PixelCNN auto-encoder): its
        `encode` outputs for int levels x, {"mean", "log_variance"} or
        {"code"}, each `[B, latent_dim]` float32."""
        self._require_signature("encode")
        return self.predict("encode", {"x": _int32("x", x)})

    def decode(self, code, seeds, temperature=1.0):
        """A model with a code: images `[B, H, W, C]` drawn from the decoder
        given `code` `[B, latent_dim]`, row b from `seeds[b]`."""
        self._require_signature("decode")
        inputs = self._sampling_inputs(seeds, temperature)
        inputs["code"] = np.asarray(code, np.float32)
        return self.predict("decode", inputs)["samples"]

    def _require_signature(self, name):
        if name not in self.signature_defs():
            raise ValueError(
                f"The served model has no {name!r} signature (only the models with a code, PixelVAE and "
                f"the PixelCNN auto-encoder, export it); it has: {', '.join(sorted(self.signature_defs()))}."
            )

    def initial_state(self, seeds, condition=None, speaker=None, features=None):
        """{"state_<name>": array}, the state before step 0."""
        seeds = _int32("seeds", seeds)
        return self.predict(
            "initial_state", {"seed": seeds, **_condition_inputs(condition, speaker, features)}
        )

    def step(self, inputs_t, state, seeds, temperature=1.0, condition=None, speaker=None, features=None):
        """One sampling step: feed the previous values, get `(params, values,
        new_state)`; `values` are drawn from the same per-row uniforms as
        `sample`'s step at this position."""
        inputs = self._sampling_inputs(seeds, temperature, condition, speaker, features)
        inputs["inputs_t"] = _int32("inputs_t", inputs_t)
        inputs.update(state)
        outputs = self.predict("step", inputs)
        new_state = {k: v for k, v in outputs.items() if k.startswith(STATE_PREFIX)}
        return outputs["params"], outputs["values"], new_state

    def sampling_layout(self):
        """(image_shape, num_steps, values_per_step) read from the signatures
        (num_steps from the metadata where it says: a step may draw a group
        of pixels)."""
        signatures = self.signature_defs()
        image_shape = tuple(d.size for d in signatures["sample"].outputs["samples"].tensor_shape.dim[1:])
        values_per_step = signatures["step"].inputs["inputs_t"].tensor_shape.dim[1].size
        num_steps = int(np.prod(image_shape)) // values_per_step
        if METADATA_SIGNATURE in signatures:
            num_steps = int(self.model_info().get("num_steps", num_steps))
        return image_shape, num_steps, values_per_step

    def stream(self, seeds, temperature=1.0, condition=None):
        """Yield each step's `[B, V]` values in sampling order; `stream_images`
        assembles them into `sample(seeds, ...)` exactly."""
        seeds = _int32("seeds", seeds)
        _, num_steps, values_per_step = self.sampling_layout()
        state = self.initial_state(seeds, condition)
        previous = np.zeros([len(seeds), values_per_step], np.int32)
        for _ in range(num_steps):
            _, previous, state = self.step(previous, state, seeds, temperature, condition)
            yield previous

    def stream_images(self, seeds, temperature=1.0, condition=None):
        """`stream` assembled into `[B, H, W, C]` images: the steps stacked
        are the image in raster order, or, where the metadata has
        `step_subpixels` (steps that draw groups of pixels), scattered there."""
        image_shape, _, _ = self.sampling_layout()
        values = np.stack(list(self.stream(seeds, temperature, condition)), 1)
        batch = values.shape[0]
        layout = self.model_info().get("step_subpixels")
        if layout is None:
            return values.reshape((batch,) + image_shape)
        layout = np.asarray(layout)
        images = np.zeros([batch, int(np.prod(image_shape))], values.dtype)
        images[:, layout[layout >= 0]] = values.reshape(batch, -1)[:, layout >= 0]
        return images.reshape((batch,) + image_shape)

    # ----- audio -------------------------------------------------------------

    def _audio_length(self, length, features):
        """The samples a request draws: set by the features (frames x
        hop_length) when the model has them, else `length` or the model's
        sample_length."""
        info = self.model_info()
        if features is not None:
            covered = int(np.shape(features)[1]) * int(info["hop_length"])
            if length is not None and int(length) != covered:
                raise ValueError(
                    f"This model's audio is as long as its features: {np.shape(features)[1]} frames x "
                    f"hop_length={info['hop_length']} = {covered} samples, but length={length} was given."
                )
            return covered
        if length is None:
            length = info.get("sample_length")
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
            raise ValueError(f"length must be an integer number of samples, got {length!r}.")
        return int(length)

    def sample_audio(self, seeds, temperature=1.0, length=None, speaker=None, features=None):
        """`(levels, audio)`: `[B, T]` int32 levels and the same decoded to
        float32 in [-1, 1], row b drawn from `seeds[b]` alone. T is `length`
        (default the model's sample_length), or set by `features`
        (`[B, frames, local_channels]`, T = frames x hop_length) when the
        model takes them; `speaker` is `[B]` ids for a multi-speaker model."""
        inputs = self._sampling_inputs(seeds, temperature, speaker=speaker, features=features)
        length = self._audio_length(length, features)
        if "length" in self.signature_defs()["sample"].inputs:
            inputs["length"] = np.full([len(inputs["seed"])], length, np.int32)
        outputs = self.predict("sample", inputs)
        return outputs["samples"], outputs["audio"]

    def complete_audio(self, x, known_mask, seeds, temperature=1.0, speaker=None, features=None):
        """`(levels, audio)` of `x` `[B, T]` with the samples where
        `known_mask` is 0 drawn and the others kept (a mask of ones over a
        prefix continues it)."""
        inputs = self._sampling_inputs(seeds, temperature, speaker=speaker, features=features)
        inputs.update(x=_int32("x", x), known_mask=_int32("known_mask", known_mask))
        outputs = self.predict("complete", inputs)
        return outputs["samples"], outputs["audio"]

    def stream_audio(self, seeds, temperature=1.0, length=None, speaker=None, features=None):
        """Yield each sample's `[B]` int32 levels in time order, one `step`
        request each; stacked along axis 1 they are `sample_audio(...)`'s levels."""
        seeds = _int32("seeds", seeds)
        length = self._audio_length(length, features)
        state = self.initial_state(seeds, speaker=speaker, features=features)
        previous = np.zeros([len(seeds), 1], np.int32)
        for _ in range(length):
            _, previous, state = self.step(
                previous, state, seeds, temperature, speaker=speaker, features=features
            )
            yield previous[:, 0]

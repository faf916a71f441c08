"""Dataset names -> TFDS builders: arzoo's offline builders or the TFDS catalogue.

Offline names (`OFFLINE_NAMES`) are `tfds.core.GeneratorBasedBuilder`
subclasses in arzoo/data/builders/; any other name is looked up in the TFDS
catalogue (`tfds.builder(name, try_gcs=False)`, which is what `tfds.load`
does). Either way the builder is prepared once into `data_dir` with
`download_and_prepare()` and read with `as_dataset()`.

Network: TFDS 4.9 keeps its GCS mirror switched off
(`tfds.core.utils.gcs_utils._is_gcs_disabled`), and arzoo asks for no GCS
(`try_gcs=False`, `DownloadConfig(try_download_gcs=False)` for offline
builders), so offline names never touch the network. A TFDS catalogue name
that is not prepared yet needs a download; TFDS's downloader retries a failed
connection 10 times with back-off (about 3.5 minutes), so arzoo first checks
that `storage.googleapis.com` (home of most TFDS sources) resolves, and fails
at once with `DatasetUnavailableError` naming the offline datasets when it
does not. The check is skipped when a proxy is configured (HTTP(S)_PROXY).
"""

import concurrent.futures
import contextlib
import dataclasses
import io
import os
import socket
import sys

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.builders import OFFLINE_BUILDERS, image_folder_config

OFFLINE_NAMES = tuple(OFFLINE_BUILDERS)
DATA_DIR_ENV_VAR = "ARZOO_DATA_DIR"
# Catalogue datasets whose values do not span their dtype's full range.
CATALOGUE_NATIVE_LEVELS = {"binarized_mnist": 2}
NETWORK_PROBE_HOST = "storage.googleapis.com"
NETWORK_PROBE_TIMEOUT_S = 5.0
_PROXY_ENV_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


class DatasetUnavailableError(RuntimeError):
    """A TFDS catalogue dataset could not be downloaded (e.g. no network)."""


@dataclasses.dataclass(frozen=True)
class Source:
    """A builder plus what arzoo needs to read images from it.

    Attributes:
      name: the name asked for.
      builder: the (maybe not yet prepared) TFDS builder.
      offline: whether preparing it needs no network.
      image_key: the image feature's key.
      label_key: the label feature's key, or None (labels are then 0).
      native_levels: values are integers in [0, native_levels).
      num_classes: number of labels (1 when the dataset has none).
      stored_shape: (H, W, C) as stored.
      image_size: (H, W) to resize to when reading, or None.
      channels: channels to convert to when reading, or None.
    """

    name: str
    builder: tfds.core.DatasetBuilder
    offline: bool
    image_key: str
    label_key: str | None
    native_levels: int
    num_classes: int
    stored_shape: tuple
    image_size: tuple | None
    channels: int | None

    @property
    def image_shape(self):
        """(H, W, C) of the images `load_dataset` yields."""
        height, width, channels = self.stored_shape
        if self.image_size is not None:
            height, width = self.image_size
        return (height, width, self.channels or channels)


def resolve_data_dir(data_dir=None):
    """`data_dir`, else $ARZOO_DATA_DIR, else None (TFDS's default folder)."""
    return data_dir or os.environ.get(DATA_DIR_ENV_VAR) or None


def open_source(name, *, data_dir=None, image_folder=None, image_size=None, channels=None):
    """The `Source` for `name`; nothing is downloaded or prepared yet."""
    data_dir = resolve_data_dir(data_dir)
    if name == "image_folder":
        if image_folder is None:
            raise ValueError(
                "name='image_folder' needs image_folder=<path to a folder of images>."
            )
        config = image_folder_config(
            image_folder, image_size, 3 if channels is None else channels
        )
        builder = OFFLINE_BUILDERS[name](config=config, data_dir=data_dir)
        # Resizing and channel conversion already happened when preparing.
        image_size = channels = None
    elif image_folder is not None:
        raise ValueError(
            f"image_folder={image_folder!r} applies only to name='image_folder', "
            f"got name={name!r}."
        )
    elif name.partition("/")[0] in OFFLINE_BUILDERS:
        base, _, config_name = name.partition("/")
        builder = offline_builder(OFFLINE_BUILDERS[base], config_name, data_dir)
    else:
        builder = catalogue_builder(name, data_dir)
    return _describe(name, builder, image_size, channels)


def offline_builder(builder_class, config_name, data_dir):
    """An offline builder in the config named `config_name` (its default
    when empty). A builder with sizes in its config names (`dead_leaves/64x64`)
    makes any such config with its `config_named`; TFDS takes a listed
    config only as the listed object itself (an equal copy is refused)."""
    listed = {config.name: config for config in getattr(builder_class, "BUILDER_CONFIGS", ())}
    if not config_name:
        return builder_class(data_dir=data_dir)
    if config_name in listed:
        return builder_class(config=listed[config_name], data_dir=data_dir)
    if hasattr(builder_class, "config_named"):
        return builder_class(config=builder_class.config_named(config_name), data_dir=data_dir)
    raise ValueError(
        f"The offline dataset {builder_class.name!r} has no config {config_name!r}"
        + (f"; its configs: {', '.join(listed)}." if listed else " (it has none).")
    )


def catalogue_builder(name, data_dir, offline_names=OFFLINE_NAMES, kind="dataset"):
    """`tfds.builder(name)` without GCS, or a ValueError listing `offline_names`."""
    try:
        return tfds.builder(name, data_dir=data_dir, try_gcs=False)
    except tfds.core.registered.DatasetNotFoundError as err:
        raise ValueError(
            f"Unknown {kind} name={name!r}: neither an offline {kind} "
            f"({', '.join(offline_names)}) nor in the TFDS catalogue."
        ) from err


def _describe(name, builder, image_size, channels):
    features = builder.info.features
    if "image" in features and isinstance(features["image"], tfds.features.Image):
        image_key = "image"
    else:
        image_keys = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
        if not image_keys:
            raise ValueError(
                f"Dataset {name!r} has no image feature (features: {', '.join(features)})."
            )
        image_key = image_keys[0]
    image = features[image_key]
    label = features["label"] if "label" in features else None
    if image_size is not None and (len(image_size) != 2 or min(image_size) < 1):
        raise ValueError(f"image_size={image_size!r} must be (height, width) of positive ints.")
    if channels is not None and channels not in (1, 3):
        raise ValueError(f"channels={channels!r} must be 1 or 3.")
    return Source(
        name=name,
        builder=builder,
        offline=type(builder) in OFFLINE_BUILDERS.values(),
        image_key=image_key,
        label_key=None if label is None else "label",
        native_levels=_native_levels(builder, image),
        num_classes=getattr(label, "num_classes", None) or 1,
        stored_shape=tuple(image.shape),
        image_size=None if image_size is None else tuple(int(s) for s in image_size),
        channels=channels,
    )


def _native_levels(builder, image_feature):
    if hasattr(builder, "NATIVE_LEVELS"):
        return builder.NATIVE_LEVELS
    if builder.name in CATALOGUE_NATIVE_LEVELS:
        return CATALOGUE_NATIVE_LEVELS[builder.name]
    dtype = np.dtype(image_feature.np_dtype)
    if dtype.kind != "u":
        raise ValueError(f"Dataset {builder.name!r} stores images as {dtype}, not unsigned ints.")
    return 2 ** (8 * dtype.itemsize)


def prepare(source):
    """Downloads (catalogue names) and prepares `source.builder` unless done."""
    builder = source.builder
    if is_prepared(builder):
        return
    if source.offline:
        prepare_offline(builder)
        return
    download_catalogue(builder, source.name, _IMAGE_ALTERNATIVES)


def prepare_offline(builder):
    """Prepare an offline builder (nothing to download) once, saying so in
    one line on stderr. TFDS's own banner (printed on stdout, where the
    commands write their JSON) and its nested progress bars are held back."""
    from tensorflow_datasets.core.utils import tqdm_utils

    print(f"arzoo: preparing the {builder.name} dataset in {builder.data_dir} (once)", file=sys.stderr, flush=True)
    shown = getattr(tqdm_utils, "_active", True)
    tfds.display_progress_bar(False)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    finally:
        tfds.display_progress_bar(shown)


def download_catalogue(builder, name, alternatives):
    """`builder.download_and_prepare()` for a TFDS catalogue dataset, failing fast offline.

    Args:
      builder: the catalogue builder.
      name: the name asked for, for the message.
      alternatives: what to use offline instead, completing "Without network
        access, ..." in the `DatasetUnavailableError` message.
    """
    reason = network_unreachable_reason()
    if reason is not None:
        raise DatasetUnavailableError(_unavailable_message(name, reason, alternatives))
    try:
        builder.download_and_prepare()
    except (OSError, tfds.download.DownloadError) as err:
        raise DatasetUnavailableError(_unavailable_message(name, repr(err), alternatives)) from err


def is_prepared(builder):
    """`builder.is_prepared()`, without its warning when the folder is absent."""
    return builder.data_path.exists() and builder.is_prepared()


_IMAGE_ALTERNATIVES = (
    f"use an offline dataset: {', '.join(OFFLINE_NAMES)} "
    "(fashion_mnist_local needs `sudo apt-get install dataset-fashion-mnist`)"
)


def _unavailable_message(name, reason, alternatives):
    return (
        f"Could not download TFDS dataset {name!r} ({reason}). Without network "
        f"access, {alternatives}, or prepare the dataset on a connected machine "
        "and copy its data_dir."
    )


def network_unreachable_reason():
    """Why TFDS downloads cannot work here, or None if they may."""
    if any(os.environ.get(var) for var in _PROXY_ENV_VARS):
        return None
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(socket.getaddrinfo, NETWORK_PROBE_HOST, 443)
    pool.shutdown(wait=False)
    try:
        future.result(timeout=NETWORK_PROBE_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        return f"resolving {NETWORK_PROBE_HOST} timed out after {NETWORK_PROBE_TIMEOUT_S} s"
    except OSError as err:
        return f"cannot resolve {NETWORK_PROBE_HOST}: {err}"
    return None

"""Any folder of images as a TFDS dataset (offline).

Layout: either class subfolders, `folder/<class>/**/*.png`, where the label
is the index of `<class>` among the sorted names of the subfolders that hold
images; or a flat folder, `folder/*.png`, where every label is 0. Files ending
in .png, .jpg, .jpeg, .gif or .bmp (any case) are read. Each image is decoded
to `channels` (1 grey or 3 RGB; alpha dropped), scaled to cover `image_size`
and centre-cropped (arzoo.data.transforms.resize_and_center_crop).

Splits: `test` = round(test_fraction * N) images (at least 1) drawn once with
`RandomState(split_seed)` over the sorted file list, `train` the rest.

Why a builder: the folder, size and channels live in an `ImageFolderConfig`
whose name is a digest of them and of every file's path, size and mtime, so
the prepared copy under `data_dir/image_folder/<config name>/` is reused until
the folder changes, and the same TFDS reader serves it as every other dataset.
"""

import dataclasses
import hashlib
import os
import re

import tensorflow as tf
import tensorflow_datasets as tfds

from arzoo.data.builders.seeded_split import seeded_split
from arzoo.data.transforms import convert_channels, resize_and_center_crop

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


@dataclasses.dataclass(eq=False)
class ImageFolderConfig(tfds.core.BuilderConfig):
    """A folder of images plus how to shape them; build with `image_folder_config`."""

    folder: str = ""
    image_size: tuple = ()
    channels: int = 3
    class_names: tuple = ()
    files: tuple = ()  # ((path relative to folder, label), ...), sorted by path
    num_test: int = 0
    split_seed: int = 0


def _is_image(name):
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _images_under(folder):
    """Image paths under `folder`, recursively, relative to it, sorted."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if _is_image(name):
                found.append(os.path.relpath(os.path.join(root, name), folder))
    return found


def scan_folder(folder):
    """(class_names, ((relative path, label), ...)) for the layout above."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"image_folder: {folder!r} is not a directory.")
    entries = sorted(os.listdir(folder))
    top_images = [e for e in entries if _is_image(e) and os.path.isfile(os.path.join(folder, e))]
    class_files = {}
    for entry in entries:
        path = os.path.join(folder, entry)
        if os.path.isdir(path):
            images = _images_under(path)
            if images:
                class_files[entry] = [os.path.join(entry, p) for p in images]
    if class_files and top_images:
        raise ValueError(
            f"image_folder: {folder!r} mixes class subfolders "
            f"({', '.join(sorted(class_files))}) with loose images "
            f"({', '.join(top_images[:3])}...); move the loose images into a subfolder."
        )
    if class_files:
        class_names = tuple(sorted(class_files))
        files = tuple(
            (path, label)
            for label, name in enumerate(class_names)
            for path in class_files[name]
        )
    else:
        class_names = (os.path.basename(os.path.normpath(folder)) or "0",)
        files = tuple((name, 0) for name in top_images)
    if not files:
        raise FileNotFoundError(
            f"image_folder: no images ({', '.join(IMAGE_EXTENSIONS)}) found in {folder!r}."
        )
    return class_names, files


def image_folder_config(folder, image_size, channels=3, test_fraction=0.1, split_seed=0):
    """The `ImageFolderConfig` for `folder`, named by a digest of its contents."""
    if image_size is None or len(image_size) != 2 or min(image_size) < 1:
        raise ValueError(
            f"image_folder needs image_size=(height, width) of positive ints, "
            f"got image_size={image_size!r}."
        )
    if channels not in (1, 3):
        raise ValueError(f"image_folder needs channels 1 or 3, got channels={channels!r}.")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction} must be in (0, 1).")
    folder = os.path.abspath(os.fspath(folder))
    class_names, files = scan_folder(folder)
    if len(files) < 2:
        raise ValueError(
            f"image_folder: {folder!r} has {len(files)} image; a train/test "
            "split needs at least 2."
        )
    num_test = min(len(files) - 1, max(1, round(test_fraction * len(files))))
    image_size = tuple(int(s) for s in image_size)
    digest = hashlib.sha256(
        repr((folder, image_size, channels, num_test, split_seed)).encode()
    )
    for path, label in files:
        stat = os.stat(os.path.join(folder, path))
        digest.update(repr((path, label, stat.st_size, stat.st_mtime_ns)).encode())
    slug = re.sub(r"[^\w\-]+", "_", os.path.basename(folder))[:40] or "root"
    return ImageFolderConfig(
        name=f"{slug}-{image_size[0]}x{image_size[1]}x{channels}-{digest.hexdigest()[:12]}",
        description=f"Images from {folder}",
        folder=folder,
        image_size=image_size,
        channels=channels,
        class_names=class_names,
        files=files,
        num_test=num_test,
        split_seed=split_seed,
    )


class ImageFolder(tfds.core.GeneratorBasedBuilder):
    """Images of a folder, label = class subfolder; needs an ImageFolderConfig."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Resize + centre crop, seeded test split."}
    NATIVE_LEVELS = 256

    def __init__(self, *, config=None, **kwargs):
        if not isinstance(config, ImageFolderConfig):
            raise ValueError(
                "ImageFolder needs config=image_folder_config(folder, image_size, "
                f"channels), got config={config!r}."
            )
        super().__init__(config=config, **kwargs)

    def _info(self):
        config = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=(*config.image_size, config.channels)
                    ),
                    "label": tfds.features.ClassLabel(names=config.class_names),
                }
            ),
            supervised_keys=("image", "label"),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the files are local
        config = self.builder_config
        train, test = seeded_split(len(config.files), config.num_test, config.split_seed)
        return {
            "train": self._generate_examples(train),
            "test": self._generate_examples(test),
        }

    def _generate_examples(self, indices):
        config = self.builder_config
        for i in indices:
            path, label = config.files[i]
            yield int(i), {"image": self._load_image(path), "label": label}

    def _load_image(self, path):
        config = self.builder_config
        full_path = os.path.join(config.folder, path)
        try:
            # channels=0 keeps the file's own channels (BMP rejects channels=1);
            # convert_channels then maps grey / RGB / alpha the same way for all.
            image = tf.io.decode_image(
                tf.io.read_file(full_path), channels=0, dtype=tf.uint8, expand_animations=False
            )
        except tf.errors.OpError as err:
            raise ValueError(f"image_folder: cannot decode {full_path!r}: {err.message}") from err
        image = convert_channels(image, config.channels)
        return resize_and_center_crop(image, config.image_size).numpy()

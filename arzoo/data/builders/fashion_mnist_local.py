"""Fashion-MNIST from local IDX files as a TFDS dataset (offline).

70,000 real 28x28 grey images (Xiao et al., 2017, arXiv:1708.07747), 10
classes; `train` 60,000 and `test` 10,000 in the files' order. The files come
from the Debian package `dataset-fashion-mnist`. The folder holding
`{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz` is, in order:
1. the environment variable ARZOO_FASHION_MNIST_DIR, when set;
2. the folder `dpkg -L dataset-fashion-mnist` lists them in;
3. /usr/share/datasets/fashion-mnist.
"""

import os
import shutil
import subprocess

import tensorflow_datasets as tfds

from arzoo.data.builders.png import encode_png_batch
from arzoo.data.idx import read_idx

ENV_VAR = "ARZOO_FASHION_MNIST_DIR"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
LABEL_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _dpkg_folder():
    """The folder of the package's image file per `dpkg -L`, or None."""
    if shutil.which("dpkg") is None:
        return None
    try:
        listing = subprocess.run(
            ["dpkg", "-L", DEBIAN_PACKAGE],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        if line.endswith("/" + FILES["train"][0]):
            return os.path.dirname(line)
    return None


def fashion_mnist_dir():
    """The folder to read the IDX files from (see the module docstring)."""
    return os.environ.get(ENV_VAR) or _dpkg_folder() or DEFAULT_DIR


def check_files(folder):
    """Raises FileNotFoundError, saying how to get the files, if any is missing."""
    missing = [
        name
        for pair in FILES.values()
        for name in pair
        if not os.path.isfile(os.path.join(folder, name))
    ]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST IDX files not found in {folder!r} "
            f"(missing: {', '.join(missing)}). Install them with "
            f"`sudo apt-get install {DEBIAN_PACKAGE}`, point {ENV_VAR} at a "
            "folder holding them, or, with network access, use the TFDS "
            "dataset name 'fashion_mnist' instead."
        )


class FashionMnistLocal(tfds.core.GeneratorBasedBuilder):
    """Fashion-MNIST read from Debian's IDX files: 28x28x1, 256 levels."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Train / test as in the IDX files."}
    NATIVE_LEVELS = 256

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(28, 28, 1)),
                    "label": tfds.features.ClassLabel(names=LABEL_NAMES),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://github.com/zalandoresearch/fashion-mnist",
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the files are local
        folder = fashion_mnist_dir()
        check_files(folder)
        return {
            split: self._generate_examples(
                os.path.join(folder, images), os.path.join(folder, labels)
            )
            for split, (images, labels) in FILES.items()
        }

    def _generate_examples(self, images_path, labels_path):
        images = read_idx(images_path)
        labels = read_idx(labels_path)
        if len(images) != len(labels):
            raise ValueError(
                f"{images_path} has {len(images)} images but {labels_path} "
                f"has {len(labels)} labels."
            )
        encoded = encode_png_batch(images[..., None])
        for i, (image, label) in enumerate(zip(encoded, labels)):
            yield i, {"image": image, "label": int(label)}

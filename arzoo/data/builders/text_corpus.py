"""Plain-text corpora on this machine as one TFDS dataset (offline).

Configs (`TextCorpus.builder_config_for`):

* `fortunes`: Debian's `fortunes` package, every fortune file where
  `dpkg -L fortunes` puts them (/usr/share/games/fortunes), one document per
  entry (entries are separated by lines holding only `%`): about 2 MB of
  English prose and verse.
* `python_stdlib`: the Python standard library's own top-level `.py`
  sources, one document per file (a code corpus, as in Karpathy 2015's
  Linux-source example).
* `text_folder`: every `.txt` file under a folder, one document per file
  (`text_folder_config(path)`).

Splits are drawn at document level with a fixed seed (`seeded_split`):
`validation` and `test` each hold `HELD_OUT_FRACTION` of the documents,
`train` the rest. Documents are UTF-8 (invalid bytes replaced).
"""

import dataclasses
import glob
import hashlib
import os
import sysconfig

import tensorflow_datasets as tfds

from arzoo.data.builders.seeded_split import seeded_split

FORTUNES_DIR = "/usr/share/games/fortunes"
HELD_OUT_FRACTION = 0.05
SPLIT_SEED = 0


@dataclasses.dataclass(eq=False)
class TextCorpusConfig(tfds.core.BuilderConfig):
    """Which corpus; `folder` for the `text_folder` corpus."""

    corpus: str = "fortunes"
    folder: str = ""


def text_folder_config(folder):
    """The config of a folder of `.txt` files (named by a digest of its path)."""
    if not folder or not os.path.isdir(folder):
        raise ValueError(f"text_folder={folder!r} is not a folder of .txt files.")
    folder = os.path.abspath(folder)
    digest = hashlib.sha1(folder.encode()).hexdigest()[:12]
    return TextCorpusConfig(name=f"text_folder_{digest}", corpus="text_folder", folder=folder)


def fortunes_documents(directory=FORTUNES_DIR):
    """Every fortune (entries of the data files, not their .dat indexes), sorted by file."""
    files = sorted(
        path for path in glob.glob(os.path.join(directory, "*"))
        if os.path.isfile(path) and not path.endswith((".dat", ".u8")) and not os.path.islink(path)
    )
    if not files:
        raise FileNotFoundError(
            f"No fortune files in {directory}: install Debian's fortunes package "
            "(`make system-deps`, or apt-get install fortunes)."
        )
    documents = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            entries = f.read().split("\n%\n")
        documents += [entry.strip("\n") + "\n" for entry in entries if entry.strip()]
    return documents


def python_stdlib_documents():
    """The standard library's top-level `.py` files, one document each, sorted."""
    stdlib = sysconfig.get_paths()["stdlib"]
    documents = []
    for path in sorted(glob.glob(os.path.join(stdlib, "*.py"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            documents.append(f.read())
    return documents


def folder_documents(folder):
    """Every `.txt` file under `folder` (recursively), sorted by path."""
    paths = sorted(glob.glob(os.path.join(folder, "**", "*.txt"), recursive=True))
    if not paths:
        raise FileNotFoundError(f"No .txt files under {folder!r}.")
    documents = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            documents.append(f.read())
    return documents


class TextCorpus(tfds.core.GeneratorBasedBuilder):
    """Offline plain-text documents, split at document level."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "fortunes, python_stdlib and text folders; 5 % validation, 5 % test."}
    BUILDER_CONFIGS = [
        TextCorpusConfig(name="fortunes", corpus="fortunes"),
        TextCorpusConfig(name="python_stdlib", corpus="python_stdlib"),
    ]

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict({"text": tfds.features.Text()}),
            disable_shuffling=True,
        )

    def _documents(self):
        corpus = self.builder_config.corpus
        if corpus == "fortunes":
            return fortunes_documents()
        if corpus == "python_stdlib":
            return python_stdlib_documents()
        return folder_documents(self.builder_config.folder)

    def _split_generators(self, dl_manager):
        del dl_manager  # the text is on this machine
        documents = self._documents()
        held_out = max(1, int(round(HELD_OUT_FRACTION * len(documents))))
        if len(documents) < 3:
            raise ValueError(
                f"The {self.builder_config.corpus} corpus has {len(documents)} documents; "
                "train, validation and test need at least 3."
            )
        train, rest = seeded_split(len(documents), 2 * held_out, SPLIT_SEED)
        validation, test = rest[:held_out], rest[held_out:]
        return {
            "train": self._generate_examples(documents, train),
            "validation": self._generate_examples(documents, validation),
            "test": self._generate_examples(documents, test),
        }

    def _generate_examples(self, documents, indices):
        for i in indices:
            yield int(i), {"text": documents[i]}

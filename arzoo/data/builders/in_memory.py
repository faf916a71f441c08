"""The shared half of the builders of small labelled image sets held in memory."""

import tensorflow_datasets as tfds

from arzoo.data.builders.seeded_split import seeded_split


class InMemoryImageBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A builder whose examples are arrays in memory, split by `seeded_split`.

    A subclass sets `NUM_TEST` and `SPLIT_SEED`, and implements `_info` and
    `_arrays() -> (images [N, H, W, C] uint8, labels [N] int64)` in source
    order; examples are keyed by their source index.
    """

    NUM_TEST = None
    SPLIT_SEED = 0

    def _arrays(self):
        raise NotImplementedError

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing is downloaded
        images, labels = self._arrays()
        train, test = seeded_split(len(images), self.NUM_TEST, self.SPLIT_SEED)
        return {
            "train": self._generate_examples(images, labels, train),
            "test": self._generate_examples(images, labels, test),
        }

    def _generate_examples(self, images, labels, indices):
        for i in indices:
            yield int(i), {"image": images[i], "label": labels[i]}

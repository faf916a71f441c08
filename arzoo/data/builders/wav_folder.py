"""Any folder of WAV files as a TFDS dataset (offline), one rate, speakers from folders.

Layout: `folder/<speaker>/**/*.wav`, the speaker being the first folder
under `folder`; WAV files directly in `folder` belong to speaker "unknown".
A transcript `<stem>.txt` beside a WAV file is read when present (else "").
Every file must be mono PCM (see arzoo.data.audio.read_wav) and pass
`check_audio` (non-empty, finite, in [-1, 1], not clipped); it is resampled
to the config's `sample_rate` when preparing, so every example is at that rate.

Features:
  audio: `tfds.features.Audio(dtype=int16, sample_rate=...)`, 16-bit PCM
    `[T]`. Why int16 rather than a float32 Tensor: the sources are 16-bit
    WAV, so nothing is lost but the requantisation after resampling (about
    -96 dBFS of noise); it halves the disk size; and it is what the TFDS
    speech sets (ljspeech, vctk, speech_commands) store, so one reader
    (`q / 32768`, arzoo.data.audio_load) serves them all, and the rate is
    in `info.features["audio"].sample_rate` for all of them.
  speaker: ClassLabel over the sorted speaker names.
  transcript: Text. filename: Text, the path relative to `folder`.

Splits, stratified by speaker: a speaker's files are ordered by the SHA-256
of `"<split_seed>:<relative path>"`, and the first
`clip(round(test_fraction * n), 1, n - 1)` of them go to `test` (none when it
has one file), the rest to `train`. A file's rank depends only on its own
path, so the split is the same on every machine and run, adding a file to a
speaker moves at most one of its other files, and every speaker with >= 2
files is in both splits with exactly its share of test files.

As with ImageFolder, the config name is a digest of the folder, the rate,
the split settings and every file's path, size and mtime, so a prepared copy
is reused until something changes and two folders never share one.
"""

import dataclasses
import hashlib
import os
import re

import numpy as np
import tensorflow_datasets as tfds

from arzoo.data.audio import (
    check_audio,
    check_sample_rate,
    float_to_pcm16,
    read_wav,
    resample,
)

WAV_EXTENSIONS = (".wav",)
UNKNOWN_SPEAKER = "unknown"


@dataclasses.dataclass(eq=False)
class WavFolderConfig(tfds.core.BuilderConfig):
    """A folder of WAV files plus the rate to store; build with `wav_folder_config`."""

    folder: str = ""
    sample_rate: int = 16000
    speaker_names: tuple = ()
    # ((posix path relative to folder, speaker index), ...), sorted; left out of
    # repr because TFDS logs the whole config when it is not a registered one.
    files: tuple = dataclasses.field(default=(), repr=False)
    test_fraction: float = 0.1
    split_seed: int = 0


def _is_wav(name):
    return name.lower().endswith(WAV_EXTENSIONS)


def scan_wav_folder(folder):
    """(speaker_names, ((relative posix path, speaker index), ...)) for the layout above."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"wav_folder: {folder!r} is not a directory.")
    by_speaker = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        relative_root = os.path.relpath(root, folder)
        parts = [] if relative_root == "." else relative_root.split(os.sep)
        speaker = parts[0] if parts else UNKNOWN_SPEAKER
        for name in sorted(names):
            if _is_wav(name):
                by_speaker.setdefault(speaker, []).append("/".join([*parts, name]))
    if not by_speaker:
        raise FileNotFoundError(f"wav_folder: no .wav files found in {folder!r}.")
    speaker_names = tuple(sorted(by_speaker))
    files = tuple(
        sorted(
            (path, label) for label, name in enumerate(speaker_names) for path in by_speaker[name]
        )
    )
    return speaker_names, files


def wav_folder_config(folder, sample_rate, test_fraction=0.1, split_seed=0):
    """The `WavFolderConfig` for `folder` at `sample_rate`, named by a digest of its contents."""
    sample_rate = check_sample_rate(sample_rate)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction!r} must be in (0, 1).")
    folder = os.path.abspath(os.fspath(folder))
    speaker_names, files = scan_wav_folder(folder)
    if len(files) < 2:
        raise ValueError(
            f"wav_folder: {folder!r} has {len(files)} .wav file; a train/test split "
            "needs at least 2."
        )
    digest = hashlib.sha256(repr((folder, sample_rate, test_fraction, split_seed)).encode())
    for path, label in files:
        stat = os.stat(os.path.join(folder, path))
        transcript = _transcript_path(folder, path)
        text_stat = os.stat(transcript) if os.path.exists(transcript) else None
        digest.update(
            repr(
                (path, label, stat.st_size, stat.st_mtime_ns, text_stat and text_stat.st_mtime_ns)
            ).encode()
        )
    slug = re.sub(r"[^\w\-]+", "_", os.path.basename(folder))[:40] or "root"
    return WavFolderConfig(
        name=f"{slug}-{sample_rate}hz-{digest.hexdigest()[:12]}",
        description=f"WAV files from {folder} at {sample_rate} Hz",
        folder=folder,
        sample_rate=sample_rate,
        speaker_names=speaker_names,
        files=files,
        test_fraction=float(test_fraction),
        split_seed=split_seed,
    )


def stratified_split(files, num_speakers, test_fraction, split_seed):
    """(train, test): lists of indices into `files`, split per speaker as in the module doc."""
    by_speaker = [[] for _ in range(num_speakers)]
    for index, (path, label) in enumerate(files):
        key = hashlib.sha256(f"{split_seed}:{path}".encode()).hexdigest()
        by_speaker[label].append((key, index))
    train, test = [], []
    for members in by_speaker:
        members.sort()
        count = len(members)
        num_test = 0 if count < 2 else min(count - 1, max(1, round(test_fraction * count)))
        test.extend(index for _, index in members[:num_test])
        train.extend(index for _, index in members[num_test:])
    return sorted(train), sorted(test)


def _transcript_path(folder, path):
    return os.path.join(folder, os.path.splitext(path)[0] + ".txt")


class WavFolder(tfds.core.GeneratorBasedBuilder):
    """WAV files of a folder at one rate, speaker = subfolder; needs a WavFolderConfig."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "int16 audio at one rate, speakers, transcripts, stratified split."}

    def __init__(self, *, config=None, **kwargs):
        if not isinstance(config, WavFolderConfig):
            raise ValueError(
                "WavFolder needs config=wav_folder_config(folder, sample_rate), "
                f"got config={config!r}."
            )
        super().__init__(config=config, **kwargs)

    def _info(self):
        config = self.builder_config
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "audio": tfds.features.Audio(
                        shape=(None,), dtype=np.int16, sample_rate=config.sample_rate
                    ),
                    "speaker": tfds.features.ClassLabel(names=config.speaker_names),
                    "transcript": tfds.features.Text(),
                    "filename": tfds.features.Text(),
                }
            ),
            supervised_keys=("audio", "speaker"),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the files are local
        config = self.builder_config
        train, test = stratified_split(
            config.files, len(config.speaker_names), config.test_fraction, config.split_seed
        )
        return {"train": self._generate_examples(train), "test": self._generate_examples(test)}

    def _generate_examples(self, indices):
        config = self.builder_config
        for i in indices:
            path, speaker = config.files[i]
            transcript_path = _transcript_path(config.folder, path)
            transcript = ""
            if os.path.exists(transcript_path):
                with open(transcript_path, encoding="utf-8") as f:
                    transcript = f.read().strip()
            yield path, {
                "audio": self._load_audio(path),
                "speaker": speaker,
                "transcript": transcript,
                "filename": path,
            }

    def _load_audio(self, path):
        config = self.builder_config
        full_path = os.path.join(config.folder, path)
        audio, rate = read_wav(full_path)
        audio = check_audio(audio, rate, name=f"wav_folder file {full_path!r}")
        # Polyphase filters ring a little past full scale; clip that back.
        audio = np.clip(resample(audio, rate, config.sample_rate), -1.0, 1.0)
        return float_to_pcm16(audio)

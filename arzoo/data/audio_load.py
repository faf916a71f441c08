"""`load_audio_dataset`: a named audio dataset as float32 samples at one rate.

Offline names (`AUDIO_OFFLINE_NAMES`): "speech_corpus", the festival /
espeak-ng corpus of arzoo.data.speech_corpus (synthesised on first use), and
"wav_folder", any folder of WAV files; both are read through the WavFolder
builder, which resamples when preparing. Any other name is a TFDS catalogue
dataset with an Audio feature (ljspeech, vctk, speech_commands, nsynth,
librispeech, ...), downloaded on first use (failing fast offline with
`DatasetUnavailableError`, as arzoo.data.sources does for images) and
resampled on the fly when its rate differs.
"""

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from arzoo.data import sources
from arzoo.data.audio import check_sample_rate, resample
from arzoo.data.builders import AUDIO_BUILDERS, wav_folder_config
from arzoo.data.speech_corpus import ensure_speech_corpus

AUDIO_OFFLINE_NAMES = ("speech_corpus", "wav_folder")
# Preferred names of the audio and of the speaker (or other class) feature;
# otherwise the first Audio feature, and no speaker.
_AUDIO_KEYS = ("audio", "speech")
_SPEAKER_KEYS = ("speaker", "label")
# Integer PCM full scale by stored dtype. TFDS's int64 audio sets (crema_d,
# spoken_digit, voxceleb, gtzan) hold 16-bit samples widened to int64.
_PCM_FULL_SCALE = {
    np.dtype(np.int16): 2.0**15,
    np.dtype(np.int32): 2.0**31,
    np.dtype(np.int64): 2.0**15,
}
_AUDIO_ALTERNATIVES = (
    f"use an offline audio dataset: {', '.join(AUDIO_OFFLINE_NAMES)} "
    "(speech_corpus needs festival and espeak-ng: `make system-deps`)"
)


@dataclasses.dataclass(frozen=True)
class AudioSource:
    """A builder plus what arzoo needs to read audio from it.

    Attributes:
      name: the name asked for.
      builder: the (maybe not yet prepared) TFDS builder.
      offline: whether preparing it needs no network.
      audio_key: the audio feature's key.
      speaker_key: the speaker / class feature's key, or None (speaker 0).
      speaker_names: names of the speaker ids (("",) when there is none).
      native_rate: the stored rate, Hz.
      sample_rate: the rate `load_audio_dataset` yields, Hz.
      full_scale: stored value of full scale (32768 for int16, 1 for float).
    """

    name: str
    builder: tfds.core.DatasetBuilder
    offline: bool
    audio_key: str
    speaker_key: str | None
    speaker_names: tuple
    native_rate: int
    sample_rate: int
    full_scale: float


@dataclasses.dataclass(frozen=True)
class AudioDatasetInfo:
    """What a WaveNet config needs to know about an audio dataset.

    Attributes:
      name: the dataset name.
      sample_rate: the rate `load_audio_dataset` yields, Hz.
      native_sample_rate: the rate the dataset is stored at, Hz.
      num_speakers: number of speaker (or class) ids, 1 when there are none.
      speaker_names: their names, index = id.
      split_sizes: {split: examples}; empty until the dataset is prepared.
    """

    name: str
    sample_rate: int
    native_sample_rate: int
    num_speakers: int
    speaker_names: tuple
    split_sizes: dict


def open_audio_source(name, sample_rate, *, data_dir=None, wav_folder=None):
    """The `AudioSource` for `name`; catalogue data is not downloaded yet.

    "speech_corpus" synthesises the corpus (ensure_speech_corpus) if it is
    not on disk, since its speakers come from its folders.
    """
    sample_rate = check_sample_rate(sample_rate)
    data_dir = sources.resolve_data_dir(data_dir)
    if wav_folder is not None and name != "wav_folder":
        raise ValueError(
            f"wav_folder={wav_folder!r} applies only to name='wav_folder', got name={name!r}."
        )
    if name == "wav_folder" and wav_folder is None:
        raise ValueError("name='wav_folder' needs wav_folder=<path to a folder of .wav files>.")
    if name == "speech_corpus":
        wav_folder = ensure_speech_corpus(sample_rate)
    if name in AUDIO_OFFLINE_NAMES:
        config = wav_folder_config(wav_folder, sample_rate)
        builder = AUDIO_BUILDERS["wav_folder"](config=config, data_dir=data_dir)
        offline = True
    else:
        builder = sources.catalogue_builder(name, data_dir, AUDIO_OFFLINE_NAMES, kind="audio dataset")
        offline = False
    return _describe(name, builder, offline, sample_rate)


def _describe(name, builder, offline, sample_rate):
    features = builder.info.features
    audio_keys = [k for k, f in features.items() if isinstance(f, tfds.features.Audio)]
    if not audio_keys:
        raise ValueError(
            f"Dataset {name!r} has no audio feature (features: {', '.join(features)})."
        )
    audio_key = next((k for k in _AUDIO_KEYS if k in audio_keys), audio_keys[0])
    audio = features[audio_key]
    if not audio.sample_rate:
        raise ValueError(
            f"Dataset {name!r} does not record the sample rate of its {audio_key!r} feature."
        )
    dtype = np.dtype(audio.np_dtype)
    if dtype.kind == "f":
        full_scale = 1.0
    elif dtype in _PCM_FULL_SCALE:
        full_scale = _PCM_FULL_SCALE[dtype]
    else:
        raise ValueError(
            f"Dataset {name!r} stores audio as {dtype}; expected int16/32/64 or float."
        )
    class_keys = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
    speaker_key = next((k for k in _SPEAKER_KEYS if k in class_keys), None)
    speaker_names = ("",) if speaker_key is None else tuple(features[speaker_key].names)
    return AudioSource(
        name=name,
        builder=builder,
        offline=offline,
        audio_key=audio_key,
        speaker_key=speaker_key,
        speaker_names=speaker_names,
        native_rate=int(audio.sample_rate),
        sample_rate=sample_rate,
        full_scale=full_scale,
    )


def prepare_audio(source):
    """Prepare `source.builder` (downloading catalogue data) unless done."""
    builder = source.builder
    if sources.is_prepared(builder):
        return
    if source.offline:
        sources.prepare_offline(builder)
    else:
        sources.download_catalogue(builder, source.name, _AUDIO_ALTERNATIVES)


def load_audio_dataset(
    name, split, sample_rate, *, data_dir=None, wav_folder=None, shuffle_files=False
):
    """Examples `{"audio": float32 [T] in [-1, 1], "speaker": int32 []}` at `sample_rate`.

    Integer PCM is divided by its full scale (int16: 32768); float audio is
    kept as stored. Audio stored at another rate is resampled (offline names
    when preparing, catalogue names on the fly with
    arzoo.data.audio.resample). `speaker` is the dataset's speaker id
    (vctk, speech_corpus, wav_folder) or class label (speech_commands), 0
    when it has neither; `audio_dataset_info` gives the names.

    Args:
      name: "speech_corpus", "wav_folder" or a TFDS catalogue name
        ("ljspeech", "vctk", "speech_commands", "nsynth/full", ...).
      split: TFDS split, slices allowed ("train", "test[:10%]").
      sample_rate: the rate to yield, Hz.
      data_dir: where prepared datasets live; default $ARZOO_DATA_DIR, else
        TFDS's default. (The speech corpus WAVs themselves live in
        arzoo.data.speech_corpus.default_corpus_dir().)
      wav_folder: the folder, for name="wav_folder".
      shuffle_files: let TFDS interleave files in random order.

    Returns:
      An unbatched `tf.data.Dataset`.

    Raises:
      ValueError: bad name / sample_rate / wav_folder, or a bad WAV file
        (named) while preparing.
      DatasetUnavailableError: a catalogue dataset could not be downloaded.
      arzoo.data.speech_corpus.SynthesisError: speech_corpus cannot be made.

    Example:
    ```python
    ds = load_audio_dataset("speech_corpus", "train", 16000)
    example = next(iter(ds))
    example["audio"].dtype, example["speaker"]  # tf.float32, <tf.Tensor: 3>
    ```
    """
    source = open_audio_source(name, sample_rate, data_dir=data_dir, wav_folder=wav_folder)
    prepare_audio(source)
    dataset = source.builder.as_dataset(split=split, shuffle_files=shuffle_files)
    needs_resampling = source.native_rate != source.sample_rate

    def resample_numpy(audio):
        return np.clip(resample(audio, source.native_rate, source.sample_rate), -1.0, 1.0)

    def to_example(features):
        audio = tf.cast(features[source.audio_key], tf.float32)
        if source.full_scale != 1.0:
            audio = audio / source.full_scale
        if needs_resampling:
            audio = tf.numpy_function(resample_numpy, [audio], tf.float32, stateful=False)
            audio = tf.ensure_shape(audio, [None])
        if source.speaker_key is None:
            speaker = tf.constant(0, tf.int32)
        else:
            speaker = tf.cast(features[source.speaker_key], tf.int32)
        return {"audio": audio, "speaker": speaker}

    return dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)


def audio_dataset_info(name, sample_rate=16000, *, data_dir=None, wav_folder=None):
    """The `AudioDatasetInfo` of `name`, without downloading catalogue data.

    For "speech_corpus" this synthesises the corpus if it is missing (its
    speakers are the voices installed).
    """
    source = open_audio_source(name, sample_rate, data_dir=data_dir, wav_folder=wav_folder)
    builder = source.builder
    split_sizes = (
        {split: info.num_examples for split, info in builder.info.splits.items()}
        if sources.is_prepared(builder)
        else {}
    )
    return AudioDatasetInfo(
        name=name,
        sample_rate=source.sample_rate,
        native_sample_rate=source.native_rate,
        num_speakers=len(source.speaker_names),
        speaker_names=source.speaker_names,
        split_sizes=split_sizes,
    )

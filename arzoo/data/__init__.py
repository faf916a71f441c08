"""Image and audio datasets for arzoo: TFDS everywhere, with offline builders.

`load_dataset` yields `{"image": int32 [H, W, C] in [0, num_levels),
"label": int32 []}` for the offline datasets (digits, fashion_mnist_local,
image_folder) and for any TFDS catalogue name; `dataset_info` describes one
without loading it; `make_input_pipeline` batches for training.

`load_audio_dataset` yields `{"audio": float32 [T] in [-1, 1], "speaker":
int32 []}` at one sample rate for the offline speech_corpus (festival and
espeak-ng voices) and wav_folder, and for TFDS catalogue audio sets;
`audio_dataset_info` describes one. arzoo.data.audio reads, writes, checks,
resamples and draws audio.
"""

from arzoo.data.audio import (
    check_audio,
    log_mel_spectrogram,
    read_wav,
    resample,
    spectrogram_figure,
    write_wav,
)
from arzoo.data.audio_load import (
    AUDIO_OFFLINE_NAMES,
    AudioDatasetInfo,
    audio_dataset_info,
    load_audio_dataset,
)
from arzoo.data.builders import (
    AUDIO_BUILDERS,
    OFFLINE_BUILDERS,
    Digits,
    FashionMnistLocal,
    ImageFolder,
    ImageFolderConfig,
    WavFolder,
    WavFolderConfig,
    image_folder_config,
    wav_folder_config,
)
from arzoo.data.idx import read_idx
from arzoo.data.info import DatasetInfo, dataset_info
from arzoo.data.load import load_dataset
from arzoo.data.pipeline import make_input_pipeline
from arzoo.data.quantize import (
    BINARIZE_MODES,
    binarize_stochastic,
    binarize_threshold,
    quantize,
    validate_levels,
)
from arzoo.data.sources import (
    DATA_DIR_ENV_VAR,
    OFFLINE_NAMES,
    DatasetUnavailableError,
)
from arzoo.data.speech_corpus import (
    VOICES,
    SynthesisError,
    Voice,
    default_corpus_dir,
    ensure_speech_corpus,
    make_speech_corpus,
)

__all__ = [
    "AUDIO_BUILDERS",
    "AUDIO_OFFLINE_NAMES",
    "AudioDatasetInfo",
    "BINARIZE_MODES",
    "DATA_DIR_ENV_VAR",
    "DatasetInfo",
    "DatasetUnavailableError",
    "Digits",
    "FashionMnistLocal",
    "ImageFolder",
    "ImageFolderConfig",
    "OFFLINE_BUILDERS",
    "OFFLINE_NAMES",
    "SynthesisError",
    "VOICES",
    "Voice",
    "WavFolder",
    "WavFolderConfig",
    "audio_dataset_info",
    "binarize_stochastic",
    "binarize_threshold",
    "check_audio",
    "dataset_info",
    "default_corpus_dir",
    "ensure_speech_corpus",
    "image_folder_config",
    "load_audio_dataset",
    "load_dataset",
    "log_mel_spectrogram",
    "make_input_pipeline",
    "make_speech_corpus",
    "quantize",
    "read_idx",
    "read_wav",
    "resample",
    "spectrogram_figure",
    "validate_levels",
    "wav_folder_config",
    "write_wav",
]

"""Audio I/O and checks: WAV files, resampling, log-mel spectrograms, figures.

Audio in arzoo is a float32 numpy array `[T]` of samples in [-1, 1] plus an
integer sample rate in Hz. 16-bit PCM maps to it as `x = q / 32768`
(q in [-32768, 32767]) and back as `q = clip(round(32768 x), -32768, 32767)`,
so a write / read round trip moves no sample by more than 1/32768.

`check_audio` is the gate every source passes through before training (a
WaveNet learns clipping, DC offsets and NaNs as happily as speech);
`log_mel_spectrogram` is the local conditioning of WaveNet and the picture in
`spectrogram_figure`.
"""

import math
import struct
import warnings

import numpy as np
import scipy.io.wavfile
import scipy.signal
import tensorflow as tf
from PIL import Image, ImageDraw

from arzoo.figures import save_png
from arzoo.files import atomic_path

PCM16_SCALE = 32768.0
CLIP_LEVEL = 0.999  # |x| at or above this counts as a clipped sample
MAX_CLIPPED_FRACTION = 0.01
MONO_MODES = ("error", "mix")
LOG_MEL_OFFSET = 1e-5
# Full scale of integer PCM: 8-bit WAV is unsigned around 128, the rest signed.
_PCM_FULL_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31}


def check_sample_rate(value, name="sample_rate"):
    """`value` as an int, or a ValueError naming `name` unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer number of Hz, got {name}={value!r}.")
    return int(value)


def pcm16_to_float(samples):
    """int16 PCM -> float32 in [-1, 1): `q / 32768`."""
    return (np.asarray(samples, np.float32) / PCM16_SCALE).astype(np.float32)


def float_to_pcm16(audio):
    """float audio in [-1, 1] -> int16 PCM: `clip(round(32768 x), -32768, 32767)`."""
    scaled = np.round(np.asarray(audio, np.float64) * PCM16_SCALE)
    return np.clip(scaled, -PCM16_SCALE, PCM16_SCALE - 1).astype(np.int16)


def read_wav(path, mono="error"):
    """Read a PCM WAV file as `(audio float32 [T] in [-1, 1], sample_rate int)`.

    Reads 8-bit (unsigned), 16-bit, 24-bit and 32-bit integer PCM and 32/64-bit
    float WAV (scipy.io.wavfile, which left-justifies 24-bit samples in int32).
    Integers are divided by their full scale (128, 32768, 2**31) so a 16-bit
    file gives exactly `q / 32768`.

    Args:
      path: the .wav file.
      mono: "error" (default): a file with more than one channel is a
        ValueError; "mix": average the channels.

    A file whose data chunk is shorter than its header says (a copy cut
    short) is read as far as it goes, with a UserWarning naming the file and
    both lengths.

    Raises:
      ValueError: unreadable or unsupported file (too short for a WAV header,
        not RIFF/WAVE, ...), or more than one channel with mono="error"; the
        message names the file.
      FileNotFoundError: no such file.
    """
    if mono not in MONO_MODES:
        raise ValueError(f"mono must be one of {MONO_MODES}, got mono={mono!r}.")
    path = str(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", scipy.io.wavfile.WavFileWarning)
            sample_rate, samples = scipy.io.wavfile.read(path)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise ValueError(f"{path!r} is a folder, not a WAV file.") from None
    except (ValueError, EOFError, OSError, struct.error) as err:  # struct.error: a file cut inside its header
        raise ValueError(f"cannot read WAV file {path!r} (truncated or not a WAV file): {err}") from None
    for warning in caught:
        # Unknown chunks (LIST, fact) are skipped quietly; a short data chunk is said.
        if "prematurely" in str(warning.message):
            warnings.warn(f"WAV file {path!r} is truncated: {warning.message} Reading the "
                          f"{len(samples)} samples that are there.", UserWarning, stacklevel=2)
    if samples.dtype == np.uint8:
        audio = (samples.astype(np.float32) - 128.0) / 128.0
    elif samples.dtype in _PCM_FULL_SCALE:
        audio = samples.astype(np.float64) / _PCM_FULL_SCALE[samples.dtype]
    elif samples.dtype.kind == "f":
        audio = samples
    else:
        raise ValueError(
            f"WAV file {path!r} holds {samples.dtype} samples; supported: 8/16/32-bit "
            "integer PCM or float."
        )
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 2:
        channels = audio.shape[1]
        if channels == 1:
            audio = audio[:, 0]
        elif mono == "mix":
            audio = audio.mean(axis=1, dtype=np.float32)
        else:
            raise ValueError(
                f"WAV file {path!r} has {channels} channels; arzoo reads mono audio. "
                "Pass mono='mix' to average the channels, or convert the file to mono."
            )
    return audio, int(sample_rate)


def write_wav(path, audio, sample_rate):
    """Write float audio `[T]` in [-1, 1] as a 16-bit PCM mono WAV, atomically.

    Raises:
      ValueError: audio not 1-D, not finite, or outside [-1, 1]; bad sample_rate.
    """
    sample_rate = check_sample_rate(sample_rate, "sample_rate")
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(
            f"write_wav needs mono audio [T], got shape {audio.shape} for {str(path)!r}."
        )
    _check_finite_and_range(audio.astype(np.float64), f"audio for {str(path)!r}")
    with atomic_path(path, suffix=".wav") as temporary:
        scipy.io.wavfile.write(temporary, sample_rate, float_to_pcm16(audio))
    return path


def resample(audio, from_rate, to_rate):
    """Resample `[..., T]` audio from `from_rate` to `to_rate` Hz.

    Polyphase filtering (scipy.signal.resample_poly) by the rational factor
    `(to_rate / g) / (from_rate / g)`, g = gcd(from_rate, to_rate), with its
    default Kaiser-windowed anti-aliasing filter. The output has
    `ceil(T * to_rate / from_rate)` samples and may overshoot [-1, 1] slightly
    near full scale (the filter rings); clip if that matters.
    """
    from_rate = check_sample_rate(from_rate, "from_rate")
    to_rate = check_sample_rate(to_rate, "to_rate")
    audio = np.asarray(audio, np.float32)
    if from_rate == to_rate:
        return audio.copy()
    divisor = math.gcd(from_rate, to_rate)
    resampled = scipy.signal.resample_poly(audio, to_rate // divisor, from_rate // divisor, axis=-1)
    return resampled.astype(np.float32)


def _check_finite_and_range(audio, name):
    finite = np.isfinite(audio)
    if not finite.all():
        bad = np.flatnonzero(~finite.reshape(-1))
        raise ValueError(
            f"{name} has {bad.size} NaN/inf samples (first at index {bad[0]}); "
            "audio must be finite."
        )
    low, high = float(audio.min()), float(audio.max())
    if low < -1.0 or high > 1.0:
        outside = int(np.count_nonzero(np.abs(audio) > 1.0))
        hint = (
            " It looks like integer PCM: divide 16-bit samples by 32768."
            if max(-low, high) > 2.0
            else " Scale it down (e.g. audio / np.abs(audio).max())."
        )
        raise ValueError(
            f"{name} must lie in [-1, 1]; got values in [{low:.4g}, {high:.4g}] "
            f"({outside} samples outside).{hint}"
        )


def check_audio(audio, sample_rate=None, expected_rate=None, name="audio"):
    """Validate mono float audio for training; return it as float32 numpy `[T]`.

    Checks, in order: 1-D (a 2-D array is reported as stereo/multichannel),
    not empty, finite, inside [-1, 1], not clipped
    (at most 1% of samples at |x| >= 0.999), and, when both `sample_rate` and
    `expected_rate` are given, that they agree.

    Args:
      audio: array-like `[T]`.
      sample_rate: the audio's rate in Hz, if known.
      expected_rate: the rate the caller needs, if any.
      name: how messages refer to the audio (e.g. a file name).

    Raises:
      ValueError: the first failed check, naming `name` and the bad value.
    """
    audio = np.asarray(audio)
    if audio.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numeric samples, got dtype {audio.dtype}.")
    if audio.ndim == 2:
        raise ValueError(
            f"{name} is stereo/multichannel (or a batch), shape {audio.shape}; arzoo needs "
            "mono [T]: average the channels (audio.mean(axis=...)) or read_wav(path, mono='mix')."
        )
    if audio.ndim != 1:
        raise ValueError(f"{name} must be 1-D mono samples [T], got shape {audio.shape}.")
    if audio.size == 0:
        raise ValueError(f"{name} is empty (0 samples).")
    audio = audio.astype(np.float32)
    _check_finite_and_range(audio, name)
    clipped = int(np.count_nonzero(np.abs(audio) >= CLIP_LEVEL))
    if clipped > MAX_CLIPPED_FRACTION * audio.size:
        raise ValueError(
            f"{name} is clipped: {clipped} of {audio.size} samples "
            f"({100.0 * clipped / audio.size:.1f}%) are at |x| >= {CLIP_LEVEL} "
            f"(at most {100 * MAX_CLIPPED_FRACTION:.0f}% allowed); lower the gain "
            "(record or synthesise it quieter) rather than rescaling clipped audio."
        )
    if sample_rate is not None:
        sample_rate = check_sample_rate(sample_rate, "sample_rate")
    if expected_rate is not None:
        expected_rate = check_sample_rate(expected_rate, "expected_rate")
    if sample_rate is not None and expected_rate is not None and sample_rate != expected_rate:
        raise ValueError(
            f"{name} has sample_rate={sample_rate} Hz but {expected_rate} Hz is expected; "
            f"resample it first: arzoo.data.audio.resample(audio, {sample_rate}, {expected_rate})."
        )
    return audio


def _check_mel_args(sample_rate, num_mels, frame_length, hop_length, fmin, fmax):
    sample_rate = check_sample_rate(sample_rate, "sample_rate")
    sizes = {"num_mels": num_mels, "frame_length": frame_length, "hop_length": hop_length}
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {key}={value!r}.")
    if frame_length < hop_length:
        raise ValueError(
            f"frame_length={frame_length} must be >= hop_length={hop_length} "
            "(frames would skip samples)."
        )
    nyquist = sample_rate / 2.0
    fmax = nyquist if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= nyquist:
        raise ValueError(
            f"need 0 <= fmin < fmax <= sample_rate / 2 = {nyquist:g} Hz, "
            f"got fmin={fmin!r}, fmax={fmax!r}."
        )
    return sample_rate, float(fmin), fmax


def log_mel_spectrogram(
    audio, sample_rate, num_mels=80, frame_length=1024, hop_length=256, fmin=0.0, fmax=None
):
    """`log(mel(|STFT|) + 1e-5)` of `[T]` or `[B, T]` audio: `[..., frames, num_mels]`.

    Alignment: there is exactly one frame per `hop_length` samples,
    `frames = ceil(T / hop_length)`. The signal is zero-padded by
    `(frame_length - hop_length) // 2` on the left and as needed on the right,
    so frame i (a Hann window of `frame_length` samples) is centred near
    sample `i * hop_length + hop_length / 2`, the middle of the hop
    `[i * hop_length, (i + 1) * hop_length)`. WaveNet local conditioning
    therefore upsamples by repeating frame i over exactly those samples
    (`tf.repeat(mel, hop_length, axis=-2)[..., :T, :]`).

    Magnitudes (not powers) go through TensorFlow's HTK-style mel filterbank
    (`tf.signal.linear_to_mel_weight_matrix`) from `fmin` to `fmax`
    (default sample_rate / 2). The FFT length is the next power of two
    >= frame_length.

    Example:
    ```python
    mel = log_mel_spectrogram(np.zeros(16000, np.float32), 16000)
    mel.shape  # TensorShape([63, 80]): ceil(16000 / 256) = 63 frames
    ```
    """
    sample_rate, fmin, fmax = _check_mel_args(
        sample_rate, num_mels, frame_length, hop_length, fmin, fmax
    )
    audio = tf.convert_to_tensor(audio, tf.float32)
    if audio.shape.rank not in (1, 2):
        raise ValueError(f"log_mel_spectrogram needs audio [T] or [B, T], got shape {audio.shape}.")
    length = tf.shape(audio)[-1]
    frames = (length + hop_length - 1) // hop_length
    left = (frame_length - hop_length) // 2
    right = frame_length + (frames - 1) * hop_length - left - length
    # With T = 0 there are no frames; keep the padding non-negative.
    right = tf.maximum(right, 0)
    paddings = [[0, 0]] * (audio.shape.rank - 1) + [[left, right]]
    padded = tf.pad(audio, tf.convert_to_tensor(paddings))
    fft_length = 1 << (frame_length - 1).bit_length()
    stft = tf.signal.stft(padded, frame_length, hop_length, fft_length=fft_length, pad_end=False)
    weights = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=num_mels,
        num_spectrogram_bins=fft_length // 2 + 1,
        sample_rate=sample_rate,
        lower_edge_hertz=fmin,
        upper_edge_hertz=fmax,
    )
    mel = tf.tensordot(tf.abs(stft), weights, axes=1)
    return tf.math.log(mel + LOG_MEL_OFFSET)


# A dark-to-bright ramp (black, purple, red, orange, pale yellow) in the spirit
# of matplotlib's "magma", so quiet and loud stand apart without matplotlib.
_COLOUR_ANCHORS = np.array(
    [[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]], np.float64
)
_DYNAMIC_RANGE = np.log(1e4)  # 80 dB of magnitude below the loudest bin shown
_LABEL_HEIGHT = 14


def _colourise(values):
    """[H, W] in [0, 1] -> [H, W, 3] uint8 along `_COLOUR_ANCHORS`."""
    position = values * (len(_COLOUR_ANCHORS) - 1)
    low = np.clip(np.floor(position).astype(int), 0, len(_COLOUR_ANCHORS) - 2)
    fraction = (position - low)[..., None]
    colours = _COLOUR_ANCHORS[low] * (1 - fraction) + _COLOUR_ANCHORS[low + 1] * fraction
    return np.round(colours).astype(np.uint8)


def spectrogram_figure(path, audios, sample_rate, num_mels=80, hop_length=256, scale=2):
    """Write a PNG of log-mel spectrograms, one labelled panel per audio, stacked.

    For comparing generated with real audio: all panels share one colour
    scale (the loudest bin of any panel down to 80 dB below it), time runs
    left to right (one column per hop), low frequencies at the bottom, and
    shorter audio leaves its panel's right part white. Drawn with Pillow
    (already an arzoo dependency) rather than matplotlib, which arzoo does
    not install.

    Args:
      path: the .png to write (atomically).
      audios: {name: audio [T]} in display order; each passes `check_audio`
        except for the clipping check (generated audio may clip).
      sample_rate: rate of every audio, Hz.
      num_mels, hop_length: spectrogram settings (see log_mel_spectrogram).
      scale: pixels per frame and per mel bin.

    Returns:
      `path`.
    """
    if not audios:
        raise ValueError("spectrogram_figure needs at least one audio, got an empty dict.")
    spectrograms = {}
    for name, audio in audios.items():
        audio = np.asarray(audio, np.float32)
        if audio.ndim != 1 or audio.size == 0:
            raise ValueError(f"audio {name!r} must be non-empty mono [T], got shape {audio.shape}.")
        _check_finite_and_range(audio, f"audio {name!r}")
        frame_length = max(1024, hop_length)
        spectrograms[name] = log_mel_spectrogram(
            audio, sample_rate, num_mels=num_mels, frame_length=frame_length, hop_length=hop_length
        ).numpy()
    top = max(float(s.max()) for s in spectrograms.values())
    bottom = max(min(float(s.min()) for s in spectrograms.values()), top - _DYNAMIC_RANGE)
    span = max(top - bottom, 1e-6)
    width = max(s.shape[0] for s in spectrograms.values()) * scale
    panels = []
    for name, spectrogram in spectrograms.items():
        values = np.clip((spectrogram.T[::-1] - bottom) / span, 0.0, 1.0)
        image = _colourise(values).repeat(scale, axis=0).repeat(scale, axis=1)
        panel = np.full((_LABEL_HEIGHT + image.shape[0], width, 3), 255, np.uint8)
        panel[_LABEL_HEIGHT:, : image.shape[1]] = image
        label = Image.fromarray(panel)
        ImageDraw.Draw(label).text((2, 1), str(name), fill=(0, 0, 0))
        panels.append(np.asarray(label))
    return save_png(path, np.concatenate(panels, axis=0))

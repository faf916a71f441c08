"""arzoo.data.audio: WAV round trips, resampling, checks, log-mel alignment, figures."""

import numpy as np
import pytest
import scipy.io.wavfile
from PIL import Image

from arzoo.data.audio import (
    check_audio,
    log_mel_spectrogram,
    read_wav,
    resample,
    spectrogram_figure,
    write_wav,
)


def _sine(frequency, sample_rate, seconds=0.5, amplitude=0.5):
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def _peak_frequency(audio, sample_rate):
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return np.argmax(spectrum) * sample_rate / len(audio)


# ---- read_wav / write_wav ---------------------------------------------------


def test_wav_round_trip_within_one_step(tmp_path):
    rng = np.random.default_rng(0)
    audio = np.concatenate([[-1.0, 1.0, 0.0], rng.uniform(-1, 1, 5000)]).astype(np.float32)
    path = write_wav(tmp_path / "a.wav", audio, 22050)
    read, rate = read_wav(path)
    assert rate == 22050 and read.dtype == np.float32 and read.shape == audio.shape
    assert np.abs(read - audio).max() <= 1 / 32768
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temporary left


@pytest.mark.parametrize(
    "samples, expected",
    [
        (np.array([0, 128, 255], np.uint8), [-1.0, 0.0, 127 / 128]),
        (np.array([-32768, 0, 16384], np.int16), [-1.0, 0.0, 0.5]),
        (np.array([-(2**31), 0, 2**30], np.int32), [-1.0, 0.0, 0.5]),
    ],
)
def test_read_8_16_32_bit_pcm(tmp_path, samples, expected):
    scipy.io.wavfile.write(tmp_path / "x.wav", 8000, samples)
    audio, rate = read_wav(tmp_path / "x.wav")
    assert rate == 8000
    np.testing.assert_allclose(audio, expected, atol=1e-7)


def test_stereo_is_an_error_naming_channels_and_file_unless_mixed(tmp_path):
    path = tmp_path / "stereo.wav"
    left, right = np.full(100, 8192, np.int16), np.full(100, -16384, np.int16)
    scipy.io.wavfile.write(path, 16000, np.stack([left, right], axis=1))
    with pytest.raises(ValueError, match=r"has 2 channels") as raised:
        read_wav(path)
    assert "stereo.wav" in str(raised.value) and "mono='mix'" in str(raised.value)
    mixed, _ = read_wav(path, mono="mix")
    np.testing.assert_allclose(mixed, np.full(100, (0.25 - 0.5) / 2))
    with pytest.raises(ValueError, match=r"mono must be one of \('error', 'mix'\), got mono='left'"):
        read_wav(path, mono="left")


def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(b"this is not a RIFF file at all")
    with pytest.raises(ValueError, match=r"cannot read WAV file .*noise\.wav"):
        read_wav(path)


def test_truncated_data_chunk_is_read_with_a_warning_and_a_cut_header_is_named(tmp_path):
    whole = write_wav(tmp_path / "whole.wav", np.linspace(-0.5, 0.5, 1000, dtype=np.float32), 16000)
    data = open(whole, "rb").read()
    (tmp_path / "cut.wav").write_bytes(data[:1000])  # header says 2000 data bytes, 956 are there
    with pytest.warns(UserWarning, match=r"cut\.wav' is truncated: .*expected 2044 bytes.* the 478 samples"):
        audio, rate = read_wav(tmp_path / "cut.wav")
    assert rate == 16000 and len(audio) == 478
    np.testing.assert_array_equal(audio, read_wav(whole)[0][:478])
    (tmp_path / "stub.wav").write_bytes(data[:30])  # cut inside the fmt chunk
    with pytest.raises(ValueError, match=r"cannot read WAV file .*stub\.wav' \(truncated or not a WAV file\)"):
        read_wav(tmp_path / "stub.wav")
    with pytest.raises(ValueError, match=r"is a folder, not a WAV file"):
        read_wav(tmp_path)


def test_write_rejects_out_of_range_and_bad_rate(tmp_path):
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]; got values in \[-0.5, 1.5\]"):
        write_wav(tmp_path / "loud.wav", np.array([-0.5, 1.5], np.float32), 16000)
    with pytest.raises(ValueError, match="sample_rate must be a positive integer.*16000.0"):
        write_wav(tmp_path / "rate.wav", np.zeros(4, np.float32), 16000.0)
    assert list(tmp_path.iterdir()) == []


# ---- resample ----------------------------------------------------------------


@pytest.mark.parametrize("from_rate, to_rate", [(22050, 16000), (16000, 48000), (32000, 16000)])
def test_resample_keeps_frequency_and_length(from_rate, to_rate):
    audio = _sine(440.0, from_rate, seconds=1.0)
    out = resample(audio, from_rate, to_rate)
    assert out.dtype == np.float32
    assert len(out) == int(np.ceil(len(audio) * to_rate / from_rate))
    assert abs(_peak_frequency(out, to_rate) - 440.0) <= 1.0  # 1 s of audio: 1 Hz bins
    # Away from the edges the amplitude is kept.
    assert abs(np.abs(out[len(out) // 4 : -len(out) // 4]).max() - 0.5) < 0.01


def test_resample_same_rate_copies_and_bad_rates_fail():
    audio = _sine(100.0, 8000)
    out = resample(audio, 8000, 8000)
    assert out is not audio and np.array_equal(out, audio)
    with pytest.raises(ValueError, match="from_rate must be a positive integer.*from_rate=0"):
        resample(audio, 0, 8000)
    with pytest.raises(ValueError, match="to_rate must be a positive integer.*to_rate=22.05"):
        resample(audio, 8000, 22.05)


# ---- check_audio ---------------------------------------------------------------


def test_check_audio_returns_float32_and_allows_a_little_clipping():
    audio = _sine(200.0, 16000).astype(np.float64)
    audio[:5] = 1.0  # 5 of 8000 samples: under 1%
    checked = check_audio(audio, 16000, 16000)
    assert checked.dtype == np.float32 and checked.shape == (8000,)


@pytest.mark.parametrize(
    "audio, kwargs, pattern",
    [
        (np.zeros(0, np.float32), {}, r"audio is empty \(0 samples\)"),
        (np.zeros((100, 2), np.float32), {}, r"stereo/multichannel .*shape \(100, 2\)"),
        (np.zeros((2, 3, 4), np.float32), {}, r"must be 1-D mono samples \[T\], got shape \(2, 3, 4\)"),
        (np.array([0.0, np.nan, np.inf]), {}, r"2 NaN/inf samples \(first at index 1\)"),
        (np.array([0.0, -3000.0, 12000.0]), {}, r"\[-3000, 1.2e\+04\].*divide 16-bit samples by 32768"),
        (np.array([0.0, 1.25]), {}, r"must lie in \[-1, 1\]; got values in \[0, 1.25\] \(1 samples outside\)"),
        (np.array(["a", "b"]), {}, r"must be numeric samples, got dtype <U1"),
        (np.zeros(10), {"sample_rate": 22050, "expected_rate": 16000}, r"sample_rate=22050 Hz but 16000 Hz.*resample\(audio, 22050, 16000\)"),
        (np.zeros(10), {"sample_rate": -1}, r"sample_rate must be a positive integer.*sample_rate=-1"),
    ],
)
def test_check_audio_errors(audio, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_audio(audio, **kwargs)


def test_check_audio_clipped_says_how_many_and_to_lower_the_gain():
    audio = np.clip(2.0 * _sine(200.0, 8000), -1.0, 1.0)
    clipped = int(np.count_nonzero(np.abs(audio) >= 0.999))
    with pytest.raises(ValueError) as raised:
        check_audio(audio, name="take_3.wav")
    message = str(raised.value)
    assert f"take_3.wav is clipped: {clipped} of {audio.size} samples" in message
    assert "lower the gain" in message


# ---- log_mel_spectrogram -------------------------------------------------------


@pytest.mark.parametrize("length", [1, 255, 256, 257, 4000])
def test_log_mel_has_one_frame_per_hop(length):
    mel = log_mel_spectrogram(np.zeros(length, np.float32), 16000, num_mels=40, hop_length=256)
    assert mel.shape == (int(np.ceil(length / 256)), 40)
    batched = log_mel_spectrogram(np.zeros((3, length), np.float32), 16000, num_mels=40)
    assert batched.shape == (3, int(np.ceil(length / 256)), 40)
    # Silence is log(0 + 1e-5) everywhere.
    np.testing.assert_allclose(mel, np.log(1e-5), rtol=1e-6)


@pytest.mark.parametrize("hop, frame_length", [(256, 1024), (200, 800), (160, 400)])
def test_log_mel_frame_i_is_centred_in_hop_i(hop, frame_length):
    """A click anywhere inside hop k, [k*hop, (k+1)*hop), is loudest in frame k."""
    for k, offset in [(3, 1), (3, hop // 2), (5, hop - 1), (0, 2)]:
        audio = np.zeros(12 * hop, np.float32)
        audio[k * hop + offset] = 1.0
        mel = log_mel_spectrogram(audio, 16000, frame_length=frame_length, hop_length=hop).numpy()
        assert np.argmax(mel.sum(axis=-1)) == k, (k, offset)


def test_log_mel_tone_lands_in_its_mel_band():
    sample_rate, num_mels, frequency = 16000, 40, 1000.0
    mel = log_mel_spectrogram(_sine(frequency, sample_rate), sample_rate, num_mels=num_mels).numpy()
    peak_band = np.bincount(np.argmax(mel[2:-2], axis=-1)).argmax()
    # HTK mel scale: band m peaks at the (m + 1)-th of num_mels + 2 equally spaced mels.
    mels = np.linspace(0.0, 1127.0 * np.log1p(sample_rate / 2 / 700.0), num_mels + 2)
    centres = 700.0 * np.expm1(mels / 1127.0)
    assert abs(peak_band - np.argmin(np.abs(centres[1:-1] - frequency))) <= 1


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"frame_length": 128, "hop_length": 256}, r"frame_length=128 must be >= hop_length=256"),
        ({"fmax": 9000}, r"fmax <= sample_rate / 2 = 8000 Hz, got fmin=0.0, fmax=9000"),
        ({"num_mels": 0}, r"num_mels must be a positive integer, got num_mels=0"),
    ],
)
def test_log_mel_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        log_mel_spectrogram(np.zeros(1000, np.float32), 16000, **kwargs)


def test_log_mel_rejects_rank_3():
    with pytest.raises(ValueError, match=r"needs audio \[T\] or \[B, T\], got shape \(1, 2, 300\)"):
        log_mel_spectrogram(np.zeros((1, 2, 300), np.float32), 16000)


# ---- spectrogram_figure --------------------------------------------------------


def test_spectrogram_figure_stacks_labelled_panels(tmp_path):
    audios = {"generated": _sine(300.0, 8000, seconds=0.25), "real": _sine(1200.0, 8000, seconds=0.5)}
    path = spectrogram_figure(tmp_path / "fig.png", audios, 8000, num_mels=20, hop_length=100, scale=2)
    image = np.asarray(Image.open(path))
    frames = {"generated": 20, "real": 40}  # ceil(2000 / 100), ceil(4000 / 100)
    label_height = 14
    assert image.shape == (2 * (label_height + 20 * 2), frames["real"] * 2, 3)
    # The shorter panel is white after its last frame; the longer one is not.
    generated_panel = image[label_height : label_height + 40]
    assert np.all(generated_panel[:, frames["generated"] * 2 :] == 255)
    assert not np.all(generated_panel[:, : frames["generated"] * 2] == 255)
    # Each tone is brightest in a different row (low frequencies at the bottom).
    real_panel = image[2 * label_height + 40 :].astype(int).sum(axis=(1, 2))
    assert np.argmax(real_panel) < np.argmax(generated_panel.astype(int).sum(axis=(1, 2)))


def test_spectrogram_figure_errors(tmp_path):
    with pytest.raises(ValueError, match="at least one audio, got an empty dict"):
        spectrogram_figure(tmp_path / "f.png", {}, 8000)
    with pytest.raises(ValueError, match=r"audio 'loud' must lie in \[-1, 1\]"):
        spectrogram_figure(tmp_path / "f.png", {"loud": np.full(800, 2.0)}, 8000)
    with pytest.raises(ValueError, match=r"audio 'stereo' must be non-empty mono \[T\], got shape \(800, 2\)"):
        spectrogram_figure(tmp_path / "f.png", {"stereo": np.zeros((800, 2))}, 8000)
    assert not (tmp_path / "f.png").exists()

"""An offline multi-speaker speech corpus, synthesised with festival and espeak-ng.

Every sentence of arzoo/data/speech_sentences.txt is spoken by every voice of
`VOICES` that is installed: three festival voices built from recordings of
real speakers (two diphone voices at 16 kHz, one HTS voice at 32 kHz) and
five espeak-ng formant-synthesis variants (22.05 kHz). Each utterance is
checked (`check_audio`), resampled to one rate, peak-normalised to 0.9 and
written as

    out_dir/<speaker>/<nnn>.wav   16-bit PCM mono
    out_dir/<speaker>/<nnn>.txt   the transcript
    out_dir/corpus.json           speakers, rate, counts, durations (written last)

Every file is written atomically and existing ones are kept, so an
interrupted build resumes where it stopped. The folder is a `wav_folder`
(speaker = subfolder), which is how `load_audio_dataset("speech_corpus", ...)`
reads it.

Needs the Debian packages festival, festvox-kallpc16k, festvox-kdlpc16k,
festvox-us-slt-hts and espeak-ng (`make system-deps` installs them).
"""

import concurrent.futures
import dataclasses
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
import wave

import numpy as np
from tqdm.auto import tqdm

from arzoo.data.audio import check_audio, check_sample_rate, read_wav, resample, write_wav
from arzoo.data.sources import DATA_DIR_ENV_VAR
from arzoo.files import atomic_write_bytes

PEAK_LEVEL = 0.9
SYNTH_WORKERS = 2
SYNTH_TIMEOUT_S = 120
CORPUS_FILE = "corpus.json"
CORPUS_FORMAT = 1
SENTENCES_RESOURCE = "speech_sentences.txt"
CORPUS_SUBDIR = "speech_corpus"
CACHE_SUBDIR = os.path.join("arzoo", CORPUS_SUBDIR)


@dataclasses.dataclass(frozen=True)
class Voice:
    """One synthetic speaker.

    Attributes:
      speaker: the speaker (and subfolder) name.
      engine: "festival" or "espeak-ng".
      voice: festival voice name (`(voice_<voice>)`) or espeak-ng `-v` argument.
      native_rate: the rate the engine writes, Hz (informative; the WAV
        header is what counts).
      package: the Debian package that provides the voice.
    """

    speaker: str
    engine: str
    voice: str
    native_rate: int
    package: str


VOICES = {
    voice.speaker: voice
    for voice in (
        Voice("festival_kal", "festival", "kal_diphone", 16000, "festvox-kallpc16k"),
        Voice("festival_ked", "festival", "ked_diphone", 16000, "festvox-kdlpc16k"),
        Voice("festival_slt", "festival", "cmu_us_slt_arctic_hts", 32000, "festvox-us-slt-hts"),
        Voice("espeak_m1", "espeak-ng", "en+m1", 22050, "espeak-ng"),
        Voice("espeak_f2", "espeak-ng", "en+f2", 22050, "espeak-ng"),
        Voice("espeak_m3", "espeak-ng", "en+m3", 22050, "espeak-ng"),
        Voice("espeak_f4", "espeak-ng", "en+f4", 22050, "espeak-ng"),
        Voice("espeak_us_m7", "espeak-ng", "en-us+m7", 22050, "espeak-ng"),
    )
}

# engine -> {binary: Debian package}; festival's voice list needs `festival`.
ENGINE_BINARIES = {
    "festival": {"text2wave": "festival", "festival": "festival"},
    "espeak-ng": {"espeak-ng": "espeak-ng"},
}


class SynthesisError(RuntimeError):
    """A speech synthesiser failed or is not installed."""


def default_sentences():
    """The bundled sentences (arzoo/data/speech_sentences.txt), one per line."""
    text = importlib.resources.files("arzoo.data").joinpath(SENTENCES_RESOURCE).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def default_corpus_dir():
    """`$ARZOO_DATA_DIR/speech_corpus`, else `$XDG_CACHE_HOME/arzoo/speech_corpus`
    (XDG_CACHE_HOME defaults to ~/.cache)."""
    data_dir = os.environ.get(DATA_DIR_ENV_VAR)
    if data_dir:
        return os.path.join(data_dir, CORPUS_SUBDIR)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, CACHE_SUBDIR)


def ensure_speech_corpus(sample_rate=16000, out_dir=None, progress=True):
    """The folder of the full default corpus at `sample_rate`, built if missing.

    The corpus lives in `out_dir`, default `default_corpus_dir()/<rate>hz`
    (one folder per rate, so each rate is resampled once from the engines'
    own rates). A folder with a corpus.json of that rate is returned as is;
    otherwise `make_speech_corpus` builds (or finishes) it.
    """
    sample_rate = check_sample_rate(sample_rate)
    if out_dir is None:
        out_dir = os.path.join(default_corpus_dir(), f"{sample_rate}hz")
    manifest = read_corpus_manifest(out_dir)
    if manifest is not None and manifest["sample_rate"] == sample_rate:
        return out_dir
    make_speech_corpus(out_dir, sample_rate=sample_rate, progress=progress)
    return out_dir


def read_corpus_manifest(out_dir):
    """The parsed corpus.json of `out_dir`, or None when there is none."""
    path = os.path.join(out_dir, CORPUS_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_speech_corpus(
    out_dir, sample_rate=16000, voices=None, sentences=None, max_sentences=None, progress=True
):
    """Synthesise `sentences` with `voices` into `out_dir` (layout in the module doc).

    Args:
      out_dir: the corpus folder (created).
      sample_rate: the rate of every written file, Hz.
      voices: speaker names from `VOICES`; default all. Voices whose engine
        binary is missing are an error; installed engines whose voice is
        missing are skipped with a warning.
      sentences: list of sentences; default `default_sentences()`.
      max_sentences: use only the first `max_sentences` sentences.
      progress: show a progress bar on stderr.

    Returns:
      The corpus manifest (also written to out_dir/corpus.json): sample_rate,
      speakers {name: {engine, voice, files, seconds}}, count, total_seconds,
      sentences, durations {relative path: seconds}.

    Raises:
      ValueError: bad sample_rate, voices, sentences or max_sentences; out_dir
        holds files of another rate or other transcripts.
      SynthesisError: an engine binary is missing (names the Debian package),
        no requested voice is installed, or synthesis failed.
    """
    sample_rate = check_sample_rate(sample_rate)
    sentences = _check_sentences(default_sentences() if sentences is None else sentences)
    if max_sentences is not None:
        if type(max_sentences) is not int or max_sentences < 1:
            raise ValueError(
                "max_sentences must be a positive integer or None, "
                f"got max_sentences={max_sentences!r}."
            )
        sentences = sentences[:max_sentences]
    selected = installed_voices(_check_voices(voices))
    manifest = read_corpus_manifest(out_dir)
    if manifest is not None and manifest.get("sample_rate") != sample_rate:
        raise ValueError(
            f"{out_dir!r} holds a corpus at {manifest.get('sample_rate')} Hz, not "
            f"sample_rate={sample_rate}; use another out_dir or delete it."
        )
    width = max(3, len(str(len(sentences) - 1)))
    jobs = []
    for voice in selected:
        for index, sentence in enumerate(sentences):
            stem = os.path.join(out_dir, voice.speaker, f"{index:0{width}d}")
            if _prepare_item(stem, sentence, sample_rate):
                jobs.append((voice, sentence, stem + ".wav"))
    _run_jobs(jobs, sample_rate, progress)
    manifest = _manifest(out_dir, selected, sentences, width, sample_rate)
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    atomic_write_bytes(os.path.join(out_dir, CORPUS_FILE), text.encode("utf-8"))
    return manifest


def _check_sentences(sentences):
    if isinstance(sentences, str):
        raise ValueError("sentences must be a list of strings, got one string.")
    sentences = list(sentences)
    if not sentences:
        raise ValueError("sentences is empty; give at least one sentence.")
    for i, sentence in enumerate(sentences):
        if not isinstance(sentence, str) or not sentence.strip() or "\n" in sentence:
            raise ValueError(
                f"sentences[{i}]={sentence!r} must be a non-empty one-line string."
            )
    return [s.strip() for s in sentences]


def _check_voices(voices):
    if voices is None:
        return list(VOICES.values())
    if isinstance(voices, str):
        voices = [voices]
    unknown = [v for v in voices if v not in VOICES]
    if unknown or not voices:
        raise ValueError(
            f"voices={list(voices)!r}: unknown {unknown!r}; allowed: {', '.join(VOICES)}."
        )
    return [VOICES[v] for v in voices]


def installed_voices(voices=None):
    """The `Voice`s (default all of `VOICES`) whose engine and voice are installed.

    Raises:
      SynthesisError: an engine binary is missing, or none of the voices is
        installed.
    """
    voices = list(VOICES.values()) if voices is None else list(voices)
    for engine in sorted({v.engine for v in voices}):
        for binary, package in ENGINE_BINARIES[engine].items():
            if shutil.which(binary) is None:
                raise SynthesisError(
                    f"`{binary}` not found, needed for the {engine} voices "
                    f"{', '.join(v.speaker for v in voices if v.engine == engine)}: install the "
                    f"Debian package {package} (`sudo apt-get install {package}`; "
                    "`make system-deps` installs all of arzoo's system packages)."
                )
    listers = {"festival": _festival_voices, "espeak-ng": _espeak_variants}
    available = {engine: listers[engine]() for engine in {v.engine for v in voices}}
    found = []
    for voice in voices:
        if _voice_available(voice, available[voice.engine]):
            found.append(voice)
        else:
            warnings.warn(
                f"speech corpus: {voice.engine} voice {voice.voice!r} (speaker {voice.speaker}) "
                f"is not installed; skipping it. Install the Debian package {voice.package}.",
                stacklevel=3,
            )
    if not found:
        raise SynthesisError(
            f"none of the voices {', '.join(v.speaker for v in voices)} is installed; install "
            f"{', '.join(sorted({v.package for v in voices}))} (`make system-deps`)."
        )
    return found


def _voice_available(voice, available):
    if voice.engine == "festival":
        return voice.voice in available
    language, _, variant = voice.voice.partition("+")
    return language in available["languages"] and (not variant or variant in available["variants"])


def _festival_voices():
    result = _run(["festival", "--batch", "(print (voice.list))"], "festival voice list")
    return set(re.findall(r"[\w\-]+", result.stdout))


def _espeak_variants():
    languages = _run(["espeak-ng", "--voices"], "espeak-ng voice list").stdout
    variants = _run(["espeak-ng", "--voices=variant"], "espeak-ng variant list").stdout
    # `espeak-ng --voices` rows: priority, language, age/gender, name, file,
    # then other languages it speaks as "(en 2)"; "en" appears only there.
    codes = {row.split()[1] for row in languages.splitlines()[1:] if len(row.split()) > 1}
    codes |= set(re.findall(r"\(([\w\-]+) \d+\)", languages))
    return {"languages": codes, "variants": set(re.findall(r"!v/(\S+)", variants))}


def _run(command, what, input_text=None):
    try:
        result = subprocess.run(
            command, input=input_text, capture_output=True, text=True, timeout=SYNTH_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as err:
        raise SynthesisError(
            f"{what}: `{' '.join(command)}` timed out after {SYNTH_TIMEOUT_S} s."
        ) from err
    # festival reports Lisp errors (e.g. an unknown voice) on stderr with exit status 0.
    if result.returncode != 0 or "SIOD ERROR" in result.stderr:
        raise SynthesisError(
            f"{what}: `{' '.join(command)}` failed (exit {result.returncode}): "
            f"{result.stderr.strip()[-500:]}"
        )
    return result


def _prepare_item(stem, sentence, sample_rate):
    """Write the transcript if needed; True when the .wav still has to be made.

    The transcript is written before the audio, so an existing .wav always
    belongs to the transcript beside it.
    """
    transcript_path, wav_path = stem + ".txt", stem + ".wav"
    if os.path.exists(transcript_path):
        with open(transcript_path, encoding="utf-8") as f:
            existing = f.read().strip()
        if existing != sentence:
            raise ValueError(
                f"{transcript_path!r} says {existing!r}, not {sentence!r}: the folder holds "
                "another sentence list; use another out_dir or delete it."
            )
    else:
        atomic_write_bytes(transcript_path, (sentence + "\n").encode("utf-8"))
    if not os.path.exists(wav_path):
        return True
    rate = _wav_header(wav_path)[0]
    if rate != sample_rate:
        raise ValueError(
            f"{wav_path!r} is at {rate} Hz, not sample_rate={sample_rate}; use another out_dir "
            "or delete it."
        )
    return False


def _run_jobs(jobs, sample_rate, progress):
    if not jobs:
        return
    bar = tqdm(
        total=len(jobs), unit="file", desc="speech corpus", file=sys.stderr, disable=not progress
    )
    with concurrent.futures.ThreadPoolExecutor(max_workers=SYNTH_WORKERS) as pool:
        futures = [pool.submit(_synthesise_item, *job, sample_rate) for job in jobs]
        try:
            for future in concurrent.futures.as_completed(futures):
                future.result()
                bar.update(1)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            bar.close()


def _synthesise_item(voice, sentence, wav_path, sample_rate):
    audio, rate = synthesise(voice, sentence)
    audio = check_audio(audio, rate, name=f"{voice.speaker} saying {sentence!r}")
    audio = resample(audio, rate, sample_rate)
    peak = float(np.abs(audio).max())
    if peak == 0.0:
        raise SynthesisError(f"{voice.speaker} produced silence for {sentence!r}.")
    write_wav(wav_path, audio * (PEAK_LEVEL / peak), sample_rate)


def synthesise(voice, sentence):
    """`(audio float32 [T], native sample_rate)` of `voice` speaking `sentence`."""
    if isinstance(voice, str):
        voice = _check_voices([voice])[0]
    with tempfile.TemporaryDirectory(prefix="arzoo_tts_") as work:
        out = os.path.join(work, "out.wav")
        if voice.engine == "festival":
            text = os.path.join(work, "in.txt")
            with open(text, "w", encoding="utf-8") as f:
                f.write(sentence + "\n")
            command = ["text2wave", "-eval", f"(voice_{voice.voice})", "-o", out, text]
            _run(command, f"festival voice {voice.voice}")
        else:
            command = ["espeak-ng", "-v", voice.voice, "-w", out, "--stdin"]
            _run(command, f"espeak-ng voice {voice.voice}", input_text=sentence)
        if not os.path.exists(out):
            raise SynthesisError(f"`{' '.join(command)}` wrote no audio for {sentence!r}.")
        audio, rate = read_wav(out)
    return audio, rate


def _wav_header(path):
    """(sample_rate, frames) from a WAV header, without reading the samples."""
    with wave.open(path, "rb") as f:
        return f.getframerate(), f.getnframes()


def _manifest(out_dir, voices, sentences, width, sample_rate):
    speakers, durations = {}, {}
    for voice in voices:
        seconds = 0.0
        for index in range(len(sentences)):
            relative = f"{voice.speaker}/{index:0{width}d}.wav"
            _, frames = _wav_header(os.path.join(out_dir, relative))
            durations[relative] = round(frames / sample_rate, 4)
            seconds += frames / sample_rate
        speakers[voice.speaker] = {
            "engine": voice.engine,
            "voice": voice.voice,
            "files": len(sentences),
            "seconds": round(seconds, 3),
        }
    return {
        "format": CORPUS_FORMAT,
        "sample_rate": sample_rate,
        "speakers": speakers,
        "count": len(durations),
        "total_seconds": round(sum(durations.values()), 3),
        "sentences": len(sentences),
        "durations": durations,
    }

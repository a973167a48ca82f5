"""Decode callers' audio into the 16-bit mono PCM a recogniser expects.

Twilio's recordings are 8 kHz telephone audio, while the models we use were trained at 16 kHz, so
every message is decoded with soundfile, mixed to mono and resampled before recognition: with soxr's
high-quality filter, or by plain linear interpolation for PocketSphinx, which measured better there
(benchmarks/asr.py: a brick-wall filter leaves the 4-8 kHz band empty, which the 16 kHz model never saw).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import soundfile
import soxr

from .errors import AudioUnreadable

AudioSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray
"""A path to a sound file, or the file's bytes (WAV at any rate, or anything libsndfile reads)."""

Samples: TypeAlias = npt.NDArray[np.float32]

# About two steps of 16-bit audio. Recognisers invent words in pure digital silence
# (PocketSphinx hears "is"), and a caller who said nothing must get an empty transcript.
SILENT_PEAK = 2.5 / 32768


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at a known rate."""

    samples: Samples
    rate: int

    @property
    def duration(self) -> float:
        """Return the length in seconds."""
        return len(self.samples) / self.rate if self.rate else 0.0


@dataclass(frozen=True)
class Pcm:
    """Signed 16-bit little-endian mono PCM, ready for a recogniser."""

    data: bytes
    rate: int
    duration: float
    peak: float  # largest absolute sample, 0..1: zero means digital silence

    @property
    def silent(self) -> bool:
        """Tell whether the audio is digital silence (nothing above the last bit or two)."""
        return self.peak < SILENT_PEAK


def describe(source: AudioSource) -> str:
    """Name the audio in messages: its path, or its size when it came as bytes."""
    if isinstance(source, bytes | bytearray):
        return f"<{len(source)} bytes>"
    return os.fspath(source)


def load_audio(source: AudioSource) -> Audio:
    """Decode a sound file (path or bytes) and mix it down to mono."""
    name = describe(source)
    if not isinstance(source, bytes | bytearray):
        path = Path(source)
        if not path.exists():
            raise AudioUnreadable(name, "no such file")
        if not path.is_file():
            raise AudioUnreadable(name, "not a file")
    try:
        if isinstance(source, bytes | bytearray):
            data, rate = soundfile.read(io.BytesIO(bytes(source)), dtype="float32", always_2d=True)
        else:
            data, rate = soundfile.read(os.fspath(source), dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError, ValueError, OSError) as exc:
        # libsndfile's own words ("Format not recognised") are what an operator needs to see.
        raise AudioUnreadable(name, str(exc) or type(exc).__name__) from exc
    if rate <= 0:
        raise AudioUnreadable(name, f"invalid sample rate {rate}")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return Audio(np.ascontiguousarray(mono, dtype=np.float32), int(rate))


SOXR, LINEAR = "soxr", "linear"
RESAMPLERS = (SOXR, LINEAR)


def resample(audio: Audio, rate: int, method: str = SOXR) -> Audio:
    """Return the audio at `rate` Hz, unchanged if already there.

    `soxr`: soxr's high-quality (brick-wall) filter. `linear`: straight lines between samples, whose
    gentle roll-off leaves some energy above the old Nyquist frequency, as wideband speech has.
    """
    if method not in RESAMPLERS:
        raise ValueError(f"resampler must be one of {', '.join(RESAMPLERS)}, not {method!r}")
    if audio.rate == rate:
        return audio
    if len(audio.samples) == 0:
        return Audio(np.zeros(0, dtype=np.float32), rate)
    if method == LINEAR:
        count = round(len(audio.samples) * rate / audio.rate)
        at = np.arange(count, dtype=np.float64) * (audio.rate / rate)
        out = np.interp(at, np.arange(len(audio.samples), dtype=np.float64), audio.samples)
    else:
        out = soxr.resample(audio.samples, audio.rate, rate)
    return Audio(np.ascontiguousarray(out, dtype=np.float32), rate)


def to_pcm16(samples: Samples) -> bytes:
    """Convert float samples to signed 16-bit little-endian bytes, clipping overs."""
    scaled = np.clip(samples, -1.0, 1.0) * 32767.0
    return np.round(scaled).astype("<i2").tobytes()


def read_pcm16(source: AudioSource, rate: int, method: str = SOXR) -> Pcm:
    """Decode, mix to mono and resample to `rate` (by `method`); the duration is that of the original audio."""
    audio = load_audio(source)
    at_rate = resample(audio, rate, method)
    peak = float(np.max(np.abs(audio.samples))) if len(audio.samples) else 0.0
    return Pcm(to_pcm16(at_rate.samples), rate, audio.duration, peak)

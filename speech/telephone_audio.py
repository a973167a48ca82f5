"""Convert synthesised speech to the one format every prompt file is kept in: 8 kHz 16-bit mono WAV.

Why this format rather than keeping gTTS's MP3:

- The telephone network carries 8 kHz mono µ-law, and Twilio transcodes whatever `<Play>` fetches to
  that. Handing it 8 kHz mono PCM (`audio/wav` is on its list of supported types) leaves Twilio a
  lossless step instead of an MP3 decode and a resample, and every caller hears what we checked.
- Both engines end in the same format, so the cache, the duration and the check are one code path;
  espeak-ng writes WAV and has no MP3 encoder.
- WAV duration is exact from the header (MP3 duration is an estimate), and the phone emulator and the
  tests read it with the standard library alone.
- The cost is size: 16 kB per second, about 50 kB for a menu prompt. That is nothing on disk, and
  the web app serves prompts with cache headers so Twilio fetches each once.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile
import soxr

TELEPHONE_SAMPLE_RATE = 8000
TELEPHONE_FORMAT = "WAV"
TELEPHONE_SUBTYPE = "PCM_16"
MIN_SPEECH_SECONDS = 0.1
SILENCE_PEAK = 1e-3
SOUND_RMS = 0.01  # a 20 ms frame quieter than -40 dBFS counts as silence
TARGET_PEAK = 0.89  # -1 dBFS: every prompt equally loud, with headroom for the µ-law encoder


class UndecodableAudio(ValueError):
    """Say that bytes or a file could not be decoded as audio."""


@dataclass(frozen=True)
class Pcm:
    """Hold mono speech as float samples in [-1, 1] and their sample rate."""

    samples: npt.NDArray[np.float32]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Return the length in seconds."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0

    @property
    def sounding_s(self) -> float:
        """Return how many seconds are louder than silence, counted in 20 ms frames.

        An engine can exit cleanly with a file of pure silence (espeak-ng given "..."); the
        length of the file alone would not tell.
        """
        frame = max(1, self.sample_rate // 50)
        count = len(self.samples) // frame
        if not count:
            return 0.0
        frames = self.samples[: count * frame].reshape(count, frame)
        loud = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)) > SOUND_RMS
        return int(np.count_nonzero(loud)) * frame / self.sample_rate


@dataclass(frozen=True)
class AudioCheck:
    """Describe whether a file is a prompt Twilio can play, and what is wrong if not."""

    path: Path
    problems: tuple[str, ...]
    sample_rate: int | None = None
    channels: int | None = None
    subtype: str | None = None
    duration_s: float = 0.0

    @property
    def playable(self) -> bool:
        """Return True when no problem was found."""
        return not self.problems


def decode(source: Path | bytes) -> Pcm:
    """Decode a file or in-memory bytes (WAV, MP3, anything libsndfile reads) to mono PCM.

    libsndfile in the soundfile wheel decodes MP3 (1.1+), so gTTS answers need no ffmpeg.
    """
    handle: Path | io.BytesIO = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        data, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, EOFError) as error:
        raise UndecodableAudio(str(error)) from error
    samples = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    return Pcm(samples=np.ascontiguousarray(samples, dtype=np.float32), sample_rate=int(rate))


def concatenate(parts: list[Pcm]) -> Pcm:
    """Join speech parts end to end, resampling each to the first part's rate.

    gTTS answers long text in several MP3s; decoding each and joining the samples avoids relying on
    a decoder reading concatenated MP3 streams (libsndfile stops at the first one's Xing header).
    """
    if not parts:
        raise ValueError("no audio parts to join")
    rate = parts[0].sample_rate
    chunks = [_resample(part, rate).samples for part in parts]
    return Pcm(samples=np.concatenate(chunks).astype(np.float32), sample_rate=rate)


def to_telephone(pcm: Pcm) -> Pcm:
    """Resample to 8 kHz with soxr and bring the peak to -1 dBFS.

    Levelling makes gTTS and espeak-ng prompts equally loud on the line; silence is left silent.
    """
    telephone = _resample(pcm, TELEPHONE_SAMPLE_RATE)
    peak = float(np.max(np.abs(telephone.samples))) if len(telephone.samples) else 0.0
    samples = telephone.samples * (TARGET_PEAK / peak) if peak > SILENCE_PEAK else telephone.samples
    return Pcm(samples=np.clip(samples, -1.0, 1.0).astype(np.float32), sample_rate=TELEPHONE_SAMPLE_RATE)


def write_telephone_wav(pcm: Pcm, path: Path) -> None:
    """Write 8 kHz speech as 16-bit mono PCM WAV."""
    if pcm.sample_rate != TELEPHONE_SAMPLE_RATE:
        raise ValueError(f"expected {TELEPHONE_SAMPLE_RATE} Hz audio, got {pcm.sample_rate} Hz")
    soundfile.write(path, pcm.samples, pcm.sample_rate, subtype=TELEPHONE_SUBTYPE, format=TELEPHONE_FORMAT)


def declared_seconds(data: bytes) -> float | None:
    """Return the length an audio file's header declares, or None when libsndfile cannot open it.

    Read before decoding, so a file that says it is too long is refused without being decoded into memory.
    """
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            return sound.frames / sound.samplerate if sound.samplerate else 0.0
    except (soundfile.SoundFileError, RuntimeError, EOFError, ValueError):
        return None


def store_playable_wav(pcm: Pcm, target: Path) -> AudioCheck:
    """Write `pcm` as telephone WAV at `target` if a caller could hear it; return the check either way.

    Written to a temporary file beside the target and renamed into place only when playable, so a
    reader never sees half a file and a refused recording leaves nothing behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".wav.tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        write_telephone_wav(to_telephone(pcm), temporary)
        check = check_playable(temporary)
        if check.playable:
            os.replace(temporary, target)
        return check
    finally:
        temporary.unlink(missing_ok=True)


def check_playable(path: Path, *, min_duration_s: float = MIN_SPEECH_SECONDS) -> AudioCheck:
    """Check that a file decodes, lasts long enough, is not silent and is 8 kHz 16-bit mono WAV.

    Run on every rendering before it enters the cache, so a call never plays a broken prompt.
    """
    try:
        info = soundfile.info(str(path))
        data, _ = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, EOFError, OSError) as error:
        return AudioCheck(path=path, problems=(f"not decodable: {error}",))
    problems = []
    if info.format != TELEPHONE_FORMAT:
        problems.append(f"format {info.format}, expected {TELEPHONE_FORMAT}")
    if info.subtype != TELEPHONE_SUBTYPE:
        problems.append(f"subtype {info.subtype}, expected {TELEPHONE_SUBTYPE}")
    if info.samplerate != TELEPHONE_SAMPLE_RATE:
        problems.append(f"sample rate {info.samplerate} Hz, expected {TELEPHONE_SAMPLE_RATE} Hz")
    if info.channels != 1:
        problems.append(f"{info.channels} channels, expected mono")
    pcm = Pcm(samples=np.ascontiguousarray(data[:, 0]), sample_rate=info.samplerate)
    duration = pcm.duration_s
    if duration < min_duration_s:
        problems.append(f"lasts {duration:.3f} s, shorter than {min_duration_s} s of speech")
    elif pcm.sounding_s < min_duration_s:
        problems.append(f"silent: {pcm.sounding_s:.2f} s of sound in {duration:.2f} s")
    return AudioCheck(
        path=path,
        problems=tuple(problems),
        sample_rate=info.samplerate,
        channels=info.channels,
        subtype=info.subtype,
        duration_s=duration,
    )


def _resample(pcm: Pcm, rate: int) -> Pcm:
    """Return the speech at another sample rate (unchanged when already there)."""
    if pcm.sample_rate == rate or not len(pcm.samples):
        return Pcm(samples=pcm.samples, sample_rate=rate)
    samples = soxr.resample(pcm.samples, pcm.sample_rate, rate, quality="HQ")
    return Pcm(samples=np.asarray(samples, dtype=np.float32), sample_rate=rate)

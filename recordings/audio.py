"""Check that a blob of bytes is audio we can keep, and describe it.

A download can "succeed" with the wrong thing in it: an HTML error page behind a 200, a JSON or
XML error from Twilio's API, a body cut short, or silence of zero length. Storing such a blob and
then deleting Twilio's copy would lose the caller's message, so every recording passes through
`inspect_audio` before it is stored.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import soundfile as sf

from .errors import AudioUnreadable

MAX_SECONDS = 4 * 60 * 60
"""Longest audio accepted. No caller message or bulletin is hours long; such a header is corrupt."""

SUFFIXES = {"WAV": ".wav", "WAVEX": ".wav", "MP3": ".mp3", "FLAC": ".flac", "OGG": ".ogg"}
"""Containers we keep, with the file suffix each is stored under. Every part of the pipeline
(soundfile for speech, browsers for officials, Twilio's <Play> for callers) reads these."""

_BLOCK_FRAMES = 65536
_RIFF_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # placeholders written by streaming encoders


@dataclass(frozen=True)
class AudioInfo:
    """What a blob of audio is: container, encoding, rate, channels and length."""

    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    duration: float

    @property
    def suffix(self) -> str:
        """Return the file suffix this container is stored under (".wav", ".mp3", ...)."""
        return SUFFIXES[self.format]


def inspect_audio(data: bytes, *, max_seconds: float = MAX_SECONDS) -> AudioInfo:
    """Decode the whole blob and describe it; raise AudioUnreadable with the reason if unusable.

    Every frame is decoded (in blocks, so memory stays small): a header alone can look fine on a
    file whose body is garbage.
    """
    if not data:
        raise AudioUnreadable("empty: no bytes at all")
    _refuse_text(data)
    _refuse_truncated_riff(data)
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            fmt, subtype, rate, channels = f.format, f.subtype, f.samplerate, f.channels
            if fmt not in SUFFIXES:
                raise AudioUnreadable(f"unsupported container {fmt} (keep one of {', '.join(SUFFIXES)})")
            if rate <= 0 or channels <= 0:
                raise AudioUnreadable(f"nonsense header: {rate} Hz, {channels} channels")
            # Check the declared length first, so a corrupt header does not make us decode for hours.
            if f.frames / rate > max_seconds:
                raise AudioUnreadable(f"absurd duration: header declares {f.frames / rate:.0f} s "
                                      f"(more than {max_seconds:.0f} s)")
            frames = 0
            for block in f.blocks(blocksize=_BLOCK_FRAMES, dtype="int16", always_2d=True):
                frames += len(block)
    except sf.LibsndfileError as exc:
        raise AudioUnreadable(f"not decodable audio ({exc.error_string})") from exc
    except sf.SoundFileError as exc:
        raise AudioUnreadable(f"not decodable audio ({exc})") from exc
    duration = frames / rate
    if frames <= 0:
        raise AudioUnreadable(f"zero duration: a {fmt} header with no audio after it")
    if duration > max_seconds:
        raise AudioUnreadable(f"absurd duration: {duration:.0f} s (more than {max_seconds:.0f} s)")
    return AudioInfo(format=fmt, subtype=subtype, sample_rate=rate, channels=channels,
                     frames=frames, duration=duration)


def _refuse_text(data: bytes) -> None:
    """Name the usual impostors (error pages and API errors) instead of a decoder's shrug."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        raise AudioUnreadable("an HTML page, not audio (an error or login page?)")
    if head.startswith(b"<"):
        raise AudioUnreadable("an XML document, not audio (an API error response?)")
    if head.startswith((b"{", b"[")):
        raise AudioUnreadable("a JSON document, not audio (an API error response?)")


def _refuse_truncated_riff(data: bytes) -> None:
    """Refuse a WAV whose data chunk is shorter than its header says.

    libsndfile quietly plays what is there, so a download cut short would otherwise be stored
    as a complete message and the rest of what the caller said lost.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if chunk == b"data":
            present = len(data) - pos - 8
            if size not in _RIFF_UNKNOWN_SIZES and size > present:
                raise AudioUnreadable(f"truncated: the WAV header declares {size} bytes of audio, "
                                      f"only {present} are present")
            return
        pos += 8 + size + (size & 1)

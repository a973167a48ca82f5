"""Join a bulletin's spoken parts and caller clips into one loudness-levelled MP3.

Each part is brought to the same loudness (the RMS of its sounding 20 ms frames, so pauses do not
count) and its peak kept below -1 dBFS, so a quiet caller on a bad line is as audible as the
synthesised voice. The MP3 is encoded by libsndfile's LAME encoder, which the soundfile wheel
ships: no ffmpeg to install. 16 kHz mono: the parts are telephone audio (8 kHz), and 16 kHz is the
lowest rate every podcast player and Twilio's <Play> accept for MP3.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soundfile
import soxr

from speech.telephone_audio import Pcm

RATE = 16000
TARGET_RMS_DBFS = -20.0
PEAK = 0.89  # -1 dBFS
GAP_SECONDS = 0.6
FRAME_SECONDS = 0.02
SILENT_RMS = 0.01  # -40 dBFS: a frame this quiet counts as a pause


@dataclass(frozen=True)
class Encoded:
    """An encoded bulletin: the MP3's bytes and its length in seconds."""

    data: bytes
    duration_seconds: float


def level(pcm: Pcm) -> npt.NDArray[np.float32]:
    """Resample a part to RATE and bring its sounding frames to the target loudness."""
    samples = pcm.samples if pcm.sample_rate == RATE else soxr.resample(pcm.samples, pcm.sample_rate, RATE)
    samples = np.asarray(samples, dtype=np.float32)
    loud = sounding_rms(samples)
    if loud <= 0.0:
        return samples  # silence stays silence
    gained = samples * (10 ** (TARGET_RMS_DBFS / 20) / loud)
    peak = float(np.max(np.abs(gained)))
    if peak > PEAK:
        gained = gained * (PEAK / peak)
    return gained.astype(np.float32)


def sounding_rms(samples: npt.NDArray[np.float32], rate: int = RATE) -> float:
    """Return the RMS of the frames louder than a pause (0 when all of it is quiet)."""
    frame = max(1, int(rate * FRAME_SECONDS))
    count = len(samples) // frame
    if count == 0:
        return 0.0
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    sounding = frames[rms > SILENT_RMS]
    return float(np.sqrt(np.mean(sounding**2))) if len(sounding) else 0.0


def join(parts: list[Pcm]) -> npt.NDArray[np.float32]:
    """Level every part and join them with a short pause between each."""
    if not parts:
        raise ValueError("a bulletin needs at least one part")
    gap = np.zeros(int(RATE * GAP_SECONDS), dtype=np.float32)
    chunks: list[npt.NDArray[np.float32]] = []
    for part in parts:
        if chunks:
            chunks.append(gap)
        chunks.append(level(part))
    return np.concatenate(chunks).astype(np.float32)


def encode_mp3(samples: npt.NDArray[np.float32]) -> Encoded:
    """Encode mono samples at RATE as MP3 (MPEG layer III)."""
    out = io.BytesIO()
    soundfile.write(out, samples, RATE, format="MP3", subtype="MPEG_LAYER_III")
    return Encoded(data=out.getvalue(), duration_seconds=round(len(samples) / RATE, 2))

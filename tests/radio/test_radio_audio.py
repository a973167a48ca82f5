"""Loudness levelling: a quiet caller and a loud synthetic voice come out equally loud, silence stays silent."""

from __future__ import annotations

import io

import numpy as np
import soundfile

from ivr.radio.audio import PEAK, RATE, TARGET_RMS_DBFS, encode_mp3, join, level, sounding_rms
from speech.telephone_audio import Pcm


def tone(amplitude: float, seconds: float = 1.0, rate: int = 8000) -> Pcm:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return Pcm((amplitude * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate)


def test_quiet_and_loud_parts_are_levelled_to_the_same_loudness() -> None:
    quiet, loud = level(tone(0.02)), level(tone(0.9))
    target = 10 ** (TARGET_RMS_DBFS / 20)
    assert abs(sounding_rms(quiet) - target) < 0.005 and abs(sounding_rms(loud) - target) < 0.005
    assert float(np.max(np.abs(loud))) <= PEAK + 1e-6
    assert not level(Pcm(np.zeros(8000, dtype=np.float32), 8000)).any()  # silence is not amplified


def test_joined_parts_encode_to_an_mp3_of_the_right_length() -> None:
    samples = join([tone(0.05, 1.0), tone(0.5, 2.0)])
    encoded = encode_mp3(samples)
    decoded, rate = soundfile.read(io.BytesIO(encoded.data), dtype="float32")
    assert rate == RATE and encoded.duration_seconds == 3.6  # 1 s, a 0.6 s pause, 2 s
    assert abs(len(decoded) / rate - 3.6) < 0.1

"""Decoding callers' audio: any WAV rate, paths or bytes, stereo mixed down, unreadable refused."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speech.audio import load_audio, read_pcm16, resample, to_pcm16
from speech.errors import AudioUnreadable, SpeechError


def wav_bytes(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def tone(seconds: float, rate: int, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_reads_telephone_wav_from_path_and_bytes(dev_audio: Path) -> None:
    path = dev_audio / "osr_us_0010_01.wav"
    from_path = load_audio(path)
    from_bytes = load_audio(path.read_bytes())
    assert from_path.rate == from_bytes.rate == 8000
    assert np.array_equal(from_path.samples, from_bytes.samples)
    assert from_path.duration == pytest.approx(soundfile.info(str(path)).duration)


def test_resamples_8k_to_16k_keeping_duration(dev_audio: Path) -> None:
    pcm = read_pcm16(dev_audio / "osr_us_0010_01.wav", 16000)
    assert pcm.rate == 16000
    assert len(pcm.data) // 2 == pytest.approx(pcm.duration * 16000, abs=2)


def test_mixes_stereo_to_mono() -> None:
    left = tone(0.5, 16000)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    audio = load_audio(wav_bytes(stereo, 16000, "FLOAT"))
    assert audio.samples.ndim == 1
    assert np.allclose(audio.samples, left / 2, atol=1e-6)


def test_reads_mu_law_as_telephones_send_it() -> None:
    audio = load_audio(wav_bytes(tone(1.0, 8000), 8000, "ULAW"))
    assert audio.rate == 8000
    assert audio.duration == pytest.approx(1.0)


def test_resampling_keeps_a_tone_at_its_pitch() -> None:
    audio = resample(load_audio(wav_bytes(tone(1.0, 8000, hz=1000.0), 8000)), 16000)
    spectrum = np.abs(np.fft.rfft(audio.samples))
    peak_hz = np.argmax(spectrum) * 16000 / len(audio.samples)
    assert peak_hz == pytest.approx(1000.0, abs=2.0)


def test_pcm16_clips_instead_of_wrapping() -> None:
    data = np.frombuffer(to_pcm16(np.array([2.0, -2.0, 0.0], dtype=np.float32)), dtype="<i2")
    assert data.tolist() == [32767, -32767, 0]


def test_empty_recording_is_read_as_silence() -> None:
    pcm = read_pcm16(wav_bytes(np.zeros(0, dtype=np.float32), 8000), 16000)
    assert pcm.data == b""
    assert pcm.duration == 0.0


@pytest.mark.parametrize("junk", [b"", b"RIFF\x00\x00", b"this is not audio at all" * 10])
def test_unreadable_bytes_raise_our_error(junk: bytes) -> None:
    with pytest.raises(AudioUnreadable, match=f"<{len(junk)} bytes>"):
        load_audio(junk)


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "message-0042.wav"
    with pytest.raises(AudioUnreadable, match=r"message-0042\.wav: no such file") as caught:
        load_audio(missing)
    assert isinstance(caught.value, SpeechError)


def test_folder_and_text_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioUnreadable, match="not a file"):
        load_audio(tmp_path)
    notes = tmp_path / "notes.wav"
    notes.write_text("hello", encoding="utf-8")
    with pytest.raises(AudioUnreadable, match=r"notes\.wav"):
        load_audio(notes)

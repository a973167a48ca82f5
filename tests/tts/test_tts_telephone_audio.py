"""Convert speech to 8 kHz 16-bit mono WAV and check files the way Twilio will need them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from speech.telephone_audio import (
    Pcm,
    UndecodableAudio,
    check_playable,
    concatenate,
    decode,
    to_telephone,
    write_telephone_wav,
)


def tone(seconds: float, rate: int, amplitude: float = 0.3) -> Pcm:
    """Return a 440 Hz tone, a stand-in for speech where only the signal's shape matters."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return Pcm(samples=(amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sample_rate=rate)


def test_libsndfile_decodes_mp3(speech_mp3: bytes) -> None:
    pcm = decode(speech_mp3)

    assert pcm.sample_rate == 24000
    assert 0.5 < pcm.duration_s < 5
    assert float(np.max(np.abs(pcm.samples))) > 0.1


def test_speech_is_resampled_to_8khz_and_levelled(speech_mp3: bytes, tmp_path: Path) -> None:
    source = decode(speech_mp3)
    path = tmp_path / "prompt.wav"

    write_telephone_wav(to_telephone(source), path)

    info = soundfile.info(str(path))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", 8000, 1)
    assert info.duration == pytest.approx(source.duration_s, abs=0.01)
    assert float(np.max(np.abs(soundfile.read(path)[0]))) == pytest.approx(0.89, abs=0.01)
    assert check_playable(path).playable


def test_parts_at_different_rates_are_joined_at_the_first_rate() -> None:
    joined = concatenate([tone(1.0, 24000), tone(0.5, 16000)])

    assert joined.sample_rate == 24000
    assert joined.duration_s == pytest.approx(1.5, abs=0.001)


def test_garbage_does_not_decode(tmp_path: Path) -> None:
    garbage = tmp_path / "prompt.wav"
    garbage.write_bytes(b"<html>Service Unavailable</html>" * 20)

    with pytest.raises(UndecodableAudio):
        decode(garbage.read_bytes())
    check = check_playable(garbage)
    assert not check.playable
    assert check.problems[0].startswith("not decodable")
    assert not check_playable(tmp_path / "missing.wav").playable


@pytest.mark.parametrize(
    ("samples", "rate", "channels", "subtype", "problem"),
    [
        (tone(1.0, 22050).samples, 22050, 1, "PCM_16", "sample rate 22050 Hz, expected 8000 Hz"),
        (np.stack([tone(1.0, 8000).samples] * 2, axis=1), 8000, 2, "PCM_16", "2 channels, expected mono"),
        (tone(1.0, 8000).samples, 8000, 1, "FLOAT", "subtype FLOAT, expected PCM_16"),
        (tone(0.05, 8000).samples, 8000, 1, "PCM_16", "shorter than 0.1 s"),
        (np.zeros(0, dtype=np.float32), 8000, 1, "PCM_16", "lasts 0.000 s"),
        (np.zeros(8000, dtype=np.float32), 8000, 1, "PCM_16", "silent: 0.00 s of sound"),
    ],
)
def test_files_twilio_should_not_get_are_refused(
    tmp_path: Path, samples: np.ndarray, rate: int, channels: int, subtype: str, problem: str
) -> None:
    path = tmp_path / "prompt.wav"
    soundfile.write(path, samples, rate, subtype=subtype, format="WAV")

    check = check_playable(path)

    assert not check.playable
    assert any(problem in found for found in check.problems), check.problems
    assert check.channels == channels


def test_only_8khz_audio_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected 8000 Hz"):
        write_telephone_wav(tone(1.0, 16000), tmp_path / "prompt.wav")

"""inspect_audio on real recordings and on the impostors a download can bring back."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings.audio import inspect_audio
from recordings.errors import AudioUnreadable

DEV_AUDIO = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "dev"


@pytest.mark.parametrize("name", ["osr_us_0011_09.wav", "cathy_a0100.wav", "voxforge_en-0532.wav"])
def test_describes_real_recordings(name: str) -> None:
    path = DEV_AUDIO / name
    expected = sf.info(str(path))

    info = inspect_audio(path.read_bytes())

    assert (info.format, info.subtype) == ("WAV", "PCM_16")
    assert info.sample_rate == expected.samplerate == 8000
    assert info.channels == 1
    assert info.frames == expected.frames
    assert info.duration == pytest.approx(expected.duration)
    assert info.suffix == ".wav"


def test_describes_flac(wav_path: Path) -> None:
    samples, rate = sf.read(str(wav_path), dtype="int16")
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="FLAC")

    info = inspect_audio(buf.getvalue())

    assert (info.format, info.suffix, info.frames) == ("FLAC", ".flac", len(samples))


def reason(data: bytes, **kwargs: float) -> str:
    with pytest.raises(AudioUnreadable) as caught:
        inspect_audio(data, **kwargs)
    return caught.value.reason


def test_refuses_empty() -> None:
    assert "empty" in reason(b"")


def test_refuses_an_html_error_page() -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body></body></html>"
    assert "HTML" in reason(page)


def test_refuses_twilios_json_and_xml_errors() -> None:
    error = json.dumps({"code": 20404, "message": "The requested resource was not found", "status": 404})
    assert "JSON" in reason(error.encode())
    xml = b'<?xml version="1.0"?>\n<TwilioResponse><RestException><Status>404</Status></RestException>'
    assert "XML" in reason(xml + b"</TwilioResponse>")


def test_refuses_garbage() -> None:
    garbage = random.Random(7).randbytes(20_000)
    assert "not decodable" in reason(garbage)


def test_refuses_a_truncated_header(wav: bytes) -> None:
    assert "not decodable" in reason(wav[:30])


def test_refuses_a_header_with_no_audio(wav: bytes) -> None:
    header = bytearray(wav[:44])
    header[40:44] = (0).to_bytes(4, "little")  # data chunk of length 0
    assert "zero duration" in reason(bytes(header))


def test_refuses_a_wav_cut_short(wav: bytes) -> None:
    # libsndfile would happily play the first half; the caller's last words would be lost.
    assert "truncated" in reason(wav[: len(wav) // 2])


def test_refuses_absurd_durations(wav: bytes) -> None:
    assert "absurd duration" in reason(wav, max_seconds=1.0)


def test_refuses_containers_we_do_not_keep() -> None:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(800, dtype="int16"), 8000, format="AIFF")
    assert "unsupported container AIFF" in reason(buf.getvalue())

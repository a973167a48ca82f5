"""Recordings come only from TWILIO_MEDIA_HOSTS, and never longer than the record limit allows."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr import create_app
from ivr.core.config import Config
from ivr.core.errors import ConfigError
from ivr.core.models import Message, Recording
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs, make_config

REPORT = ["1", "1", "1", "5", "1", "REC", "1"]


@pytest.fixture
def hotline(tmp_path: Path, sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    app = create_app(make_config(tmp_path, sqlite_url, **request.param))
    yield app
    finish_jobs(app)


def report(app: Flask, media: MediaHost, audio: bytes) -> Message:
    Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media).call(Script(list(REPORT), [audio]))
    finish_jobs(app)
    with services(app).db.session() as s:
        return s.scalars(select(Message)).one()


@pytest.mark.parametrize("hotline", [{"twilio_media_hosts": "api.twilio.com"}], indirect=True)
def test_a_recording_url_off_the_media_hosts_is_not_fetched(hotline: Flask, media: MediaHost,
                                                              speech_wav: bytes) -> None:
    message = report(hotline, media, speech_wav)

    assert media.requests == []  # not asked at all, so the account's credentials never went there
    assert message.pipeline == "failed"
    assert message.pipeline_error is not None and "not a Twilio media host" in message.pipeline_error


@pytest.mark.parametrize("hotline", [{"recording_max_seconds": 5}], indirect=True)
def test_a_recording_longer_than_the_limit_is_refused(hotline: Flask, media: MediaHost, speech_wav: bytes) -> None:
    message = report(hotline, media, repeated(speech_wav, 5))  # 16 s against a limit of 5 (+5 s of grace)

    assert message.pipeline == "audio_unreadable"
    assert message.pipeline_error is not None and "more than 10 s" in message.pipeline_error
    with services(hotline).db.session() as s:
        assert s.scalars(select(Recording.stored_path)).one() is None


def repeated(wav: bytes, times: int) -> bytes:
    """Return a WAV of the same audio said `times` times over."""
    with wave.open(io.BytesIO(wav)) as src:
        params, frames = src.getparams(), src.readframes(src.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setparams(params)
        dst.writeframes(frames * times)
    return out.getvalue()


def test_media_hosts_setting_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TWILIO_MEDIA_HOSTS"):
        make_config(tmp_path, "sqlite://", twilio_media_hosts="https://api.twilio.com/")
    config: Config = make_config(tmp_path, "sqlite://", twilio_media_hosts=" API.twilio.com , 127.0.0.1:8080")
    assert config.media_hosts == ("api.twilio.com", "127.0.0.1:8080")

"""The transcription backlog an operator sees in /health and `hotline jobs`: how much waits, and for how long."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from ivr.commands.cli import main
from ivr.core import backlog, pipeline
from ivr.core.db import database_for
from ivr.core.models import Message, Recording, Transcript, utcnow
from ivr.core.services import services

NOW = datetime(2026, 12, 4, 9, 0, 0)


def add_message(database_url: str, state: str, *, seconds: int | None, created: datetime) -> int:
    """A message in a pipeline state, with a recording Twilio said lasts `seconds`."""
    sid = "RE" + secrets.token_hex(16)
    with database_for(database_url).session() as s:
        message = Message(reference=str(secrets.randbelow(9 * 10**7) + 10**7), language="en", topic="water",
                          place="ba", consent="none", pipeline=state, recording_sid=sid, created_at=created,
                          pipeline_at=created)
        s.add(message)
        s.flush()
        s.add(Recording(recording_sid=sid, call_sid="CA" + secrets.token_hex(16), message_id=message.id,
                        url=f"https://api.twilio.com/Recordings/{sid}", duration_seconds=seconds))
        return message.id


def add_transcript(database_url: str, *, audio: float, processing: float, created: datetime) -> None:
    message_id = add_message(database_url, pipeline.ROUTED, seconds=round(audio), created=created)
    with database_for(database_url).session() as s:
        s.add(Transcript(message_id=message_id, language="en", text="water", words="[]", engine="test",
                         model="test", audio_seconds=audio, processing_seconds=processing, created_at=created))


def test_nothing_waiting_is_an_empty_backlog(database_url: str) -> None:
    add_transcript(database_url, audio=10.0, processing=2.0, created=NOW - timedelta(minutes=1))
    with database_for(database_url).session() as s:
        found = backlog.measure(s, now=NOW)
    assert (found.messages, found.audio_seconds, found.estimated_wait_seconds) == (0, 0.0, 0.0)
    assert found.describe() == "transcription backlog: none"


def test_waiting_audio_and_the_wait_at_the_pace_achieved_since_the_backlog_began(database_url: str) -> None:
    # Waiting: one being fetched (received), two stored; the oldest arrived 120 s ago.
    add_message(database_url, pipeline.RECEIVED, seconds=30, created=NOW - timedelta(seconds=120))
    add_message(database_url, pipeline.STORED, seconds=20, created=NOW - timedelta(seconds=60))
    add_message(database_url, pipeline.STORED, seconds=10, created=NOW - timedelta(seconds=5))
    add_message(database_url, pipeline.READY, seconds=99, created=NOW - timedelta(seconds=300))  # transcribed
    # Transcribed since the backlog began: 24 s of audio in 120 s; one before it does not count.
    add_transcript(database_url, audio=14.0, processing=2.0, created=NOW - timedelta(seconds=90))
    add_transcript(database_url, audio=10.0, processing=2.0, created=NOW - timedelta(seconds=30))
    add_transcript(database_url, audio=500.0, processing=10.0, created=NOW - timedelta(seconds=200))
    with database_for(database_url).session() as s:
        found = backlog.measure(s, now=NOW)
    assert (found.messages, found.audio_seconds, found.oldest_waiting_seconds) == (3, 60.0, 120.0)
    assert found.pace_basis == "recent"
    assert found.pace == 24.0 / 120.0
    assert found.estimated_wait_seconds == 60.0 / (24.0 / 120.0)
    assert found.describe() == ("transcription backlog: 3 message(s), 60 s of audio, the oldest waiting 120 s; at "
                                "the recent pace (0.20 s of audio per second) about 300 s to clear")


def test_a_backlog_just_begun_is_estimated_at_the_engines_own_speed(database_url: str) -> None:
    add_message(database_url, pipeline.STORED, seconds=40, created=NOW - timedelta(seconds=3))
    for audio, processing in ((10.0, 2.0), (12.0, 3.0), (9.0, 1.0)):  # speeds 5, 4, 9: median 5
        add_transcript(database_url, audio=audio, processing=processing, created=NOW - timedelta(hours=2))
    with database_for(database_url).session() as s:
        found = backlog.measure(s, now=NOW)
    assert (found.pace_basis, found.pace, found.estimated_wait_seconds) == ("engine speed", 5.0, 8.0)


def test_with_nothing_ever_transcribed_the_wait_is_unknown(database_url: str) -> None:
    add_message(database_url, pipeline.STORED, seconds=40, created=NOW - timedelta(seconds=30))
    with database_for(database_url).session() as s:
        found = backlog.measure(s, now=NOW)
    assert (found.messages, found.pace, found.estimated_wait_seconds) == (1, None, None)
    assert found.describe().endswith("wait unknown (nothing transcribed yet)")


def test_health_and_hotline_jobs_show_the_backlog(app: Flask, tmp_path: Path) -> None:
    url = services(app).config.database_url
    assert app.test_client().get("/health").get_json()["transcription_backlog"]["messages"] == 0
    now = utcnow()
    add_message(url, pipeline.STORED, seconds=42, created=now - timedelta(seconds=20))
    add_transcript(url, audio=30.0, processing=3.0, created=now - timedelta(days=1))
    health = app.test_client().get("/health").get_json()["transcription_backlog"]
    assert (health["messages"], health["audio_seconds"], health["pace_basis"]) == (1, 42.0, "engine speed")
    assert health["estimated_wait_seconds"] == 4.2

    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://x",
           "DATABASE_URL": url, "REDIS_URL": "", "HOTLINE_ENV_FILE": str(tmp_path / "none")}
    text = CliRunner().invoke(main, ["jobs"], env=env).output
    assert "transcription backlog: 1 message(s), 42 s of audio" in text
    assert "about 4 s to clear" in text
    lines = [json.loads(line) for line in CliRunner().invoke(main, ["jobs", "--json"], env=env).output.splitlines()]
    assert lines[0]["transcription_backlog"]["audio_seconds"] == 42.0

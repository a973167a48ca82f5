"""A known set of messages, transcripts and answers, built in the test's own database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Answer, Message, Recording, Transcript
from ivr.radio.period import Period
from ivr.radio.station import Station
from recordings.store import LocalStore
from tests.accounts_helpers import add_user, login
from tests.conftest import finish_jobs, make_config

WEEK = Period(datetime(2026, 11, 16), datetime(2026, 11, 23))  # Monday to Monday
NOW = datetime(2026, 11, 23, 9, 0)
_refs = itertools.count(10_000_001)


@dataclass
class Made:
    id: int
    reference: str


def add_message(session: Session, *, at: datetime, language: str = "en", topic: str | None = "water",
                place: str | None = "suva", consent: str = "agency", transcript: str | None = None,
                agency: str | None = None, answered_after: timedelta | None = None,
                status: str = "received", checked: bool = True) -> Made:
    """Add one message (and its transcript and first answer when given); return its id and reference.

    `checked`: a person listened and confirmed the transcript (only such words may be quoted on air).
    """
    message = Message(reference=str(next(_refs)), language=language, topic=topic, place=place, consent=consent,
                      status=status, created_at=at, agency=agency, pipeline="ready")
    session.add(message)
    session.flush()
    if transcript is not None:
        session.add(Transcript(message_id=message.id, language=language, text=transcript, engine="test", model="test",
                               confidence=0.9, audio_seconds=3.0, processing_seconds=0.1,
                               checked_text=transcript if checked else None, checked_at=at if checked else None))
    if answered_after is not None:
        session.add(Answer(message_id=message.id, text="We are on it.", created_at=at + answered_after))
    session.flush()
    return Made(message.id, message.reference)


@pytest.fixture
def radio_config(tmp_path: Path, database_url: str) -> Config:
    # espeak-ng only: Google's TTS endpoint cannot be reached from the test machines.
    return make_config(tmp_path, database_url, gtts_enabled=False)


@pytest.fixture
def radio_app(radio_config: Config) -> Iterator[Flask]:
    app = create_app(radio_config)
    yield app
    finish_jobs(app)


def host_client(app: Flask, config: Config, role: str = "radio", email: str | None = None) -> FlaskClient:
    """Return a test client logged in as a new user of the given role."""
    email = email or f"{role}@station.example"
    add_user(config, email, role, agency="water" if role == "official" else None)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def store_recording(config: Config, session: Session, message_id: int, data: bytes) -> str:
    """Keep audio as a message's stored recording (as the ingest job would); return its sid."""
    sid = f"RE{message_id:032x}"
    stored = LocalStore(config.recordings_dir).put(sid, data)
    session.add(Recording(recording_sid=sid, call_sid=f"CA{message_id:032x}", message_id=message_id,
                          url=f"https://api.twilio.com/{sid}", duration_seconds=3, stored_path=stored.key,
                          sha256=stored.sha256, size_bytes=stored.size))
    session.flush()
    return sid


@pytest.fixture
def station(radio_config: Config) -> Station:
    return Station.for_config(radio_config)


@pytest.fixture
def session(radio_config: Config) -> Iterator[Session]:
    with database_for(radio_config.database_url).session() as s:
        yield s

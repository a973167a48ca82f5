"""A known set of messages, transcripts and answers, built in the test's own database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ivr.config import Config
from ivr.db import database_for
from ivr.models import Answer, Message, Transcript
from ivr.radio.period import Period
from ivr.radio.station import Station
from tests.conftest import make_config

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
                status: str = "received") -> Made:
    """Add one message (and its transcript and first answer when given); return its id and reference."""
    message = Message(reference=str(next(_refs)), language=language, topic=topic, place=place, consent=consent,
                      status=status, created_at=at, agency=agency, pipeline="ready")
    session.add(message)
    session.flush()
    if transcript is not None:
        session.add(Transcript(message_id=message.id, language=language, text=transcript, engine="test", model="test",
                               confidence=0.9, audio_seconds=3.0, processing_seconds=0.1))
    if answered_after is not None:
        session.add(Answer(message_id=message.id, text="We are on it.", created_at=at + answered_after))
    session.flush()
    return Made(message.id, message.reference)


@pytest.fixture
def radio_config(tmp_path: Path, database_url: str) -> Config:
    return make_config(tmp_path, database_url)


@pytest.fixture
def station(radio_config: Config) -> Station:
    return Station.for_config(radio_config)


@pytest.fixture
def session(radio_config: Config) -> Iterator[Session]:
    with database_for(radio_config.database_url).session() as s:
        yield s

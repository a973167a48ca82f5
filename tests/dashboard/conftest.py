"""Fixtures for the dashboard tests: an app over a real database, accounts, messages with real audio."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Recording, Transcript
from ivr.core.models.base import utcnow
from recordings.store import LocalStore
from tests.accounts_helpers import add_user, login
from tests.conftest import AUDIO_DIR, finish_jobs, make_config

SPEECH = AUDIO_DIR / "osr_us_0010_01.wav"


@dataclass
class Dash:
    """An app with one official at water, one at roads, and an admin."""

    app: Flask
    config: Config
    water: int
    roads: int
    admin: int

    def client(self, email: str | None = "water@example.org") -> FlaskClient:
        client = self.app.test_client()
        if email:
            resp = login(client, email)
            assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    def message(self, *, agency: str = "water", status: str = "received", topic: str = "water", place: str = "ba",
                language: str = "en", created_at: datetime | None = None, audio: Path | None = SPEECH,
                words: list[dict[str, object]] | None = None, text: str | None = None) -> int:
        """Add a routed message, with a stored recording and a transcript when asked; return its id."""
        with database_for(self.config.database_url).session() as db:
            m = Message(reference=uuid.uuid4().hex[:8], language=language, topic=topic, place=place,
                        consent="none", status=status, agency=agency, routing_reason=f"topic={topic} → {agency}",
                        created_at=created_at or utcnow())
            db.add(m)
            db.flush()
            if audio is not None:
                sid = "RE" + uuid.uuid4().hex
                stored = LocalStore(self.config.recordings_dir).put(sid, audio.read_bytes())
                db.add(Recording(recording_sid=sid, call_sid="CA" + uuid.uuid4().hex, message_id=m.id,
                                 url=f"https://api.twilio.com/Recordings/{sid}", stored_path=stored.key,
                                 size_bytes=stored.size, sha256=stored.sha256))
            if words is not None or text is not None:
                words = words or [{"word": w, "confidence": 0.9, "start": 0, "end": 0} for w in (text or "").split()]
                spoken = text or " ".join(str(w["word"]) for w in words)
                db.add(Transcript(message_id=m.id, language=language, text=spoken, words=json.dumps(words),
                                  engine="vosk", model="test", confidence=0.8,
                                  audio_seconds=3.0, processing_seconds=0.5))
            return m.id


@pytest.fixture
def make_dash(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Dash]]:
    apps: list[Flask] = []

    def build(**overrides: object) -> Dash:
        config = make_config(tmp_path, database_url, **overrides)
        app = create_app(config)
        apps.append(app)
        return Dash(app, config, add_user(config, "water@example.org", "official", "water"),
                    add_user(config, "roads@example.org", "official", "roads"),
                    add_user(config, "admin@example.org", "admin"))

    yield build
    for app in apps:
        finish_jobs(app)


@pytest.fixture
def dash(make_dash: Callable[..., Dash]) -> Dash:
    return make_dash()

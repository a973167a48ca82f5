"""Shared fixtures: a real database (SQLite, and PostgreSQL where asked), the app, the phone emulator."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for, forget_databases
from ivr.core.models import Base
from ivr.core.queue import InlineQueue
from ivr.voice.emulator import FlaskTransport, Phone
from ivr.voice.media_host import MediaHost

ROOT = Path(__file__).resolve().parents[1]
AUDIO_DIR = ROOT.parent / "shared" / "audio" / "dev"
BASE_URL = "https://hotline.example.org"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL on 127.0.0.1:5432, migrated to head, dropped afterwards."""
    schema = f"hotline_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not answering ({exc}); start it (see README)")
    url = postgres_schema_url(schema)
    database_for(url).upgrade()
    yield url
    forget_databases()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def empty_tables(url: str) -> None:
    db = database_for(url)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # the audit log's append-only trigger (migration 0013) stays out
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a migrated SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        sqlite = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
        database_for(sqlite).upgrade()
        return sqlite
    postgres: str = request.getfixturevalue("postgres_url")
    empty_tables(postgres)
    return postgres


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    database_for(url).upgrade()
    return url


def make_config(tmp_path: Path, database_url: str, **overrides: object) -> Config:
    values: dict[str, object] = dict(
        secret_key="test-secret", pepper="test-pepper", twilio_auth_token=AUTH_TOKEN, public_base_url=BASE_URL,
        data_dir=tmp_path / "data", database_url=database_url, testing=True, twilio_account_sid=ACCOUNT_SID,
        retry_base_seconds=0.05, job_retries=3,
        # No background prompt rendering: a prompt turning from <Say> to <Play> mid-test would make calls
        # depend on timing (tests/prompts turns it on where it is the subject).
        prompts_queue_missing=False,
        # The local media host (ivr/voice/media_host.py) serves recordings on 127.0.0.1, any port.
        twilio_media_hosts="api.twilio.com,127.0.0.1",
    )
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return make_config(tmp_path, database_url)


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    app = create_app(config)
    yield app
    finish_jobs(app)


@pytest.fixture
def media() -> Iterator[MediaHost]:
    with MediaHost(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as host:
        yield host


def finish_jobs(app: Flask) -> None:
    """Wait for this test's background jobs, so none outlives its media host or database."""
    queue = app.extensions["hotline"].queue
    if isinstance(queue, InlineQueue):
        assert queue.join(timeout=180), "inline jobs still running 180 s after the test"


@pytest.fixture
def phone(app: Flask, media: MediaHost) -> Iterator[Phone]:
    yield Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    finish_jobs(app)


@pytest.fixture
def speech_wav() -> bytes:
    return (AUDIO_DIR / "osr_us_0010_01.wav").read_bytes()

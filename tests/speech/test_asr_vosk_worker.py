"""The transcribe job with a real Vosk model: a wrong-language model's transcript is flagged for listening.

The job runs in this process as an RQ worker runs it (Redis configured, so the engine is not isolated
and the routing job it queues waits in Redis, unrun).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Recording, Transcript
from ivr.core.runtime import set_config
from recordings.store import LocalStore
from tests.conftest import make_config
from worker.jobs import transcribe_message

pytestmark = [pytest.mark.redis]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url() -> Iterator[str]:
    conn = redis.Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()
    conn.close()


def stored_message(config: Config, audio: Path, language: str) -> int:
    """Add a message whose recording is stored, as the ingest job leaves it."""
    database_for(config.database_url).upgrade()
    sid = "RE" + secrets.token_hex(16)
    stored = LocalStore(config.recordings_dir).put(sid, audio.read_bytes())
    with database_for(config.database_url).session() as s:
        message = Message(reference=str(secrets.randbelow(9 * 10**7) + 10**7), language=language,
                          consent="anonymous", status="received", pipeline=pipeline.STORED)
        s.add(message)
        s.flush()
        s.add(Recording(recording_sid=sid, call_sid="CA" + secrets.token_hex(16), message_id=message.id,
                        url=f"http://127.0.0.1:9/{sid}", stored_path=stored.key, sha256=stored.sha256,
                        size_bytes=stored.size))
        return message.id


def run_job(config: Config, message_id: int) -> Transcript:
    set_config(config)
    try:
        assert transcribe_message(message_id) == "transcribed"
    finally:
        set_config(None)
    with database_for(config.database_url).session() as s:
        transcript = s.scalars(select(Transcript).where(Transcript.message_id == message_id)).one()
        s.expunge(transcript)
        return transcript


def test_a_wrong_language_models_transcript_needs_an_ear_whatever_its_confidence(
        tmp_path: Path, sqlite_url: str, redis_url: str, korean_as_fijian: Path, dev_audio: Path) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=redis_url, vosk_models_dir=korean_as_fijian,
                         check_by_ear_below=0.0)  # confidence alone would pass every transcript
    transcript = run_job(config, stored_message(config, dev_audio / "cathy_a0103.wav", "fj"))
    assert (transcript.engine, transcript.language) == ("vosk", "fj")
    assert transcript.text and json.loads(transcript.words)
    assert transcript.check_by_ear


def test_a_right_language_models_transcript_is_judged_by_confidence(
        tmp_path: Path, sqlite_url: str, redis_url: str, korean_models: Path, speak: object) -> None:
    audio = tmp_path / "ko.wav"
    audio.write_bytes(speak("우리 집에 물이 없어요"))  # type: ignore[operator]
    config = make_config(tmp_path, sqlite_url, redis_url=redis_url, vosk_models_dir=korean_models,
                         check_by_ear_below=0.0)
    transcript = run_job(config, stored_message(config, audio, "ko"))
    assert (transcript.engine, transcript.language) == ("vosk", "ko") and transcript.text
    assert not transcript.check_by_ear

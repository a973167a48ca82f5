"""Without Redis, the web process sweeps: a message whose job was lost with a restart is finished."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr import create_app
from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.errors import ConfigError
from ivr.core.models import Message, Recording, utcnow
from ivr.core.sweeper import start_sweeper
from ivr.voice.media_host import MediaHost
from tests.conftest import finish_jobs, make_config


def add_orphan(config: Config, url: str) -> int:
    """A message the previous web process received but never ingested (its inline job died with it)."""
    with database_for(config.database_url).session() as s:
        old = utcnow() - timedelta(seconds=config.stuck_after_seconds + 60)
        message = Message(reference="40400404", language="en", consent="agency", topic="water", place="ba",
                          pipeline=pipeline.RECEIVED, pipeline_at=old, created_at=old)
        s.add(message)
        s.flush()
        s.add(Recording(recording_sid="RE" + "0" * 32, call_sid="CA" + "0" * 32, message_id=message.id, url=url,
                        duration_seconds=3, twilio_status="completed"))
        return message.id


def test_stuck_message_is_brought_through_by_the_web_process(tmp_path: Path, database_url: str, media: MediaHost,
                                                             speech_wav: bytes) -> None:
    config = make_config(tmp_path, database_url)
    app = create_app(config)  # testing: create_app starts no sweeper, so this test controls it
    _, url = media.add(speech_wav, sid="RE" + "0" * 32)
    message_id = add_orphan(config, url)
    stop = start_sweeper(config, every=0.2)
    try:
        deadline = time.monotonic() + 60
        while True:
            with database_for(config.database_url).session() as s:
                state = s.scalar(select(Message.pipeline).where(Message.id == message_id))
            if state == pipeline.ROUTED or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        finish_jobs(app)
    assert state == pipeline.ROUTED
    with database_for(config.database_url).session() as s:
        message = s.get(Message, message_id)
        assert message is not None and message.transcript is not None and message.transcript.text
        assert message.recording is not None and message.recording.sha256


def test_the_sweeper_setting_is_checked(tmp_path: Path, sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_INLINE_SWEEP_SECONDS"):
        make_config(tmp_path, sqlite_url, inline_sweep_seconds=0.5)

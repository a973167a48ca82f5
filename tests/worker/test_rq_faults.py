"""Faults proved with real Redis and real `hotline worker` processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from rq.job import Job
from sqlalchemy import func, select

from ivr import create_app
from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Recording, Transcript
from ivr.core.runtime import set_config
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUDIO_DIR, AUTH_TOKEN, BASE_URL, make_config
from tests.worker.conftest import RedisServer, Workers
from worker.jobs import recover

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def states(config: Config) -> list[str]:
    with database_for(config.database_url).session() as s:
        return list(s.scalars(select(Message.pipeline).order_by(Message.id)))


def transcripts(config: Config) -> int:
    with database_for(config.database_url).session() as s:
        return int(s.scalar(select(func.count()).select_from(Transcript)) or 0)


def report(phone: Phone, wav: bytes) -> None:
    phone.call(Script(["1", "1", "1", "1", "1", "REC", "1"], [wav]))


def test_call_transcribed_by_a_real_worker(tmp_path: Path, sqlite_url: str, redis_url: str, media: MediaHost,
                                           workers: Callable[[Config], Workers], speech_wav: bytes) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=redis_url)
    app = create_app(config)
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, recording_callback="twice")
    report(phone, speech_wav)
    conn = redis.Redis.from_url(redis_url)
    with database_for(sqlite_url).session() as s:
        sid = s.scalars(select(Recording.recording_sid)).one()
    # the status callback came twice and the <Record> action once: one ingest job, one recording
    assert Job.exists(f"ingest-{sid}", connection=conn)
    assert len(conn.lrange("rq:queue:default", 0, -1)) == 1
    w = workers(config)
    proc = w.start("--burst")
    assert proc.wait(timeout=120) == 0, w.logs()
    assert states(config) == [pipeline.ROUTED]  # transcribed, then routed by the same worker
    assert transcripts(config) == 1
    job = Job.fetch(f"transcribe-{sid}", connection=conn)
    # the model was loaded once, when the worker started, not by the job
    assert job.meta["engine_loads"] == 1


def test_worker_killed_mid_transcription_ends_transcribed_once(
        tmp_path: Path, sqlite_url: str, redis_url: str, media: MediaHost,
        workers: Callable[[Config], Workers]) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=redis_url)
    app = create_app(config)
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    long_wav = (AUDIO_DIR / "long" / "osr_us_0010_full.wav").read_bytes()
    report(phone, long_wav)
    conn = redis.Redis.from_url(redis_url)
    w = workers(config)
    first = w.start("--sweep-every", "0")
    with database_for(sqlite_url).session() as s:
        sid = s.scalars(select(Recording.recording_sid)).one()

    def transcribing() -> bool:
        return Job.exists(f"transcribe-{sid}", connection=conn) and \
            Job.fetch(f"transcribe-{sid}", connection=conn).get_status() == "started"

    wait_for(transcribing, 120, "the transcription to start")
    time.sleep(0.5)
    first.kill()  # SIGKILL: no cleanup, the job stays 'started' in Redis
    first.wait(timeout=10)
    assert transcripts(config) == 0 and states(config) == [pipeline.STORED]
    set_config(config)
    try:
        assert recover(older_than_seconds=0) == [f"transcribe-{sid}"]
        assert recover(older_than_seconds=0) == []  # queued already: nothing twice
    finally:
        set_config(None)
    second = w.start("--burst")
    assert second.wait(timeout=180) == 0, w.logs()
    assert states(config) == [pipeline.ROUTED]
    assert transcripts(config) == 1


def test_redis_down_calls_still_answered_then_swept(tmp_path: Path, sqlite_url: str, own_redis: RedisServer,
                                                    media: MediaHost, workers: Callable[[Config], Workers],
                                                    speech_wav: bytes) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=own_redis.url)
    app = create_app(config)
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    own_redis.stop()
    slowest = 0.0
    for n in range(3):
        phone.from_number = f"+67970000{n:02d}"  # three different new callers
        started = time.perf_counter()
        report(phone, speech_wav)
        slowest = max(slowest, time.perf_counter() - started)
    assert states(config) == [pipeline.RECEIVED] * 3
    assert slowest < 10  # each whole call, enqueue failures included, still answers promptly
    own_redis.start()
    set_config(config)
    try:
        assert len(recover(older_than_seconds=0)) == 3
    finally:
        set_config(None)
    w = workers(config)
    assert w.start("--burst").wait(timeout=180) == 0, w.logs()
    assert states(config) == [pipeline.ROUTED] * 3, w.logs()
    assert transcripts(config) == 3

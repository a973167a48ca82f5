"""`hotline worker` outlives Redis: waits for it at start, reconnects after a kill; its scheduler dies with it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from rq.job import Job
from sqlalchemy import select

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.delayed_jobs import enqueue_at
from ivr.core.models import Message, utcnow
from ivr.core.queue import RQQueue, make_queue
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL, make_config
from tests.worker.conftest import RedisServer, Workers

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def wait_for(check: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")


def states(config: Config) -> list[str]:
    with database_for(config.database_url).session() as s:
        return list(s.scalars(select(Message.pipeline).order_by(Message.id)))


def kill_redis(server: RedisServer) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    server.proc = None


def group_members(pgid: int) -> list[int]:
    """Return the pids still alive in a process group (zombies aside)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def test_worker_waits_for_redis_survives_its_kills_and_takes_its_scheduler_along(
        tmp_path: Path, sqlite_url: str, own_redis: RedisServer, media: MediaHost,
        workers: Callable[[Config], Workers], speech_wav: bytes) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=own_redis.url)
    app = create_app(config)
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    kill_redis(own_redis)
    w = workers(config)
    proc = w.start("--sweep-every", "2")
    wait_for(lambda: "waiting for Redis" in w.logs(), 60, "the start-up log line", w.logs)
    time.sleep(1)
    assert proc.poll() is None  # today: exits at once when Redis is not up yet
    own_redis.start()
    phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]))
    wait_for(lambda: states(config) == ["routed"], 120, "the first message routed", w.logs)

    for round_ in range(2):  # Redis killed by PID while the worker waits for work, then back
        kill_redis(own_redis)
        time.sleep(2)
        assert proc.poll() is None, w.logs()  # today: the worker exits
        own_redis.start()
        phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]))
        wait_for(lambda n=round_: states(config) == ["routed"] * (n + 2), 120, "the next message routed", w.logs)

    # After the outages a delayed job (an outbound call's retry) still starts on time: the scheduler lives on.
    queue = make_queue(config)
    assert isinstance(queue, RQQueue)
    assert enqueue_at(queue, utcnow() + timedelta(seconds=2), "worker.jobs.transcribe_message", 999,
                      job_id="delayed-after-outage")
    wait_for(lambda: Job.fetch("delayed-after-outage", connection=queue.redis).get_status() == "finished", 60,
             "the delayed job", w.logs)  # today: RQ's scheduler child died with the first outage
    os.kill(proc.pid, signal.SIGKILL)  # the worker alone, not its group
    proc.wait(timeout=10)
    wait_for(lambda: group_members(proc.pid) == [], 10, "nothing of the worker left running", w.logs)

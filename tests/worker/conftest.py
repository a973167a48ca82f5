"""Fixtures for real Redis, real RQ worker processes and a Redis server the tests may stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import BinaryIO

import pytest
import redis

from ivr.core.config import SETTINGS, Config

REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A dedicated Redis database, flushed before and after each test."""
    conn = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_TEST_URL} is not answering ({exc}); start it (see README)")
    conn.flushdb()
    yield REDIS_TEST_URL
    conn.flushdb()
    conn.close()


def config_env(config: Config) -> dict[str, str]:
    """The environment that makes `hotline` commands in another process see this config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_", "DATABASE_", "REDIS_"))}
    names = {f.name for f in fields(Config)}
    for s in SETTINGS:
        if s.attr not in names:
            continue
        value = getattr(config, s.attr)
        if value is None:
            continue
        env[s.env] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    env["HOTLINE_ENV_FILE"] = "/nonexistent"
    return env


class Workers:
    """Start and kill real `hotline worker` processes."""

    def __init__(self, config: Config, log_dir: Path) -> None:
        self.config = config
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.files: list[BinaryIO] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        exe = shutil.which("hotline", path=str(Path(sys.executable).parent)) or "hotline"
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        self.files.append(log)
        proc = subprocess.Popen([exe, "worker", "--languages", "en", *args], env=config_env(self.config),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        # Kill the whole process group: RQ's scheduler runs in a child process that would outlive its
        # worker, keep the scheduler lock and take the next test's jobs.
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        for f in self.files:
            f.close()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Config], Workers]]:
    made: list[Workers] = []

    def make(config: Config) -> Workers:
        w = Workers(config, tmp_path)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop_all()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own, on a free port, that the test can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()

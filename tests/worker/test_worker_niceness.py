"""A `hotline worker` beside the web server leaves the cores to live calls: it runs at a lower priority."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ivr.commands.jobs import WORKER_NICENESS
from ivr.core.config import Config

from ..conftest import make_config
from .conftest import Workers


def niceness_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of proc(5); the two before ")" are gone


def settles_at(pid: int, expected: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    seen = niceness_of(pid)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = niceness_of(pid)
    return seen


def test_a_worker_runs_nicer_than_the_web_server_unless_told_otherwise(
        tmp_path: Path, sqlite_url: str, redis_url: str, workers: Callable[[Config], Workers]) -> None:
    ours = os.nice(0)
    w = workers(make_config(tmp_path, sqlite_url, redis_url=redis_url))
    shared = w.start()
    own_machine = w.start("--niceness", "0")
    assert settles_at(shared.pid, min(19, ours + WORKER_NICENESS)) == min(19, ours + WORKER_NICENESS), w.logs()
    assert WORKER_NICENESS > 0
    time.sleep(1.0)  # long enough for a wrong os.nice to have happened in the other
    assert niceness_of(own_machine.pid) == ours, w.logs()
    assert shared.poll() is None and own_machine.poll() is None, w.logs()

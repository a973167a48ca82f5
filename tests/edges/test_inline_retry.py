"""On the inline queue a failing job waits for its retry on a timer: the jobs behind it run at once."""

from __future__ import annotations

import time
from pathlib import Path

from ivr.core.db import database_for
from ivr.core.models import Message
from ivr.core.queue import InlineQueue
from tests.conftest import make_config


def test_a_failing_job_does_not_hold_the_queue(tmp_path: Path, sqlite_url: str) -> None:
    config = make_config(tmp_path, sqlite_url)
    with database_for(sqlite_url).session() as s:
        stuck = Message(reference="12345678", language="en", consent="anonymous")  # no recording: never ready
        s.add(stuck)
        s.flush()
        stuck_id = stuck.id
    queue = InlineQueue(config, delays=[3.0, 3.0], defer=0)
    started = time.monotonic()
    assert queue.enqueue("worker.jobs.transcribe_message", stuck_id, job_id="transcribe-stuck")
    assert queue.enqueue("worker.jobs.transcribe_message", 999, job_id="transcribe-other")  # "no such message"
    while queue.done < 1 and time.monotonic() - started < 10:
        time.sleep(0.02)
    assert queue.done == 1
    assert time.monotonic() - started < 2.5  # today: 3 s, then 3 s more, behind the failing job's backoff
    assert not queue.enqueue("worker.jobs.transcribe_message", stuck_id, job_id="transcribe-stuck")  # still pending
    assert queue.join(timeout=20)
    assert [f.job_id for f in queue.failed] == ["transcribe-stuck"]
    assert time.monotonic() - started >= 6.0  # its retries kept their backoff

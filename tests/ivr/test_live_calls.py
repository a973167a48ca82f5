"""Background jobs of the inline queue wait for a gap between live calls' webhooks, but not for ever."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ivr.core.live_calls import LiveCalls, live_calls
from ivr.core.queue import InlineQueue

from ..conftest import make_config

STARTED: list[float] = []


def note_start() -> None:
    """A job that records when it ran."""
    STARTED.append(time.monotonic())


def test_no_call_in_flight_means_no_wait() -> None:
    calls = LiveCalls()
    assert calls.wait_for_gap(until=time.monotonic() + 5) < 0.5


def test_a_job_waits_while_a_webhook_runs_and_starts_once_the_line_is_quiet() -> None:
    calls = LiveCalls()
    calls.begin()
    done: list[float] = []
    waiter = threading.Thread(target=lambda: done.append(calls.wait_for_gap(until=time.monotonic() + 30, gap=0.05)))
    waiter.start()
    time.sleep(0.3)
    assert not done and calls.in_flight == 1  # still waiting: a caller is mid-step
    calls.end()
    waiter.join(10)
    assert done and 0.3 <= done[0] < 10


def test_a_job_stops_waiting_at_its_deadline_under_steady_traffic() -> None:
    calls = LiveCalls()
    calls.begin()  # a webhook that never ends: the line is never quiet
    waited = calls.wait_for_gap(until=time.monotonic() + 0.3)
    assert 0.25 <= waited < 5
    calls.end()


def test_the_inline_queue_runs_a_job_only_after_the_webhook_in_flight(tmp_path: Path, sqlite_url: str) -> None:
    queue = InlineQueue(make_config(tmp_path, sqlite_url), defer=30)
    STARTED.clear()
    live_calls.begin()
    try:
        queue.enqueue(f"{__name__}.note_start", job_id="gap-1")
        time.sleep(0.4)
        assert STARTED == []  # queued, waiting for the caller's step to finish
        ended = time.monotonic()
    finally:
        live_calls.end()
    assert queue.join(10)
    assert len(STARTED) == 1 and STARTED[0] >= ended


def test_the_inline_queue_runs_a_job_at_its_deadline_if_no_gap_comes(tmp_path: Path, sqlite_url: str) -> None:
    queue = InlineQueue(make_config(tmp_path, sqlite_url), defer=0.3)
    STARTED.clear()
    live_calls.begin()
    try:
        queued = time.monotonic()
        queue.enqueue(f"{__name__}.note_start", job_id="gap-2")
        assert queue.join(10)  # ran although the webhook is still in flight
    finally:
        live_calls.end()
    assert len(STARTED) == 1 and STARTED[0] - queued >= 0.25


def test_every_voice_webhook_is_counted_out_again_even_when_refused(app) -> None:  # type: ignore[no-untyped-def]
    from .test_webhook_security import signed_post

    client = app.test_client()
    assert client.post("/voice/step?node=main", data={"CallSid": "CA" + "1" * 32}).status_code == 403
    assert client.get("/voice/step?node=main").status_code == 405
    form = {"CallSid": "CA" + "2" * 32, "From": "+6799990001"}
    assert signed_post(client, "/voice/incoming", form).status_code == 200
    assert live_calls.in_flight == 0


def test_a_background_job_waits_again_at_each_outermost_database_session(sqlite_url: str) -> None:
    from ivr.core.db import database_for

    db, calls = database_for(sqlite_url), live_calls
    db.upgrade()
    opened: list[tuple[str, float]] = []

    def job() -> None:
        with calls.background(until=time.monotonic() + 30):
            with db.session():
                opened.append(("outer", time.monotonic()))
                with db.session():  # inside another: never waits, the outer one may hold locks
                    opened.append(("inner", time.monotonic()))

    calls.begin()  # a caller's step is in flight
    worker = threading.Thread(target=job)
    try:
        worker.start()
        time.sleep(0.3)
        assert opened == []  # the job's session waits for the caller
        ended = time.monotonic()
    finally:
        calls.end()
    worker.join(10)
    assert [name for name, _ in opened] == ["outer", "inner"] and opened[0][1] >= ended
    with db.session():  # not a background thread (a webhook, a command): no wait at all
        pass
    calls.begin()
    try:
        start = time.monotonic()
        with db.session():
            pass
        assert time.monotonic() - start < 0.2
    finally:
        calls.end()

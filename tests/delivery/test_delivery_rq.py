"""On PostgreSQL with Redis and a real `hotline worker`: an answer spoken, called, retried by RQ's scheduler, heard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Answer
from ivr.core.queue import RQQueue
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from ivr.voice.outbound_calls import DELIVER_ANSWER_JOB
from tests.conftest import AUTH_TOKEN, BASE_URL, empty_tables
from tests.delivery.conftest import (
    CALLER_NUMBER,
    add_report,
    answer_url_of,
    attempts_of,
    call_status,
    delivery_config,
    delivery_of,
    wait_for,
)
from tests.delivery.fake_twilio import FakeTwilio
from tests.worker.conftest import Workers

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def test_real_worker_delivers_an_answer_and_retries_after_busy(
        tmp_path: Path, postgres_url: str, redis_url: str, workers: Callable[[Config], Workers],
        twilio: FakeTwilio, media: MediaHost) -> None:
    empty_tables(postgres_url)
    # Tries 1.2 s apart: RQ's scheduler (in the worker) moves the retry to the queue when it is due.
    config = delivery_config(tmp_path, postgres_url, twilio, redis_url=redis_url, call_retry_minutes=0.02)
    answer_id = add_report(config, consent="agency", text="Your road will be graded next week.")
    app = create_app(config)
    queue = services(app).queue
    assert isinstance(queue, RQQueue)
    assert queue.enqueue(DELIVER_ANSWER_JOB, answer_id, job_id=f"deliver-answer-{answer_id}")
    assert not queue.enqueue(DELIVER_ANSWER_JOB, answer_id, job_id=f"deliver-answer-{answer_id}")  # once
    w = workers(config)
    w.start("--sweep-every", "0")

    def created(n: int) -> bool:
        assert w.procs[0].poll() is None, w.logs()
        return len(twilio.created()) >= n

    wait_for(lambda: created(1), timeout=120, what="the first call")
    first = twilio.created()[0]
    assert first.one("To") == CALLER_NUMBER
    with database_for(postgres_url).session() as s:
        answer = s.get(Answer, answer_id)
        assert answer is not None and answer.audio_path is not None  # spoken by espeak-ng in the worker
    assert (config.data_dir / "answers" / answer.audio_path).is_file()

    client = app.test_client()
    assert call_status(client, first, "busy").status_code == 200  # the web app schedules the retry in Redis
    wait_for(lambda: created(2), timeout=60, what="the retry after busy")
    second = twilio.created()[1]
    phone = Phone(FlaskTransport(client), AUTH_TOKEN, BASE_URL, media, from_number=CALLER_NUMBER)
    call = phone.answer(second.one("Url"), Script([None]), second.sid or "")
    assert answer_url_of(config, answer_id) in [h.text for h in call.heard if h.kind == "play"]
    call_status(client, second, "completed", CallDuration="25")
    delivery = delivery_of(config, answer_id)
    assert (delivery.status, delivery.attempts) == ("completed", 2)
    assert attempts_of(config, delivery.id) == [(1, "busy", False), (2, "completed", True)]
    assert len(twilio.created()) == 2

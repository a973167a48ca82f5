"""On PostgreSQL with Redis and a real `hotline worker`: routed, notified, and a failing webhook retried by RQ."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Notification
from ivr.core.runtime import set_config
from tests.conftest import empty_tables, make_config
from tests.routing.conftest import AgencySystem, SmtpServer, write_agencies, write_rules
from tests.routing.test_route_job import add_message
from tests.worker.conftest import Workers
from worker.jobs import recover

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.usefixtures("secrets_env")
def test_real_worker_routes_and_retries_a_failing_webhook(
        tmp_path: Path, postgres_url: str, redis_url: str, workers: Callable[[Config], Workers],
        agency_system: AgencySystem, smtp_server: SmtpServer) -> None:
    empty_tables(postgres_url)
    config = make_config(tmp_path, postgres_url, redis_url=redis_url,
                         agencies_file=write_agencies(tmp_path / "agencies.toml", agency_system),
                         routing_rules_file=write_rules(tmp_path / "routing.toml"), smtp_host="127.0.0.1",
                         smtp_port=smtp_server.port, notify_timeout_seconds=5.0)
    message_id = add_message(config, topic="other", place="ba", transcript="the pipe burst by the school")
    agency_system.fail_next = 1  # the first request (the webhook, sent first) answers 503
    set_config(config)
    try:
        assert recover(older_than_seconds=0) == [f"route-{message_id}"]  # the sweeper queues its routing
    finally:
        set_config(None)
    w = workers(config)
    w.start("--sweep-every", "0")
    db = database_for(postgres_url)

    def states() -> dict[str, tuple[str, int]]:
        with db.session() as s:
            return {n.channel: (n.status, n.attempts) for n in s.scalars(select(Notification))}

    deadline = time.monotonic() + 90
    while states() != {"webhook": ("sent", 2), "open311": ("sent", 1), "email": ("sent", 1)}:
        assert time.monotonic() < deadline, (states(), w.logs())
        time.sleep(0.2)
    with db.session() as s:
        message = s.get(Message, message_id)
        assert message is not None and message.pipeline == pipeline.ROUTED
        assert message.routing_reason == "topic=other, place=ba; keyword 'pipe' → topic water → water"
    assert [h.signature_ok for h in agency_system.hooks()] == [None, True]  # 503 first, then accepted
    assert len(smtp_server.mailbox.messages) == 1

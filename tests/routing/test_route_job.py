"""The routing and notification jobs: idempotent, retried, visible to an operator, recoverable."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Notification, Transcript
from ivr.core.queue import InlineQueue, make_queue
from ivr.core.runtime import set_config
from tests.conftest import make_config
from tests.routing.conftest import KEY_ENV, SECRET_ENV, AgencySystem, SmtpServer, write_agencies, write_rules
from worker.jobs import recover
from worker.notify import NotificationFailed, notification_queue, send_notification
from worker.routing import RoutingFailed, route_message


def add_message(config: Config, *, topic: str | None, place: str | None, language: str = "en",
                transcript: str | None = None, state: str = pipeline.READY) -> int:
    with database_for(config.database_url).session() as s:
        message = Message(reference=str(secrets.randbelow(9 * 10**7) + 10**7), language=language, topic=topic,
                          place=place, consent="agency", pipeline=state)
        s.add(message)
        s.flush()
        if transcript is not None:
            s.add(Transcript(message_id=message.id, language=language, text=transcript, words="[]", engine="test",
                             model="test", confidence=0.9, audio_seconds=1.0, processing_seconds=0.1))
        return message.id


def run_jobs(config: Config, message_id: int) -> None:
    """Route a message on the inline queue and wait for its notifications."""
    set_config(config)
    try:
        make_queue(config).enqueue(pipeline.ROUTE_JOB, message_id, job_id=pipeline.route_job_id(message_id))
        main_queue, notifying = make_queue(config), notification_queue(config)
        assert isinstance(main_queue, InlineQueue) and main_queue.join(timeout=30)
        assert isinstance(notifying, InlineQueue) and notifying.join(timeout=30)
    finally:
        set_config(None)


def notifications(config: Config) -> dict[str, Notification]:
    with database_for(config.database_url).session() as s:
        return {n.channel: n for n in s.scalars(select(Notification))}


@pytest.fixture
def config(tmp_path: Path, sqlite_url: str, agency_system: AgencySystem, smtp_server: SmtpServer,
           secrets_env: None) -> Iterator[Config]:
    config = make_config(tmp_path, sqlite_url, agencies_file=write_agencies(tmp_path / "agencies.toml", agency_system),
                         routing_rules_file=write_rules(tmp_path / "routing.toml"), smtp_host="127.0.0.1",
                         smtp_port=smtp_server.port, notify_timeout_seconds=5.0)
    set_config(config)
    yield config
    set_config(None)


def test_repeated_jobs_send_once(config: Config, agency_system: AgencySystem, smtp_server: SmtpServer) -> None:
    message_id = add_message(config, topic="water", place="ba", transcript="the tap is dry")
    results = []
    threads = [threading.Thread(target=lambda: results.append(route_message(message_id))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already routed"] * 3 + ["routed to water"]
    assert route_message(message_id) == "already routed"
    notifying = notification_queue(config)
    assert isinstance(notifying, InlineQueue) and notifying.join(timeout=30)
    rows = notifications(config)
    assert sorted(rows) == ["email", "open311", "webhook"]
    for row in rows.values():
        assert send_notification(row.id) == "already sent"
    run_jobs(config, message_id)  # and once more through the queue: nothing new is sent
    assert len(agency_system.hooks()) == 1 and len(agency_system.requests()) == 1
    assert len(smtp_server.mailbox.messages) == 1
    assert all(n.status == "sent" and n.attempts == 1 for n in notifications(config).values())


def test_message_without_transcript_is_routed_by_keypad(config: Config, agency_system: AgencySystem) -> None:
    message_id = add_message(config, topic="water", place="suva", language="fj", state=pipeline.NEEDS_LISTENING)
    run_jobs(config, message_id)
    with database_for(config.database_url).session() as s:
        message = s.get(Message, message_id)
        assert message is not None and message.pipeline == pipeline.ROUTED
        assert (message.agency, message.routing_reason) == ("water", "topic=water, place=suva → water")
    body = agency_system.hooks()[0].json()
    assert body["transcript"] is None and body["language"] == "fj"


def test_message_not_yet_transcribed_waits(config: Config) -> None:
    message_id = add_message(config, topic="water", place="suva", state=pipeline.STORED)
    assert route_message(message_id) == "not transcribed yet (stored)"
    assert route_message(999999) == "no such message"
    assert notifications(config) == {}


def test_target_down_twice_then_up_is_sent_on_the_third_attempt(config: Config,
                                                                agency_system: AgencySystem) -> None:
    # The webhook answers 503 twice, then works (the other channels' jobs run meanwhile: retries wait on timers).
    agency_system.fail_next, agency_system.fail_path = 2, "/hook"
    message_id = add_message(config, topic="water", place="ba", transcript="pipe")
    run_jobs(config, message_id)
    hook = notifications(config)["webhook"]
    assert (hook.status, hook.attempts, hook.last_error) == ("sent", 3, None)


def test_rejected_key_fails_at_once_and_shows_in_hotline_jobs(config: Config, agency_system: AgencySystem,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "wrong-key")
    monkeypatch.delenv(SECRET_ENV)
    message_id = add_message(config, topic="water", place="ba", transcript="pipe")
    run_jobs(config, message_id)
    rows = notifications(config)
    assert (rows["open311"].status, rows["open311"].attempts) == ("failed", 1)  # a 403 is not retried
    assert rows["open311"].last_error == "Open311 answered HTTP 403: Invalid api_key received"
    assert (rows["webhook"].status, rows["webhook"].attempts) == ("failed", 1)
    assert rows["webhook"].last_error == f"environment variable {SECRET_ENV} is not set"
    assert rows["email"].status == "sent"

    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://x",
           "DATABASE_URL": config.database_url, "REDIS_URL": "", "HOTLINE_ENV_FILE": "/nonexistent",
           "HOTLINE_AGENCIES": str(config.agencies_path), "HOTLINE_ROUTING_RULES": str(config.routing_rules_path),
           "HOTLINE_SMTP_HOST": "127.0.0.1", "HOTLINE_SMTP_PORT": str(config.smtp_port)}
    result = CliRunner().invoke(main, ["jobs", "--json"], env=env)
    assert result.exit_code == 0, result.output
    failed = [json.loads(line) for line in result.output.splitlines()]
    assert {(r["channel"], r["state"], r["attempts"]) for r in failed} == {
        ("open311", "notification failed", 1), ("webhook", "notification failed", 1)}
    text = CliRunner().invoke(main, ["jobs"], env=env).output
    assert f"notification {rows['webhook'].id} to water by webhook, message {message_id}" in text

    # The operator fixes the key and the secret, then retries what failed.
    monkeypatch.setenv(KEY_ENV, "open311-key-for-tests")
    monkeypatch.setenv(SECRET_ENV, agency_system.secret)
    result = CliRunner().invoke(main, ["jobs", "recover", "--failed", "--older-than", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert f"notify-{rows['open311'].id}" in result.output
    assert {n.status for n in notifications(config).values()} == {"sent"}
    assert len(agency_system.requests()) == 2 and agency_system.hooks()[-1].signature_ok


def test_failing_attempt_raises_for_the_queue_to_retry(config: Config, agency_system: AgencySystem) -> None:
    agency_system.fail_next = 1
    message_id = add_message(config, topic="water", place="ba", transcript="pipe", state=pipeline.ROUTED)
    with database_for(config.database_url).session() as s:
        hook = Notification(message_id=message_id, agency="water", channel="webhook",
                            target=f"{agency_system.base}/hook")
        s.add(hook)
    with pytest.raises(NotificationFailed, match="webhook answered HTTP 503"):
        send_notification(hook.id)
    row = notifications(config)["webhook"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "webhook answered HTTP 503")
    assert send_notification(hook.id) == "sent"
    assert send_notification(999999) == "no such notification"


def test_broken_agencies_file_fails_the_job_visibly_then_recovers(config: Config, tmp_path: Path) -> None:
    good = config.agencies_path.read_text()
    config.agencies_path.write_text(good.replace('topics = ["roads"]', 'topics = ["potholes"]'))
    message_id = add_message(config, topic="roads", place="ba", transcript="road")
    with pytest.raises(RoutingFailed):
        route_message(message_id)
    with database_for(config.database_url).session() as s:
        message = s.get(Message, message_id)
        assert message is not None and message.pipeline == pipeline.READY
        assert "agency roads: topics: 'potholes' is not one of" in (message.pipeline_error or "")
    config.agencies_path.write_text(good)
    assert recover(older_than_seconds=0) == [f"route-{message_id}"]  # the sweeper finds it waiting in ready
    queue = make_queue(config)
    assert isinstance(queue, InlineQueue) and queue.join(timeout=30)
    with database_for(config.database_url).session() as s:
        message = s.get(Message, message_id)
        assert message is not None and (message.pipeline, message.agency) == (pipeline.ROUTED, "roads")
        assert message.pipeline_error is None

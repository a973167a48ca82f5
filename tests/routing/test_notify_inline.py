"""A call through the emulator is transcribed, routed with its reason, and its agency told: by signed
webhook, Open311 and email, on the inline queue, on SQLite and PostgreSQL. A target that is down is
retried and left failed with its error, and the call and the other targets are unaffected."""

from __future__ import annotations

import json
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr import create_app
from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.models import Message, Notification
from ivr.core.queue import InlineQueue
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUDIO_DIR, AUTH_TOKEN, BASE_URL, finish_jobs, make_config
from tests.routing.conftest import AgencySystem, SmtpServer, write_agencies, write_rules
from worker.notify import notification_queue

pytestmark = pytest.mark.slow
WELL = AUDIO_DIR / "osr_us_0010_03.wav"  # "It's easy to tell the depth of a well."; the engine hears "... the well"


def routing_config(tmp_path: Path, database_url: str, system: AgencySystem, smtp: SmtpServer,
                   **overrides: object) -> Config:
    return make_config(tmp_path, database_url, agencies_file=write_agencies(tmp_path / "agencies.toml", system,
                                                                            down=True),
                       routing_rules_file=write_rules(tmp_path / "routing.toml"), smtp_host="127.0.0.1",
                       smtp_port=smtp.port, notify_timeout_seconds=5.0, **overrides)


def wait_for_everything(config: Config, main: object) -> None:
    assert isinstance(main, InlineQueue) and main.join(timeout=120)
    notifying = notification_queue(config)
    assert isinstance(notifying, InlineQueue) and notifying.join(timeout=60)


@pytest.mark.usefixtures("secrets_env")
def test_call_routed_and_agency_told_three_ways(tmp_path: Path, database_url: str, media: MediaHost,
                                                agency_system: AgencySystem, smtp_server: SmtpServer) -> None:
    config = routing_config(tmp_path, database_url, agency_system, smtp_server)
    app = create_app(config)
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, from_number="+6799234567")
    # English, report, topic 6 "other", place 5 Ba, consent 1 (the agency may call back), record, keep
    log = phone.call(Script(["1", "1", "6", "5", "1", "REC", "1"], [WELL.read_bytes()]))
    assert log.hung_up
    wait_for_everything(config, services(app).queue)
    try:
        with services(app).db.session() as s:
            message = s.scalars(select(Message)).one()
            assert message.pipeline == pipeline.ROUTED
            assert message.agency == "water"
            assert message.routing_reason == "topic=other, place=ba; keyword 'well' → topic water → water"
            assert message.routed_at is not None and message.transcript is not None
            rows = {n.channel + (" down" if n.status == "failed" else ""): n
                    for n in s.scalars(select(Notification).order_by(Notification.id))}
            reference = message.reference
        assert sorted(rows) == ["email", "open311", "webhook", "webhook down"]
        assert all(n.status == "sent" and n.attempts == 1 and n.sent_at for k, n in rows.items() if "down" not in k)
        down = rows["webhook down"]
        assert down.attempts == config.job_retries + 1 and down.sent_at is None
        assert down.last_error == "webhook unreachable: ConnectionError"

        [hook] = agency_system.hooks()
        assert hook.signature_ok
        body = hook.json()
        assert body["reference"] == reference and body["agency"] == "water" and body["topic"] == "other"
        assert body["place"] == "ba" and body["language"] == "en" and body["transcript"]
        assert body["routing_reason"] == message.routing_reason
        raw = hook.body.decode()
        assert "9234567" not in raw and "caller" not in raw  # never the caller's number or caller id
        assert hook.headers["X-Talanoa-Delivery"] == str(rows["webhook"].id)

        [request] = agency_system.requests()
        form = request.form()
        assert form["api_key"] == "open311-key-for-tests" and form["service_code"] == "WATER-LEAK"
        assert form["jurisdiction_id"] == "water.example.org" and form["address_string"] == "Ba, Fiji"
        assert form["attribute[SOURCE]"] == "hotline"
        assert form["description"].startswith(f"Talanoa Hotline reference {reference} (en, received ")
        assert rows["open311"].external_id == "SR-1"

        [(sender, recipients, content)] = smtp_server.mailbox.messages
        assert recipients == ["desk@water.example.org"] and sender == config.smtp_from
        mail = message_from_bytes(content)
        assert reference in mail["Subject"] and "9234567" not in content.decode()
    finally:
        finish_jobs(app)


@pytest.mark.usefixtures("secrets_env")
def test_webhook_body_is_redacted(tmp_path: Path, sqlite_url: str, agency_system: AgencySystem,
                                  smtp_server: SmtpServer) -> None:
    from tests.routing.test_route_job import add_message, run_jobs

    config = routing_config(tmp_path, sqlite_url, agency_system, smtp_server)
    said = "my name is Litia Vula the pipe burst call me on nine two three four five six seven"
    message_id = add_message(config, topic="water", place="suva", transcript=said)
    run_jobs(config, message_id)
    body = json.loads(agency_system.hooks()[0].body)
    assert body["transcript"] == "my name is [name] the pipe burst call me on [phone]"
    assert body["redactions"] == {"phones": 1, "numbers": 0, "emails": 0, "names": 1}
    [(_, _, content)] = smtp_server.mailbox.messages
    assert "Litia" not in content.decode() and "[phone]" in content.decode()
    assert "Litia" not in agency_system.requests()[0].form()["description"]

"""SMS to consenting callers through Twilio's Messages API (a local server answering as Twilio documents):
the reference, an answer waiting, the message closed; consent, anonymity, opt-out (21610), refusals,
quiet hours, status callbacks, texts per language in one segment, and the number never logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr import create_app
from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Answer, Message
from ivr.core.models.delivery import SmsEvent, SmsMessage, SmsOptOut
from ivr.core.queue import InlineQueue, make_queue
from ivr.core.runtime import set_config
from tests.accounts_helpers import add_user, login, page_token
from tests.conftest import finish_jobs
from tests.delivery.conftest import CALLER_NUMBER, HOTLINE_NUMBER, add_report, delivery_config, signed_post, wait_for
from tests.delivery.fake_twilio import FakeTwilio, TwilioFault
from worker.routing import route_message
from worker.sms import segments, send_sms_notice, sms_text

MENUS = Path(__file__).resolve().parents[2] / "menus"


@pytest.fixture
def sms_config(tmp_path: Path, database_url: str, twilio: FakeTwilio) -> Iterator[Config]:
    config = delivery_config(tmp_path, database_url, twilio, sms_enabled=True)
    set_config(config)
    yield config
    set_config(None)


def report(config: Config, *, consent: str = "agency", language: str = "en", number: str = CALLER_NUMBER) -> int:
    answer_id = add_report(config, consent=consent, language=language, number=number)
    with database_for(config.database_url).session() as s:
        answer = s.get(Answer, answer_id)
        assert answer is not None
        return answer.message_id


def sms_rows(config: Config) -> list[SmsMessage]:
    with database_for(config.database_url).session() as s:
        rows = list(s.scalars(select(SmsMessage).order_by(SmsMessage.id)))
        s.expunge_all()
        return rows


def texts(twilio: FakeTwilio) -> list[tuple[str, str, str]]:
    return [(p.one("To"), p.one("From"), p.one("Body")) for p in twilio.created() if p.path.endswith("Messages.json")]


def test_the_reference_goes_out_once_in_the_callers_language(sms_config: Config, twilio: FakeTwilio) -> None:
    mid = report(sms_config, language="hi")
    with database_for(sms_config.database_url).session() as s:
        reference = s.get(Message, mid).reference  # type: ignore[union-attr]
    assert send_sms_notice(mid, "reference") == "sent (queued)"
    spaced = f"{reference[:4]} {reference[4:]}"
    hindi = f"Talanoa: आपकी शिकायत {spaced} मिल गई है। जवाब के लिए कॉल करें।"
    assert texts(twilio) == [(CALLER_NUMBER, HOTLINE_NUMBER, hindi)]
    post = twilio.created()[0]
    assert post.one("StatusCallback") == f"{sms_config.public_base_url}/voice/sms-status"
    [row] = sms_rows(sms_config)
    assert (row.kind, row.status, row.segments, row.sid) == ("reference", "queued", 1, post.sid)
    assert send_sms_notice(mid, "reference") == "already dealt with" and len(texts(twilio)) == 1


def test_no_sms_without_consent_or_to_anonymous_callers(sms_config: Config, twilio: FakeTwilio) -> None:
    anonymous = report(sms_config, consent="anonymous")
    no_consent = report(sms_config, consent="none", number="+6799990001")
    assert send_sms_notice(anonymous, "reference") == "held: anonymous report: no SMS"
    assert send_sms_notice(no_consent, "answer") == "held: the caller did not consent to be contacted"
    assert texts(twilio) == []
    assert [r.status for r in sms_rows(sms_config)] == ["held", "held"]


def test_unsubscribed_21610_is_remembered_and_never_texted_again(sms_config: Config, twilio: FakeTwilio) -> None:
    mid = report(sms_config)
    twilio.faults.append(TwilioFault(400, 21610, "Attempt to send to unsubscribed recipient"))
    outcome = send_sms_notice(mid, "reference")
    assert outcome.startswith("refused: Twilio answered HTTP 400 (error 21610)")
    with database_for(sms_config.database_url).session() as s:
        assert s.scalar(select(SmsOptOut.error_code)) == 21610
    assert send_sms_notice(mid, "answer") == "held: the caller unsubscribed from SMS (Twilio error 21610)"
    assert [(r.kind, r.status, r.error_code) for r in sms_rows(sms_config)] == [
        ("reference", "failed", 21610), ("answer", "held", None)]
    assert len(twilio.posts) == 1  # the held notice never reached Twilio


def test_an_invalid_number_is_refused_for_good_and_a_server_error_retried(sms_config: Config,
                                                                          twilio: FakeTwilio) -> None:
    mid = report(sms_config)
    twilio.faults.append(TwilioFault(400, 21211, "The 'To' number is not a valid phone number."))
    assert "error 21211" in send_sms_notice(mid, "reference")
    assert sms_rows(sms_config)[0].status == "failed"
    twilio.faults.append(TwilioFault(503, 20500, "Service unavailable"))
    with pytest.raises(Exception, match="HTTP 503"):
        send_sms_notice(mid, "answer")  # the queue retries it: the row stays pending
    assert send_sms_notice(mid, "answer") == "sent (queued)"


def test_quiet_hours_defer_the_text(tmp_path: Path, database_url: str, twilio: FakeTwilio) -> None:
    config = delivery_config(tmp_path, database_url, twilio, sms_enabled=True, quiet_hours="21-07")
    set_config(config)
    try:
        mid = report(config)
        night = datetime(2026, 3, 10, 11, 0)  # 23:00 in Fiji
        assert send_sms_notice(mid, "reference", night.isoformat()) == "deferred to 2026-03-10T19:00 (quiet hours)"
        assert texts(twilio) == [] and sms_rows(config) == []
    finally:
        set_config(None)


def test_sms_off_sends_nothing(tmp_path: Path, database_url: str, twilio: FakeTwilio) -> None:
    config = delivery_config(tmp_path, database_url, twilio)
    set_config(config)
    try:
        assert send_sms_notice(report(config), "reference") == "SMS is off (HOTLINE_SMS, TWILIO_CALLER_ID)"
        assert texts(twilio) == [] and sms_rows(config) == []
    finally:
        set_config(None)


def test_status_callbacks_are_stored_once_and_kept_in_order(sms_config: Config, twilio: FakeTwilio) -> None:
    mid = report(sms_config)
    send_sms_notice(mid, "reference")
    sid = twilio.created()[0].sid
    assert sid is not None
    client = create_app(sms_config).test_client()
    form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": twilio.account_sid,
            "From": HOTLINE_NUMBER, "To": CALLER_NUMBER, "ApiVersion": "2010-04-01"}
    for _ in range(2):
        assert signed_post(client, "/voice/sms-status", form).status_code == 200
    assert signed_post(client, "/voice/sms-status", {**form, "MessageStatus": "sent"}).status_code == 200
    assert sms_rows(sms_config)[0].status == "delivered"  # a late "sent" does not undo "delivered"
    with database_for(sms_config.database_url).session() as s:
        assert sorted(s.scalars(select(SmsEvent.status))) == ["delivered", "sent"]
    assert signed_post(client, "/voice/sms-status", {**form, "MessageStatus": "lost"}).status_code == 400
    assert client.post("/voice/sms-status", data=form).status_code in (401, 403)  # unsigned


def test_closing_on_the_dashboard_texts_the_caller(sms_config: Config, twilio: FakeTwilio,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mid = report(sms_config)
    with database_for(sms_config.database_url).session() as s:
        m = s.get(Message, mid)
        assert m is not None
        m.agency, reference = "water", m.reference
        s.query(Answer).filter(Answer.message_id == mid).delete()
    app = create_app(sms_config)
    add_user(sms_config, "water@example.org", "official", "water")
    client: FlaskClient = app.test_client()
    login(client, "water@example.org")
    token = page_token(client, f"/dashboard/messages/{mid}")
    resp = client.post(f"/dashboard/messages/{mid}/close", data={"reason": "resolved_on_site", "csrf_token": token})
    assert resp.status_code == 302
    wait_for(lambda: texts(twilio), what="the closing SMS")
    finish_jobs(app)
    assert texts(twilio)[0][2] == f"Talanoa Hotline: your report {reference[:4]} {reference[4:]} is closed. " \
                                  "Thank you for calling."
    assert CALLER_NUMBER not in caplog.text and CALLER_NUMBER[1:] not in caplog.text  # never logged
    page = client.get(f"/dashboard/messages/{mid}").get_data(as_text=True)
    assert 'data-kind="closed" data-status="queued">closed: queued' in page  # the official sees it went out


@pytest.mark.parametrize("language", ["en", "fr", "hi", "fj"])
def test_every_language_has_its_texts_each_in_one_segment(language: str) -> None:
    for kind in ("reference", "answer", "closed"):
        text = sms_text(MENUS, language, kind, "23420811")
        assert "2342 0811" in text and segments(text) == 1, (kind, text, segments(text))
    assert re.search(r"[\u0900-\u097f]", sms_text(MENUS, "hi", "closed", "1")) is not None  # Hindi in its script


def test_segments_count_gsm_and_ucs2() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("ç" + "a" * 69) == 1 and segments("ç" + "a" * 70) == 2  # ç is not GSM-7: UCS-2, 70 a segment


def test_the_routing_job_texts_the_reference_after_the_call(sms_config: Config, twilio: FakeTwilio) -> None:
    mid = report(sms_config)
    with database_for(sms_config.database_url).session() as s:
        m = s.get(Message, mid)
        assert m is not None
        m.pipeline, reference = pipeline.READY, m.reference
    assert route_message(mid).startswith("routed to water")
    queue = make_queue(sms_config)
    assert isinstance(queue, InlineQueue) and queue.join(timeout=30)
    assert [b for _, _, b in texts(twilio)] == [
        f"Talanoa Hotline: your report {reference[:4]} {reference[4:]} is received. Call us and key it to hear "
        "the answer."]

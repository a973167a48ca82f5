"""Missed-call and key-8 callbacks: placed within a minute, into the same menus, limited per number and day."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Caller
from ivr.core.models.delivery import CallbackNumber, Delivery
from ivr.core.privacy import hash_number
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script
from ivr.voice.outbound_calls import callbacks_today, request_callback
from tests.conftest import ACCOUNT_SID, BASE_URL, finish_jobs
from tests.delivery.conftest import (
    CALLER_NUMBER,
    HOTLINE_NUMBER,
    attempts_of,
    call_status,
    delivery_config,
    delivery_of,
    signed_post,
    wait_for,
)
from tests.delivery.fake_twilio import FakeTwilio


def ring_and_hang_up(app: Flask, status: str = "no-answer", number: str = CALLER_NUMBER) -> str:
    """Twilio's call status callback for a call that rang and ended before the hotline answered."""
    sid = "CA" + secrets.token_hex(16)
    form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": number, "To": HOTLINE_NUMBER, "CallStatus": status,
            "Direction": "inbound", "CallDuration": "0", "ApiVersion": "2010-04-01"}
    assert signed_post(app.test_client(), "/voice/status", form).status_code == 200
    return sid


def test_missed_call_is_called_back_within_the_minute_in_the_callers_language(
        app: Flask, phone: Phone, twilio: FakeTwilio, config: Config) -> None:
    phone.from_number = CALLER_NUMBER
    phone.call(Script(["2", None, None, None]))  # an earlier call chose French, then stayed silent
    assert twilio.posts == []  # a call the hotline answered is not a missed call
    started = time.monotonic()
    ring_and_hang_up(app, "canceled")
    wait_for(lambda: twilio.created(), timeout=60, what="the callback")
    assert time.monotonic() - started < 60
    [post] = twilio.created()
    assert post.one("To") == CALLER_NUMBER and post.one("From") == HOTLINE_NUMBER
    delivery = delivery_of(app)
    assert (delivery.kind, delivery.reason, delivery.language) == ("callback", "missed-call", "fr")

    call = phone.answer(post.one("Url"), Script([None, None, None]), post.sid)
    said = call.said()
    assert said[0] == "Bonjour, ici Talanoa Hotline, nous vous rappelons gratuitement."
    assert said[1].startswith("Pour signaler un problème, appuyez sur 1.")  # the incoming main menu, in French
    assert "Pour être rappelé gratuitement, appuyez sur 8." in said
    assert call.hung_up  # three silences: the same polite goodbye as any call
    call_status(app.test_client(), post, "completed", CallDuration="30")
    assert delivery_of(app).status == "completed"


def test_callback_call_can_report_and_the_message_is_the_callers(
        app: Flask, phone: Phone, twilio: FakeTwilio, config: Config, speech_wav: bytes) -> None:
    ring_and_hang_up(app)
    finish_jobs(app)
    [post] = twilio.created()
    # A new caller: language menu first; then report water in Ba with consent 1, keep it.
    call = phone.answer(post.one("Url"), Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]), post.sid)
    assert any("Your reference number is" in s for s in call.said())
    call_status(app.test_client(), post, "completed")
    finish_jobs(app)
    digest = hash_number(CALLER_NUMBER, config.pepper)
    with services(app).db.session() as s:
        caller = s.scalar(select(Caller).where(Caller.number_hash == digest))
        assert caller is not None and caller.language == "en"
        from ivr.core.models import Message

        message = s.scalars(select(Message)).one()
        assert message.caller_id == caller.id and message.consent == "agency"
        # The consent kept the number for the answer's call: 30 days, not the callback's one day.
        kept = s.scalar(select(CallbackNumber).where(CallbackNumber.caller_id == caller.id))
        assert kept is not None and kept.keep_until > datetime.now() + timedelta(days=29)


def test_key_8_promises_a_callback_and_places_it(app: Flask, phone: Phone, twilio: FakeTwilio) -> None:
    phone.from_number = CALLER_NUMBER
    log = phone.call(Script(["1", "8"]))
    said = log.said()
    assert "To be called back free of charge, press 8." in said
    assert said[-1] == "Thank you. Please hang up now: we will call you back within a minute, free of charge. Goodbye."
    assert log.hung_up
    wait_for(lambda: twilio.created(), timeout=60, what="the key-8 callback")
    assert delivery_of(app).reason == "key-8"
    assert len(twilio.created()) == 1


def test_key_8_is_not_offered_without_outbound_calls(tmp_path: Path, sqlite_url: str, media, twilio) -> None:  # type: ignore[no-untyped-def]
    from ivr.voice.emulator import FlaskTransport
    from tests.conftest import AUTH_TOKEN

    app = create_app(delivery_config(tmp_path, sqlite_url, twilio, twilio_caller_id=""))
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    log = phone.call(Script(["1", "8", None, None]))
    assert not any("press 8" in s for s in log.said())
    assert "Sorry, that key is not one of the choices." in log.said()
    ring_and_hang_up(app)
    finish_jobs(app)
    assert twilio.posts == []


def test_withheld_number_gets_no_callback(app: Flask, phone: Phone, twilio: FakeTwilio) -> None:
    ring_and_hang_up(app, number="anonymous")
    phone.from_number = "anonymous"
    log = phone.call(Script(["1", "8", None, None, None]))
    assert "Sorry, we cannot call you back on this phone today. You can still use the menu." in log.said()
    finish_jobs(app)
    assert twilio.posts == []


def test_daily_limit_per_number(tmp_path: Path, database_url: str, twilio: FakeTwilio, media) -> None:  # type: ignore[no-untyped-def]
    from ivr.voice.emulator import FlaskTransport
    from tests.conftest import AUTH_TOKEN

    config = delivery_config(tmp_path, database_url, twilio, callback_daily_limit=2, call_attempts=1)
    app = create_app(config)
    for expected in (1, 2):
        ring_and_hang_up(app)
        ring_and_hang_up(app)  # a second missed call while the first callback waits adds nothing
        wait_for(lambda n=expected: len(twilio.created()) == n, what=f"callback {expected}")  # type: ignore[misc]
        call_status(app.test_client(), twilio.created()[-1], "no-answer")  # one try only: it is over
    ring_and_hang_up(app)  # a third: over today's limit
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, from_number=CALLER_NUMBER)
    log = phone.call(Script(["1", "8", None, None, None]))
    assert "Sorry, we cannot call you back on this phone today. You can still use the menu." in log.said()
    ring_and_hang_up(app, number="+6797770000")  # another number has its own limit
    wait_for(lambda: len(twilio.created()) == 3, what="the other number's callback")
    finish_jobs(app)
    time.sleep(0.5)
    assert [p.one("To") for p in twilio.created()] == [CALLER_NUMBER, CALLER_NUMBER, "+6797770000"]
    with database_for(config.database_url).session() as s:
        deliveries = s.scalars(select(Delivery).order_by(Delivery.id)).all()
        assert [(d.status, d.reason) for d in deliveries] == [("failed", "missed-call")] * 2 + [
            ("calling", "missed-call")]
        digest = hash_number(CALLER_NUMBER, config.pepper)
        assert digest is not None
        now = datetime.now()
        assert callbacks_today(s, config, digest, now) == 2
        assert callbacks_today(s, config, digest, now + timedelta(days=1)) == 0  # a new local day
        caller = s.scalar(select(Caller).where(Caller.number_hash == digest))
        assert request_callback(s, config, caller, CALLER_NUMBER, reason="key-8", language="en",
                                now=now + timedelta(days=1)) is not None
    assert attempts_of(config, deliveries[0].id) == [(1, "no-answer", False)]


def test_unknown_outbound_call_is_the_callees_not_the_hotlines(app: Flask, config: Config) -> None:
    form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": HOTLINE_NUMBER,
            "To": CALLER_NUMBER, "Direction": "outbound-api", "CallStatus": "in-progress", "Digits": ""}
    assert signed_post(app.test_client(), "/voice/step?node=main", form).status_code == 200
    with services(app).db.session() as s:
        hashes = set(s.scalars(select(Caller.number_hash)))
    assert hashes == {hash_number(CALLER_NUMBER, config.pepper)}

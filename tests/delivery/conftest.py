"""Fixtures for answer delivery: Twilio's Calls resource on a local server, and a hotline that calls out."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.delayed_jobs import cancel_timers
from ivr.core.models import Answer, Caller, Message, utcnow
from ivr.core.models.delivery import CallAttempt, Delivery
from ivr.core.privacy import hash_number
from ivr.voice.answers import answer_audio_url
from ivr.voice.outbound_calls import keep_number_for_consent
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, BASE_URL, make_config
from tests.delivery.fake_twilio import CallPost, FakeTwilio
from tests.worker.conftest import redis_url, workers  # noqa: F401 - real Redis and `hotline worker` processes

HOTLINE_NUMBER = "+6793300000"
CALLER_NUMBER = "+6799990000"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake
    cancel_timers()  # no scheduled retry of this test may fire into the next one


def delivery_config(tmp_path: Path, database_url: str, twilio: FakeTwilio, **overrides: object) -> Config:
    """A hotline that places calls through the local Twilio, speaks with espeak-ng, and has no quiet hours.

    No quiet hours by default because the tests run on the real clock, which may be in Fiji's night;
    the quiet-hours tests set them and pass their own clock.
    """
    values: dict[str, object] = dict(twilio_api_base_url=twilio.base_url, twilio_caller_id=HOTLINE_NUMBER,
                                     quiet_hours="off", gtts_enabled=False, call_retry_minutes=0.01)
    values.update(overrides)
    return make_config(tmp_path, database_url, **values)


@pytest.fixture
def config(tmp_path: Path, database_url: str, twilio: FakeTwilio) -> Config:
    return delivery_config(tmp_path, database_url, twilio)


def signed_post(client: FlaskClient, path: str, form: dict[str, str]) -> TestResponse:
    sig = RequestValidator(AUTH_TOKEN).compute_signature(BASE_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def call_status(client: FlaskClient, post: CallPost, status: str, **extra: str) -> TestResponse:
    """Send Twilio's status callback for a call the hotline placed (to the StatusCallback it gave)."""
    url = post.one("StatusCallback")
    assert url.startswith(BASE_URL)
    form = {"CallSid": post.sid or "", "CallStatus": status, "AccountSid": ACCOUNT_SID, "From": HOTLINE_NUMBER,
            "To": post.one("To"), "Direction": "outbound-api", "ApiVersion": "2010-04-01", **extra}
    return signed_post(client, url[len(BASE_URL):], form)


def add_report(config: Config, *, consent: str, number: str = CALLER_NUMBER, language: str = "en",
               text: str | None = "The water pipe at Ba will be repaired on Monday.", audio_path: str | None = None,
               now: datetime | None = None) -> int:
    """Store a caller, their report and an agency's answer, keeping the number as a report call would."""
    digest = hash_number(number, config.pepper)
    assert digest is not None
    with database_for(config.database_url).session() as s:
        caller = s.scalar(select(Caller).where(Caller.number_hash == digest))
        if caller is None:
            caller = Caller(number_hash=digest, language=language)
            s.add(caller)
            s.flush()
        keep_number_for_consent(s, config, caller, number, consent, now=now or utcnow())
        message = Message(reference=str(secrets.randbelow(9 * 10**7) + 10**7), language=language, topic="water",
                          place="ba", consent=consent, caller_id=None if consent == "anonymous" else caller.id)
        s.add(message)
        s.flush()
        answer = Answer(message_id=message.id, text=text, audio_path=audio_path)
        s.add(answer)
        s.flush()
        return answer.id


def wait_for(check: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def delivery_of(app_or_config: Flask | Config, answer_id: int | None = None) -> Delivery:
    url = app_or_config.database_url if isinstance(app_or_config, Config) else \
        app_or_config.extensions["hotline"].config.database_url
    with database_for(url).session() as s:
        query = select(Delivery)
        if answer_id is not None:
            query = query.where(Delivery.answer_id == answer_id)
        delivery = s.scalars(query.order_by(Delivery.id.desc())).first()
        assert delivery is not None
        s.expunge(delivery)
        return delivery


def attempts_of(config: Config, delivery_id: int) -> list[tuple[int, str, bool]]:
    with database_for(config.database_url).session() as s:
        rows = s.scalars(select(CallAttempt).where(CallAttempt.delivery_id == delivery_id)
                         .order_by(CallAttempt.number))
        return [(a.number, a.status, a.heard) for a in rows]


def answer_url_of(app_or_config: Flask | Config, answer_id: int) -> str:
    """The signed URL Twilio is given to play an answer (its token depends on the stored file)."""
    config = app_or_config if isinstance(app_or_config, Config) else app_or_config.extensions["hotline"].config
    with database_for(config.database_url).session() as s:
        answer = s.get(Answer, answer_id)
        assert answer is not None
        return answer_audio_url(config, answer)

"""Free callbacks ring only the hotline's own country (or HOTLINE_CALLBACK_PREFIXES), within an hourly cap."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr import create_app
from ivr.core.config import Config
from ivr.core.country_codes import country_code
from ivr.core.models.delivery import Delivery
from ivr.core.services import services
from tests.conftest import ACCOUNT_SID, finish_jobs
from tests.delivery.conftest import HOTLINE_NUMBER, delivery_config, signed_post
from tests.delivery.fake_twilio import FakeTwilio


def ring_and_hang_up(app: Flask, number: str) -> None:
    """Twilio's status callback for a call that rang and ended before the hotline answered."""
    form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": number,
            "To": HOTLINE_NUMBER, "CallStatus": "no-answer", "Direction": "inbound", "CallDuration": "0"}
    assert signed_post(app.test_client(), "/voice/status", form).status_code == 200


def deliveries(app: Flask) -> list[tuple[str, str | None]]:
    with services(app).db.session() as s:
        return [(d.status, d.held_reason) for d in s.scalars(select(Delivery).order_by(Delivery.id))]


def test_country_codes() -> None:
    assert [country_code(n) for n in ("+6793300000", "+14155550100", "+447700900000", "+88216000000",
                                      "+79161234567", "6793300000", "+0123")] == \
        ["679", "1", "44", "882", "7", "", ""]


def test_missed_call_from_a_satellite_range_is_not_rung_back(tmp_path: Path, sqlite_url: str,
                                                            twilio: FakeTwilio) -> None:
    app = create_app(delivery_config(tmp_path, sqlite_url, twilio))  # TWILIO_CALLER_ID +679…: Fiji only
    ring_and_hang_up(app, "+88216000000")
    ring_and_hang_up(app, "+6799990001")
    finish_jobs(app)
    assert deliveries(app)[0] == ("refused", "number outside HOTLINE_CALLBACK_PREFIXES")
    assert [post.one("To") for post in twilio.created()] == ["+6799990001"]  # today: both were rung back
    health = app.test_client().get("/health").get_json()
    assert health["callbacks_refused_24h"] == {"number outside HOTLINE_CALLBACK_PREFIXES": 1}


def test_prefixes_setting_overrides_the_country(tmp_path: Path, sqlite_url: str, twilio: FakeTwilio) -> None:
    config: Config = delivery_config(tmp_path, sqlite_url, twilio, callback_prefixes="+6799, +1415")
    assert config.callback_number_prefixes == ("+6799", "+1415")
    app = create_app(config)
    for number in ("+6793312345", "+14155550100", "+6799990002"):
        ring_and_hang_up(app, number)
    finish_jobs(app)
    assert [status == "refused" for status, _ in deliveries(app)] == [True, False, False]
    assert sorted(post.one("To") for post in twilio.created()) == ["+14155550100", "+6799990002"]


def test_hourly_limit_caps_callbacks_across_numbers(tmp_path: Path, sqlite_url: str, twilio: FakeTwilio) -> None:
    app = create_app(delivery_config(tmp_path, sqlite_url, twilio, callback_hourly_limit=2))
    for i in range(4):
        ring_and_hang_up(app, f"+67999900{i:02d}")
    finish_jobs(app)
    assert len(twilio.created()) == 2  # today: 4, one per number, whatever the total
    assert [reason for status, reason in deliveries(app) if status == "refused"] == \
        ["HOTLINE_CALLBACK_HOURLY_LIMIT reached"] * 2


def test_bad_prefixes_are_refused_at_start(tmp_path: Path, twilio: FakeTwilio) -> None:
    from ivr.core.errors import ConfigError

    with pytest.raises(ConfigError, match="HOTLINE_CALLBACK_PREFIXES"):
        delivery_config(tmp_path, "sqlite://", twilio, callback_prefixes="679")

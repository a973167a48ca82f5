"""A call's first webhook: stored once, its caller counted once, whatever Twilio repeats."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from ivr.models import Call, Caller
from ivr.services import services

from .test_webhook_security import signed_post


def test_a_repeated_incoming_webhook_stores_one_call_and_counts_the_caller_once(app: Flask) -> None:
    client = app.test_client()
    form = {"CallSid": "CA" + "4" * 32, "From": "+6799990002", "To": "+6793300000"}
    first = signed_post(client, "/voice/incoming", form)
    again = signed_post(client, "/voice/incoming", form)
    assert first.status_code == again.status_code == 200
    assert "<Gather" in first.text and "<Gather" in again.text  # both times the caller hears the menu
    with services(app).db.session() as s:
        call = s.scalars(select(Call)).one()
        caller = s.scalars(select(Caller)).one()
        assert call.caller_id == caller.id and caller.calls_count == 1
        assert '"node": "language"' in call.state
    signed_post(client, "/voice/incoming", {**form, "CallSid": "CA" + "5" * 32})
    with services(app).db.session() as s:
        assert s.scalars(select(Caller)).one().calls_count == 2


def test_a_withheld_number_starts_a_call_without_a_caller(app: Flask) -> None:
    resp = signed_post(app.test_client(), "/voice/incoming", {"CallSid": "CA" + "6" * 32, "From": "anonymous"})
    assert resp.status_code == 200 and "<Gather" in resp.text
    with services(app).db.session() as s:
        assert s.scalars(select(Call)).one().caller_id is None
        assert s.scalars(select(Caller)).all() == []

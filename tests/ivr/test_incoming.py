"""A call's first webhook: stored once, its caller counted once, whatever Twilio repeats."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from ivr.core.models import Call, Caller, Message, Recording
from ivr.core.services import services
from ivr.voice import calls
from ivr.voice.flow import CallState

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


def test_a_repeat_that_raced_past_the_first_look_undoes_its_count(app: Flask) -> None:
    # Two deliveries of one incoming webhook both read "not stored yet"; the second to write finds the call.
    db, sid, digest = services(app).db, "CA" + "7" * 32, "d" * 64
    state = CallState(node="language")
    with db.session() as s:
        assert not calls.first_look(s, sid, digest).known
        first = calls.arrive(s, sid, digest, state)
    with db.session() as s:
        assert calls.arrive(s, sid, digest, state) is None
    with db.session() as s:
        caller = s.scalars(select(Caller)).one()
        call = s.scalars(select(Call)).one()
        assert first is not None and first.call_id == call.id and call.caller_id == caller.id == first.caller_id
        assert caller.calls_count == 1 and calls.load_state(call).node == "language"
        look = calls.first_look(s, sid, digest)
        assert look.known and look.language is None


def test_a_recording_is_stored_once_and_keeps_what_a_later_request_leaves_out(app: Flask) -> None:
    db, update = services(app).db, calls.RecordingUpdate
    with db.session() as s:
        assert calls.upsert_recording(s, update("RE" + "1" * 32, "CA1", "https://api.twilio.com/r1", 5, None)) is None
    with db.session() as s:  # the status callback: no duration it can vouch for, but the final status
        calls.upsert_recording(s, update("RE" + "1" * 32, "CA1", "", 0, "completed"))
    with db.session() as s:
        rec = s.scalars(select(Recording)).one()
        assert (rec.url, rec.duration_seconds, rec.twilio_status) == ("https://api.twilio.com/r1", 5, "completed")
        assert rec.discarded is False
        message = Message(reference="12345678", language="en", consent="anonymous", status="received")
        s.add(message)
        s.flush()
        rec.message_id = message.id
        message_id = message.id
    with db.session() as s:  # a repeated <Record> action: the status stays, the message is named
        assert calls.upsert_recording(s, update("RE" + "1" * 32, "CA1", "https://api.twilio.com/r2", 7, None)) \
            == message_id
        rec = s.scalars(select(Recording)).one()
        assert (rec.url, rec.duration_seconds, rec.twilio_status) == ("https://api.twilio.com/r2", 7, "completed")

"""Promise 6: a caller withdraws a report, or takes it off the radio, from main menu key 5; others cannot."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.core.models import Caller, Message
from ivr.core.models.accounts import AuditEvent
from ivr.core.models.radio import RadioClip
from ivr.core.services import services
from ivr.voice import withdrawal
from ivr.voice.emulator import Phone
from recordings.store import LocalStore
from tests.conftest import finish_jobs
from tests.privacy.walk import returning_caller

MINE, OTHER = "+6799871111", "+6799872222"


def report(app: Flask, phone: Phone, wav: bytes, consent: str) -> Message:
    phone.call(returning_caller(["1", "1", "5", consent, "REC", "1"], wav))
    finish_jobs(app)
    with services(app).db.session() as s:
        m = s.scalars(select(Message).order_by(Message.id.desc()).limit(1)).one()
        s.expunge(m)
        return m


def said(app: Flask, phone: Phone, keys: list[str]) -> str:
    """Place a call pressing `keys`, then stay silent until the hotline says goodbye; return what was said."""
    log = phone.call(returning_caller([*keys, None, None, None], b""))
    return " ".join(log.said())


def test_the_phone_that_made_a_report_withdraws_it_whole(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.from_number = MINE
    m = report(app, phone, speech_wav, "3")
    svc = services(app)
    with svc.db.session() as s:
        s.add(RadioClip(message_id=m.id, status="approved", quote="quoted", audio_approved=True))
        sid = s.get(Message, m.id).recording.recording_sid  # type: ignore[union-attr]
    store = LocalStore(svc.config.recordings_dir)
    assert store.exists(sid)
    phone.from_number = OTHER  # someone else who learned the reference
    assert "only be withdrawn from the phone that made it" in said(app, phone, ["5", m.reference])
    with svc.db.session() as s:
        assert s.get(Message, m.id).status != "withdrawn"  # type: ignore[union-attr]
    phone.from_number = MINE
    heard = said(app, phone, ["5", m.reference, "1"])
    assert "Your report has been withdrawn" in heard
    with svc.db.session() as s:
        withdrawn = s.get(Message, m.id)
        assert withdrawn is not None and withdrawn.status == "withdrawn"
        assert withdrawn.recording is not None and withdrawn.recording.stored_path is None
        assert withdrawn.transcript is not None and withdrawn.transcript.text == ""
        assert "withdrawn by the caller" in (withdrawn.routing_reason or "")
        clip = s.scalars(select(RadioClip)).one()
        assert (clip.status, clip.quote, clip.audio_approved) == ("rejected", None, False)
        assert [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.target_id == str(m.id)))] \
            == ["withdrawn_by_caller"]
        # Replayed: nothing more happens, nothing is half-done.
        caller = s.get(Caller, withdrawn.caller_id)
        assert withdrawal.withdraw(s, m.reference, caller, "withdraw_report") is None
    assert not store.exists(sid)
    assert "already been withdrawn" in said(app, phone, ["5", m.reference])


def test_another_phone_and_an_anonymous_report_are_refused(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.from_number = MINE
    mine = report(app, phone, speech_wav, "1")
    anonymous = report(app, phone, speech_wav, "2")
    phone.from_number = OTHER
    assert "can only be withdrawn from the phone that made it" in said(app, phone, ["5", mine.reference])
    phone.from_number = MINE
    assert "cannot be withdrawn by phone" in said(app, phone, ["5", anonymous.reference])
    assert "is not on the radio" in said(app, phone, ["5", mine.reference, "2"])
    with services(app).db.session() as s:
        assert {(m.id, m.status, m.consent) for m in s.scalars(select(Message))} == {
            (mine.id, "received", "agency"), (anonymous.id, "received", "anonymous")}
        assert s.scalars(select(AuditEvent).where(AuditEvent.action.like("%withdrawn%"))).all() == []


@pytest.mark.parametrize("consent", ["3"])
def test_taking_a_report_off_the_radio_keeps_it_with_the_agency(app: Flask, phone: Phone, speech_wav: bytes,
                                                                consent: str) -> None:
    phone.from_number = MINE
    m = report(app, phone, speech_wav, consent)
    assert "will not be used on the radio again" in said(app, phone, ["5", m.reference, "2"])
    with services(app).db.session() as s:
        kept = s.get(Message, m.id)
        assert kept is not None and kept.consent == "agency" and kept.status != "withdrawn"
        assert kept.recording is not None and kept.recording.stored_path is not None

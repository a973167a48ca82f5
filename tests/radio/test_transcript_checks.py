"""A quote is cut only from words a person checked after listening; machine text is refused."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Transcript, utcnow
from ivr.core.models.accounts import AuditEvent
from ivr.core.models.radio import RadioClip
from ivr.radio.moderation import ModerationRefused, approve, moderation_queue
from tests.accounts_helpers import csrf_from

from .conftest import add_message, host_client, store_recording

MACHINE = "here the classes are total immersion"
SAID = "the water tank in Nadi is empty again"


def test_a_quote_from_unchecked_machine_text_is_refused_and_audited(session: Session) -> None:
    m = add_message(session, at=utcnow(), consent="radio", transcript=MACHINE, checked=False)
    with pytest.raises(ModerationRefused, match="machine's guess"):
        approve(session, m.id, None, quote="total immersion")
    assert session.scalar(select(RadioClip)) is None
    assert session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "radio_approve_refused")).one() \
        == "unchecked transcript"
    clip = approve(session, m.id, None)  # approving without a quote quotes nothing
    assert clip.quote is None
    assert not moderation_queue(session)[0].checked


def test_host_checks_words_then_approves_a_quote_from_them(radio_app: Flask, radio_config: Config,
                                                            speech_wav: bytes) -> None:
    with database_for(radio_config.database_url).session() as s:
        m = add_message(s, at=utcnow(), consent="radio", transcript=MACHINE, checked=False)
        store_recording(radio_config, s, m.id, speech_wav)
    host = host_client(radio_app, radio_config)
    html = host.get("/radio/moderation").get_data(as_text=True)
    assert "Machine transcript, unchecked" in html and 'name="quote"' not in html
    token = csrf_from(html)
    refused = host.post(f"/radio/moderation/{m.id}/approve", data={"csrf_token": token, "quote": MACHINE})
    assert refused.status_code == 409 and "machine&#39;s guess" in refused.get_data(as_text=True)
    unheard = host.post(f"/radio/moderation/{m.id}/transcript", data={"csrf_token": token, "text": SAID})
    assert unheard.status_code == 409
    ok = host.post(f"/radio/moderation/{m.id}/transcript", data={"csrf_token": token, "text": SAID, "listened": "1"})
    assert ok.status_code == 302
    html = host.get("/radio/moderation").get_data(as_text=True)
    assert "Checked by a person" in html and SAID in html and 'name="quote"' in html
    assert host.post(f"/radio/moderation/{m.id}/approve",
                     data={"csrf_token": token, "quote": "the water tank in Nadi is empty"}).status_code == 302
    with database_for(radio_config.database_url).session() as s:
        clip = s.scalars(select(RadioClip)).one()
        assert clip.quote == "the water tank in Nadi is empty"
        t = s.scalars(select(Transcript)).one()
        assert t.text == MACHINE and t.checked_text == SAID  # the machine's words are kept
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert "transcript_check" in actions


def test_host_cannot_check_a_message_without_on_air_consent(radio_app: Flask, radio_config: Config,
                                                             speech_wav: bytes) -> None:
    with database_for(radio_config.database_url).session() as s:
        m = add_message(s, at=utcnow(), consent="agency", transcript=MACHINE, checked=False)
        store_recording(radio_config, s, m.id, speech_wav)
    host = host_client(radio_app, radio_config)
    token = csrf_from(host.get("/radio/moderation").get_data(as_text=True))
    resp = host.post(f"/radio/moderation/{m.id}/transcript", data={"csrf_token": token, "text": SAID, "listened": "1"})
    assert resp.status_code == 404

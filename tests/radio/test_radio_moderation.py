"""Nothing goes on air without the caller's on-air consent and a host's approval; every decision is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import utcnow
from ivr.core.models.accounts import AuditEvent
from ivr.core.models.radio import RadioClip
from ivr.radio.moderation import ModerationRefused, approve, moderation_queue, reject
from tests.accounts_helpers import csrf_from

from .conftest import add_message, host_client, store_recording

NAMED = "The clinic in Ba is closed again, my name is Ana Tuilagi and my number is 9234567"
PLAIN = "The road to the school in Nadi is flooded every time it rains"


def test_approving_without_on_air_consent_is_refused_and_audited(session: Session) -> None:
    agency_only = add_message(session, at=utcnow(), consent="agency", transcript=PLAIN)
    with pytest.raises(ModerationRefused, match="did not agree to be heard on the radio"):
        approve(session, agency_only.id, None)
    assert session.scalar(select(RadioClip)) is None
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "radio_approve_refused")).one()
    assert refused.target_id == str(agency_only.id)


def test_quote_is_the_redacted_transcript_or_a_verbatim_part(session: Session) -> None:
    m = add_message(session, at=utcnow(), consent="radio", transcript=NAMED)
    clip = approve(session, m.id, None)
    assert clip.quote == "The clinic in Ba is closed again, my name is [name] and my number is [phone]"
    part = approve(session, m.id, None, quote="  The clinic in Ba   is closed again ")
    assert part.quote == "The clinic in Ba is closed again"
    with pytest.raises(ModerationRefused, match="caller's own words"):
        approve(session, m.id, None, quote="The clinic in Ba is a disgrace")
    with pytest.raises(ModerationRefused, match="caller's own words"):
        approve(session, m.id, None, quote="my name is Ana Tuilagi")  # the raw words are not in the redacted text
    assert session.scalars(select(RadioClip)).one().quote == "The clinic in Ba is closed again"


def test_audio_only_when_nothing_was_redacted_and_the_host_listened(radio_config: Config, session: Session,
                                                                    speech_wav: bytes) -> None:
    named = add_message(session, at=utcnow(), consent="radio", transcript=NAMED)
    plain = add_message(session, at=utcnow(), consent="radio", transcript=PLAIN)
    unheard = add_message(session, at=utcnow(), consent="radio", transcript=PLAIN)
    for m in (named, plain):
        store_recording(radio_config, session, m.id, speech_wav)
    with pytest.raises(ModerationRefused, match="says a name or number"):
        approve(session, named.id, None, audio=True, listened=True)
    with pytest.raises(ModerationRefused, match="Listen to the whole recording"):
        approve(session, plain.id, None, audio=True)
    with pytest.raises(ModerationRefused, match="no stored recording"):
        approve(session, unheard.id, None, audio=True, listened=True)
    assert approve(session, plain.id, None, audio=True, listened=True).audio_approved
    assert reject(session, plain.id, None).status == "rejected"
    assert not session.scalars(select(RadioClip).where(RadioClip.message_id == plain.id)).one().audio_approved


def test_queue_lists_only_on_air_consent_redacted(session: Session) -> None:
    add_message(session, at=utcnow() - timedelta(hours=2), consent="agency", transcript=PLAIN)
    add_message(session, at=utcnow() - timedelta(hours=1), consent="anonymous", transcript=PLAIN)
    radio = add_message(session, at=utcnow(), consent="radio", transcript=NAMED)
    queue = moderation_queue(session)
    assert [c.message_id for c in queue] == [radio.id]
    assert queue[0].redacted is not None and "Ana" not in queue[0].redacted and queue[0].removed == 2
    assert not queue[0].audio_allowed


def test_pages_enforce_the_rules(radio_app: Flask, radio_config: Config, speech_wav: bytes) -> None:
    with database_for(radio_config.database_url).session() as s:
        agency_only = add_message(s, at=utcnow(), consent="agency", transcript="The agency only may hear this")
        radio = add_message(s, at=utcnow(), consent="radio", transcript=NAMED)
        store_recording(radio_config, s, agency_only.id, speech_wav)
        store_recording(radio_config, s, radio.id, speech_wav)
    host = host_client(radio_app, radio_config)
    page = host.get("/radio/moderation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "my name is [name] and my number is [phone]" in html
    assert "Ana" not in html and "9234567" not in html and "The agency only may hear this" not in html
    token = csrf_from(html)
    refused = host.post(f"/radio/moderation/{agency_only.id}/approve", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "did not agree to be heard on the radio" in refused.get_data(as_text=True)
    assert host.get(f"/radio/moderation/{agency_only.id}/audio").status_code == 404  # not a host's to hear
    with host.get(f"/radio/moderation/{radio.id}/audio") as heard:
        assert heard.status_code == 200 and heard.data == speech_wav
    ok = host.post(f"/radio/moderation/{radio.id}/approve",
                   data={"csrf_token": token, "quote": "The clinic in Ba is closed again"})
    assert ok.status_code == 302
    assert host.post(f"/radio/moderation/{radio.id}/approve", data={}).status_code == 400  # no CSRF token
    with database_for(radio_config.database_url).session() as s:
        clip = s.scalars(select(RadioClip)).one()
        assert (clip.message_id, clip.status, clip.quote) == (radio.id, "approved", "The clinic in Ba is closed again")
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions[-3:] == ["radio_approve_refused", "radio_listen", "radio_approve"]
    official = host_client(radio_app, radio_config, role="official")
    assert official.get("/radio/moderation").status_code == 403
    anonymous = radio_app.test_client().get("/radio/moderation")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

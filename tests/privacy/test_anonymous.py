"""Promise 1: an anonymous report (consent 2) keeps no path to the phone it came from."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.core.config import Config
from ivr.core.models import Call, Message
from ivr.core.models.delivery import CallbackNumber
from ivr.core.privacy import hash_number
from ivr.core.services import services
from ivr.voice.emulator import Phone
from tests.conftest import finish_jobs
from tests.privacy.walk import reachable, returning_caller

NUMBER = "+6799871234"
# After the language menu (tests/privacy/walk.returning_caller keys 1 for English whenever it is asked).
AGENCY_REPORT = ["1", "1", "5", "1", "REC", "1"]  # consent 1: the encrypted number is kept
ANONYMOUS_REPORT = ["1", "3", "2", "2", "REC", "1"]


def test_nothing_reachable_from_an_anonymous_report_leads_to_the_phone(
        app: Flask, phone: Phone, config: Config, speech_wav: bytes, caplog: pytest.LogCaptureFixture) -> None:
    phone.from_number = NUMBER
    with caplog.at_level("DEBUG"):
        phone.call(returning_caller(AGENCY_REPORT, speech_wav))  # the same phone, earlier, with its number kept
        finish_jobs(app)
        anonymous = phone.call(returning_caller(ANONYMOUS_REPORT, speech_wav))
        finish_jobs(app)
    digest = hash_number(NUMBER, config.pepper)
    assert digest is not None
    db = services(app).db
    with db.session() as s:
        message = s.scalars(select(Message).where(Message.consent == "anonymous")).one()
        ciphertext = s.scalars(select(CallbackNumber.ciphertext)).one()  # the agency report kept it
        call = s.scalars(select(Call).where(Call.call_sid == anonymous.call_sid)).one()
        assert message.caller_id is None and message.call_id is None
        assert message.recording is not None and message.transcript is not None  # the report itself is whole
        assert call.caller_id is not None  # the call keeps its caller (language, callbacks) ...
        state = json.loads(call.state)
        # ... because nothing in it leads to the message any more.
        assert not {"reference", "recording_sid", "recording_url"} & set(state), state
        message_id, reference, rec_sid = message.id, message.reference, message.recording.recording_sid
    # The caller still heard their reference number, digit by digit.
    assert " ".join(reference) in " ".join(anonymous.said()) or all(d in anonymous.transcript() for d in reference)
    secrets = [digest, ciphertext, NUMBER, NUMBER.lstrip("+"), anonymous.call_sid]
    with db.engine.connect() as conn:
        from_message = reachable(conn, "messages", "id", message_id)
        tables = {table for table, _ in from_message}
        assert {"recordings", "transcripts"} <= tables
        assert not tables & {"calls", "callers", "callback_numbers", "deliveries"}, tables
        for (table, _), row in from_message.items():
            for value in row.values():
                for secret in secrets:
                    assert secret not in str(value), (table, row)
        # And the other way: from the call, or the phone's own rows, no join reaches the report.
        for start in (("calls", "call_sid", anonymous.call_sid), ("callers", "number_hash", digest)):
            found = reachable(conn, *start)
            assert ("messages", (message_id,)) not in found
            assert not any(rec_sid in str(v) or reference in str(v) for row in found.values() for v in row.values())
    assert NUMBER.lstrip("+") not in caplog.text and digest not in caplog.text
    assert anonymous.call_sid not in caplog.text

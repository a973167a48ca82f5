"""With callbacks on, a number still never reaches a log or a readable column; bad input on the outbound routes."""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.core.config import Config
from ivr.core.models import Answer, Message
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script
from ivr.voice.outbound_calls import DELIVER_ANSWER_JOB
from tests.conftest import finish_jobs
from tests.delivery.conftest import CALLER_NUMBER, call_status, signed_post, wait_for
from tests.delivery.fake_twilio import FakeTwilio

DIGITS = CALLER_NUMBER.lstrip("+")


def test_numbers_stay_out_of_logs_and_clear_columns(app: Flask, phone: Phone, twilio: FakeTwilio, config: Config,
                                                    speech_wav: bytes, caplog: pytest.LogCaptureFixture) -> None:
    phone.from_number = CALLER_NUMBER
    with caplog.at_level("DEBUG"):
        phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]))  # consent 1: number kept
        finish_jobs(app)
        with services(app).db.session() as s:
            message = s.query(Message).one()
            answer = Answer(message_id=message.id, text="Fixed.")
            s.add(answer)
            s.flush()
            answer_id = answer.id
        services(app).queue.enqueue(DELIVER_ANSWER_JOB, answer_id, job_id=f"deliver-answer-{answer_id}")
        finish_jobs(app)
        [post] = twilio.created()
        call_status(app.test_client(), post, "busy")
        wait_for(lambda: len(twilio.created()) == 2, what="the retry")
        phone.call(Script(["8"]))  # key 8 as well
        finish_jobs(app)
    assert DIGITS not in caplog.text.replace(" ", "")
    db = services(app).db
    with db.engine.connect() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table'" if db.url.startswith("sqlite")
            else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()]
        for table in tables:
            for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"').fetchall():
                assert DIGITS[-7:] not in str(row), table


field_text = st.text(max_size=40)
forms = st.fixed_dictionaries(
    {"CallSid": st.one_of(st.just("CA" + "9" * 32), field_text)},
    optional={"Digits": field_text, "CallStatus": st.one_of(st.sampled_from(["busy", "completed", "ringing"]),
                                                            field_text),
              "CallDuration": field_text, "SequenceNumber": field_text, "To": field_text},
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=forms, query=st.sampled_from(["?delivery=1&attempt=1", "?delivery=1&attempt=1&step=menu&tries=9",
                                          "?delivery=x", "", "?delivery=99999999999&attempt=-1"]),
       route=st.sampled_from(["/voice/outbound", "/voice/outbound-status"]))
def test_any_signed_payload_gets_twiml_or_a_clear_4xx(app: Flask, form: dict[str, str], query: str,
                                                      route: str) -> None:
    resp = signed_post(app.test_client(), route + query, form)
    if route == "/voice/outbound":
        assert resp.status_code == 200, resp.data  # a live call: always TwiML
    else:
        assert resp.status_code in (200, 400), resp.data
    if resp.status_code == 200:
        assert resp.mimetype == "application/xml" and b"<Response" in resp.data

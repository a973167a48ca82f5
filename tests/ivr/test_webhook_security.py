"""Signature checks and bad input on the voice webhooks."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from ivr.core.models import Call, Caller, Message, Recording
from ivr.core.services import services
from tests.conftest import AUTH_TOKEN, BASE_URL


def signed_post(client: FlaskClient, path: str, form: dict[str, str], *, token: str = AUTH_TOKEN,
                url: str | None = None):  # type: ignore[no-untyped-def]
    sig = RequestValidator(token).compute_signature(url or BASE_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def count(app: Flask, model: type) -> int:
    with services(app).db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_twilio_documented_signature_vector() -> None:
    """Twilio's security documentation: token 12345, this URL and form, this signature."""
    from flask import Flask as Bare

    from ivr.voice.signature import is_signed

    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234", "From": "+14158675310",
              "To": "+18005551212"}
    bare = Bare(__name__)
    for signature, expected in (("GvWf1cFY/Q7PnoempGyD5oXAezc=", True), ("GvWf1cFY/Q7PnoempGyD5oXAezd=", False)):
        # the request reached us on another host (behind a proxy): PUBLIC_BASE_URL decides what was signed
        with bare.test_request_context("/myapp.php?foo=1&bar=2", method="POST", data=params,
                                       base_url="http://10.0.0.5:8000",
                                       headers={"X-Twilio-Signature": signature}):
            from flask import request

            assert is_signed("12345", "https://mycompany.com", request) is expected
    with bare.test_request_context("/myapp.php?foo=1&bar=2", method="POST", data={**params, "Digits": "9"},
                                   headers={"X-Twilio-Signature": "GvWf1cFY/Q7PnoempGyD5oXAezc="}):
        from flask import request

        assert not is_signed("12345", "https://mycompany.com", request)


def test_unsigned_missigned_and_other_url_are_refused(app: Flask) -> None:
    client = app.test_client()
    form = {"CallSid": "CA" + "1" * 32, "From": "+6791234567"}
    assert client.post("/voice/incoming", data=form).status_code == 403
    assert signed_post(client, "/voice/incoming", form, token="wrong").status_code == 403
    other = "https://evil.example.org/voice/incoming"
    assert signed_post(client, "/voice/incoming", form, url=other).status_code == 403
    assert signed_post(client, "/voice/incoming", form,
                       url=BASE_URL + "/voice/step").status_code == 403
    assert count(app, Call) == 0 and count(app, Caller) == 0
    assert signed_post(client, "/voice/incoming", form).status_code == 200
    assert count(app, Call) == 1


def test_get_wrong_content_type_and_huge_body(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/voice/incoming").status_code == 405
    resp = client.post("/voice/incoming", data='{"CallSid": "CA1"}', content_type="application/json")
    assert resp.status_code == 415
    big = {"CallSid": "CA" + "1" * 32, "Junk": "x" * 200_000}
    assert signed_post(client, "/voice/incoming", big).status_code == 413
    assert count(app, Call) == 0


def test_bad_digits_keep_the_caller_on_the_menu(app: Flask) -> None:
    client = app.test_client()
    sid = "CA" + "2" * 32
    signed_post(client, "/voice/incoming", {"CallSid": sid, "From": "+6791110000"})
    for digits in ("abc", "1" * 40, "<script>", "１"):
        resp = signed_post(client, "/voice/step?node=language", {"CallSid": sid, "Digits": digits})
        assert resp.status_code == 200 and resp.mimetype == "application/xml"
        assert b"<Gather" in resp.data or b"<Hangup" in resp.data
    text = services(app).menus.text("en", "invalid_choice")
    assert text.encode() in resp.data or b"<Hangup" in resp.data


def test_unknown_callsid_starts_the_call_afresh(app: Flask) -> None:
    resp = signed_post(app.test_client(), "/voice/step?node=main", {"CallSid": "CA" + "3" * 32, "Digits": "1"})
    assert resp.status_code == 200
    assert services(app).menus.text("en", "language_option").encode() in resp.data


def test_missing_callsid_on_a_live_step_still_answers_twiml(app: Flask) -> None:
    resp = signed_post(app.test_client(), "/voice/step?node=main", {"Digits": "1"})
    assert resp.status_code == 200 and b"<Hangup" in resp.data
    assert count(app, Call) == 0


def test_callbacks_with_missing_fields_are_400(app: Flask) -> None:
    client = app.test_client()
    assert signed_post(client, "/voice/recording-status", {"CallSid": "CA" + "4" * 32}).status_code == 400
    bad_status = {"CallSid": "CA" + "4" * 32, "CallStatus": "exploded"}
    assert signed_post(client, "/voice/status", bad_status).status_code == 400
    assert count(app, Recording) == 0


def test_recording_status_twice_and_before_action_stores_one(app: Flask) -> None:
    client = app.test_client()
    sid = "CA" + "5" * 32
    form = {"CallSid": sid, "RecordingSid": "RE" + "5" * 32, "RecordingUrl": "https://api.twilio.com/x/RE1",
            "RecordingStatus": "completed", "RecordingDuration": "7"}
    for _ in range(2):
        assert signed_post(client, "/voice/recording-status", form).status_code == 200
    assert count(app, Recording) == 1


def test_recording_duration_zero_asks_again(app: Flask) -> None:
    client = app.test_client()
    sid = "CA" + "6" * 32
    signed_post(client, "/voice/incoming", {"CallSid": sid, "From": "+6791110001"})
    for node, digits in (("language", "1"), ("main", "1"), ("report_topic", "1"), ("report_place", "1"),
                         ("report_consent", "1")):
        assert signed_post(client, f"/voice/step?node={node}", {"CallSid": sid, "Digits": digits}).status_code == 200
    empty = {"CallSid": sid, "RecordingSid": "RE" + "6" * 32, "RecordingUrl": "https://x/RE6", "RecordingDuration": "0"}
    resp = signed_post(client, "/voice/recorded?node=record", empty)
    assert services(app).menus.text("en", "nothing_recorded").encode() in resp.data
    assert b"<Record" in resp.data
    # pressing keep with nothing recorded cannot create a message
    assert count(app, Message) == 0


def test_phone_numbers_never_reach_the_logs_or_the_database(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    number = "+679 555 0199"
    with caplog.at_level("DEBUG"):
        signed_post(client, "/voice/incoming", {"CallSid": "CA" + "7" * 32, "From": number})
        client.post("/voice/incoming", data={"CallSid": "CA" + "8" * 32, "From": number})  # refused, logged
    assert "5550199" not in caplog.text.replace(" ", "")
    db = services(app).db
    with db.engine.connect() as conn:
        for table in ("callers", "calls"):
            rows = conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall()
            assert rows and all("5550199" not in str(row) for row in rows)


field_text = st.text(max_size=60)
forms = st.fixed_dictionaries(
    {"CallSid": st.one_of(st.just("CA" + "9" * 32), field_text)},
    optional={"Digits": field_text, "From": field_text, "RecordingSid": field_text, "RecordingUrl": field_text,
              "RecordingDuration": field_text, "CallStatus": field_text, "CallDuration": field_text},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=forms, path=st.sampled_from(["/voice/incoming", "/voice/step?node=main", "/voice/step?node=../x",
                                         "/voice/recorded?node=record", "/voice/recording-status", "/voice/status"]))
def test_any_signed_payload_gets_twiml_or_a_clear_4xx(app: Flask, form: dict[str, str], path: str) -> None:
    resp = signed_post(app.test_client(), path, form)
    live = path.split("?")[0] in ("/voice/incoming", "/voice/step", "/voice/recorded")
    if live:
        assert resp.status_code == 200, resp.data
    else:
        assert resp.status_code in (200, 400), resp.data
    if resp.status_code == 200:
        assert resp.mimetype == "application/xml" and resp.data.startswith(b"<?xml")
        assert b"<Response" in resp.data

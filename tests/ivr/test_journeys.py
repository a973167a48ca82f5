"""Whole calls placed through the phone emulator with signed requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from ivr.core.models import Call, Caller, Message, Recording
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script


def texts(app: Flask, lang: str, *ids: str) -> list[str]:
    menus = services(app).menus
    return [menus.text(lang, i) for i in ids]


def test_new_caller_reports_a_problem_and_hears_reference_twice(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    log = phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]))
    said = log.said()
    # every offered language option is spoken in its own language; Fijian has neither recordings nor a
    # Twilio voice here, so it is not offered (tests/prompts shows it offered once recorded)
    for lang in ("en", "fr", "hi"):
        assert services(app).menus.text(lang, "language_option") in said
    assert services(app).menus.text("fj", "language_option") not in said
    assert services(app).offered_languages() == ("en", "fr", "hi")
    assert log.hung_up
    svc = services(app)
    with svc.db.session() as s:
        message = s.scalars(select(Message)).one()
        assert (message.language, message.topic, message.place, message.consent) == ("en", "water", "ba", "agency")
        assert message.confirmed and message.caller_id is not None
        assert message.recording is not None and message.recording.recording_sid == log.recordings[0]
    digits = [svc.menus.text("en", f"digit_{d}") for d in message.reference]
    # the reference number is read digit by digit, twice, then goodbye
    joined = "|".join(said)
    assert joined.count("|".join(digits)) == 2
    assert said[-1] == svc.menus.text("en", "goodbye")


def test_french_caller_hears_french_and_is_remembered(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    log = phone.call(Script(["2", "3", None, None, None]))
    assert texts(app, "fr", "no_announcements")[0] in log.said()
    assert all(h.language == "fr-FR" for h in log.heard[4:] if h.kind == "say")
    second = phone.call(Script([None, None, None]))
    assert second.said()[0] == texts(app, "fr", "main_menu")[0]  # straight to the main menu, in French
    assert second.said()[-1] == texts(app, "fr", "too_many_tries")[0]
    with services(app).db.session() as s:
        caller = s.scalars(select(Caller)).one()
        assert caller.language == "fr" and caller.calls_count == 2
        assert "+679" not in caller.number_hash


def test_returning_caller_can_change_language_with_9(app: Flask, phone: Phone) -> None:
    phone.call(Script(["1", None, None, None]))
    log = phone.call(Script(["9", "3", None, None, None]))
    assert texts(app, "hi", "main_menu")[0] in log.said()
    with services(app).db.session() as s:
        assert s.scalars(select(Caller)).one().language == "hi"


def test_anonymous_report_keeps_no_link_to_the_phone(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.call(Script(["1", "1", "2", "3", "2", "REC", "1"], [speech_wav]))
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        assert message.consent == "anonymous" and message.caller_id is None
        assert message.topic == "health" and message.place == "nadi"


def test_record_again_and_listen_back(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    log = phone.call(Script(["1", "1", "1", "1", "3", "REC", "2", "REC", "3", "1"], [speech_wav, speech_wav]))
    plays = [h.text for h in log.heard if h.kind == "play"]
    assert plays and plays[-1].endswith(log.recordings[1])  # listened back to the second take
    with services(app).db.session() as s:
        recs = {r.recording_sid: r for r in s.scalars(select(Recording))}
        assert recs[log.recordings[0]].discarded and recs[log.recordings[0]].message_id is None
        message = s.scalars(select(Message)).one()
        assert message.recording is not None and message.recording.recording_sid == log.recordings[1]
        assert message.consent == "radio"


def test_silence_at_the_beep_asks_again(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    log = phone.call(Script(["1", "1", "1", "1", "1", None, "REC", "1"], [speech_wav]))
    assert texts(app, "en", "nothing_recorded")[0] in log.said()
    with services(app).db.session() as s:
        assert len(s.scalars(select(Message)).all()) == 1


def test_hear_answer_status_and_unknown_reference(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.call(Script(["1", "1", "4", "2", "1", "REC", "1"], [speech_wav]))
    with services(app).db.session() as s:
        reference = s.scalars(select(Message)).one().reference
    log = phone.call(Script(["2", "99999999#", f"{reference}#", None, None, None]))
    said = log.said()
    assert texts(app, "en", "reference_unknown")[0] in said
    assert texts(app, "en", "status_received")[0] in said


def test_wrong_keys_end_in_polite_goodbye_not_dead_air(app: Flask, phone: Phone) -> None:
    log = phone.call(Script(["7", "8", "*"]))
    said = log.said()
    assert said.count(texts(app, "en", "invalid_choice")[0]) == 2
    assert said[-1] == texts(app, "en", "too_many_tries")[0]
    assert log.hung_up


def test_operator_transfer_after_too_many_tries(tmp_path, sqlite_url: str, media) -> None:  # type: ignore[no-untyped-def]
    from ivr import create_app
    from ivr.voice.emulator import FlaskTransport
    from tests.conftest import AUTH_TOKEN, BASE_URL, make_config

    app = create_app(make_config(tmp_path, sqlite_url, operator_number="+6793312345"))
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    log = phone.call(Script([None, None, None]))
    assert log.dialled == ["+6793312345"]
    assert texts(app, "en", "transferring")[0] in log.said()


def test_hangup_after_recording_still_keeps_the_message(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    class HangsUp(Script):
        def keys(self, heard, gather):  # type: ignore[no-untyped-def]
            if not self.steps:
                raise HangupNow
            return super().keys(heard, gather)

    class HangupNow(Exception):
        pass

    script = HangsUp(["1", "1", "1", "1", "1", "REC"], [speech_wav])
    try:
        phone.call(script)
    except HangupNow:
        pass
    with services(app).db.session() as s:
        call = s.scalars(select(Call)).one()
        call_sid = call.call_sid
    phone_log_post = phone.post
    from ivr.voice.emulator import CallLog

    ended = {"CallStatus": "completed", "CallDuration": "30"}
    phone_log_post(CallLog(call_sid), f"{phone.base_url}/voice/status", ended)
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        assert not message.confirmed and message.status == "received"
        # The choices travelled in the URLs until the recording; the row held them when the caller hung up.
        assert (message.topic, message.place, message.consent) == ("water", "suva", "agency")
        call = s.scalars(select(Call)).one()
        assert call.status == "completed" and call.duration_seconds == 30
        assert json.loads(call.state)["reference"] == message.reference

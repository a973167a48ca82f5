"""An agency's answer reaches the caller by an outbound call: spoken, placed, heard, retried, tracked."""

from __future__ import annotations

import json
import time
import wave
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from ivr.core.config import Config
from ivr.core.models import Answer, Message
from ivr.core.models.delivery import CallAttempt, CallbackNumber, CallEvent
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script
from ivr.voice.outbound_calls import DELIVER_ANSWER_JOB
from tests.conftest import BASE_URL, finish_jobs
from tests.delivery.conftest import (
    CALLER_NUMBER,
    HOTLINE_NUMBER,
    add_report,
    answer_url_of,
    attempts_of,
    call_status,
    delivery_of,
    signed_post,
    wait_for,
)
from tests.delivery.fake_twilio import FakeTwilio, TwilioFault

REPORT_WITH_CALLBACK = ["1", "1", "1", "5", "1", "REC", "1"]  # English, report, water, Ba, consent 1, keep
REPORT_ANONYMOUS = ["1", "1", "1", "5", "2", "REC", "1"]


def deliver(app: Flask, answer_id: int) -> None:
    """Enqueue the job as the dashboard does, and wait for it (and the call job it queues)."""
    services(app).queue.enqueue(DELIVER_ANSWER_JOB, answer_id, job_id=f"deliver-answer-{answer_id}")
    finish_jobs(app)


def answer_report(app: Flask, text: str) -> int:
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        answer = Answer(message_id=message.id, text=text)
        s.add(answer)
        s.flush()
        return answer.id


def test_text_answer_is_spoken_and_called_through_to_a_consenting_caller(
        app: Flask, phone: Phone, speech_wav: bytes, twilio: FakeTwilio, config: Config) -> None:
    phone.from_number = CALLER_NUMBER
    phone.call(Script(list(REPORT_WITH_CALLBACK), [speech_wav]))
    finish_jobs(app)
    answer_id = answer_report(app, "The water pipe at Ba will be repaired on Monday.")
    deliver(app, answer_id)

    with services(app).db.session() as s:
        answer = s.get(Answer, answer_id)
        assert answer is not None and answer.audio_path is not None
        audio_path = answer.audio_path
    wav_path = config.data_dir / "answers" / audio_path
    with wave.open(str(wav_path)) as wav:  # telephone audio, several seconds of speech
        assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)
        assert wav.getnframes() / wav.getframerate() > 2.0
    meta = json.loads(wav_path.with_suffix(".json").read_text())
    assert (meta["engine"], meta["language"]) == ("espeak-ng", "en")

    [post] = twilio.created()
    assert post.one("To") == CALLER_NUMBER and post.one("From") == HOTLINE_NUMBER
    assert post.one("Url").startswith(f"{BASE_URL}/voice/outbound?delivery=")
    assert post.one("StatusCallback").startswith(f"{BASE_URL}/voice/outbound-status?delivery=")
    assert post.one("Timeout") == str(config.call_ring_seconds)
    assert post.sid is not None

    call = phone.answer(post.one("Url"), Script(["1", None]), post.sid)  # hear it, press 1 to hear it again
    answer_url = answer_url_of(app, answer_id)
    assert [h.text for h in call.heard if h.kind == "play"].count(answer_url) == 2
    said = call.said()
    assert said[0] == "Hello, this is Talanoa Hotline, with an answer to your report."
    assert "Here is the answer to your report." in said and said[-1].startswith("Thank you for calling")
    assert call.hung_up
    assert {e.form["Direction"] for e in call.exchanges} == {"outbound-api"}

    client = app.test_client()
    for status in ("initiated", "ringing", "in-progress", "completed"):
        assert call_status(client, post, status, CallDuration="42").status_code == 200
    delivery = delivery_of(app, answer_id)
    assert (delivery.status, delivery.attempts, delivery.last_outcome) == ("completed", 1, "completed")
    assert attempts_of(config, delivery.id) == [(1, "completed", True)]
    with client.get(answer_url.removeprefix(BASE_URL)) as audio:
        assert audio.status_code == 200 and audio.data[:4] == b"RIFF"


def test_french_answer_is_spoken_in_french(app: Flask, twilio: FakeTwilio, config: Config, phone: Phone) -> None:
    answer_id = add_report(config, consent="radio", language="fr",
                           text="La conduite d'eau de Ba sera réparée lundi.")
    deliver(app, answer_id)
    with services(app).db.session() as s:
        answer = s.get(Answer, answer_id)
        assert answer is not None and answer.audio_path is not None and answer.audio_path.startswith("spoken/fr/")
    [post] = twilio.created()
    call = phone.answer(post.one("Url"), Script([None]), post.sid)
    greeting = next(h for h in call.heard if h.kind == "say")
    assert (greeting.text, greeting.language) == ("Bonjour, ici Talanoa Hotline, avec une réponse à votre signalement.",
                                                  "fr-FR")


def test_anonymous_caller_is_never_called(app: Flask, phone: Phone, speech_wav: bytes, twilio: FakeTwilio) -> None:
    phone.call(Script(list(REPORT_ANONYMOUS), [speech_wav]))
    finish_jobs(app)
    answer_id = answer_report(app, "Thank you, the pipe is fixed.")
    deliver(app, answer_id)
    delivery = delivery_of(app, answer_id)
    assert delivery.status == "held" and delivery.held_reason is not None and "consent" in delivery.held_reason
    assert delivery.caller_id is None
    assert twilio.posts == []
    with services(app).db.session() as s:
        assert s.scalars(select(CallbackNumber)).all() == []


def test_busy_is_retried_then_completed_and_callbacks_count_once(app: Flask, twilio: FakeTwilio, config: Config,
                                                                 phone: Phone) -> None:
    answer_id = add_report(config, consent="agency")
    deliver(app, answer_id)
    [first] = twilio.created()
    client = app.test_client()
    for status in ("initiated", "ringing", "busy", "busy", "ringing"):  # Twilio may repeat and reorder callbacks
        assert call_status(client, first, status).status_code == 200
    wait_for(lambda: len(twilio.created()) == 2, what="the retry after busy")  # 0.6 s later
    second = twilio.created()[1]
    assert second.one("Url").endswith("attempt=2") and second.one("To") == CALLER_NUMBER
    time.sleep(1.5)
    assert len(twilio.created()) == 2  # the repeated "busy" scheduled nothing more
    phone.answer(second.one("Url"), Script([None]), second.sid)
    call_status(client, second, "in-progress")
    call_status(client, second, "completed", CallDuration="20")
    delivery = delivery_of(app, answer_id)
    assert (delivery.status, delivery.attempts) == ("completed", 2)
    assert attempts_of(config, delivery.id) == [(1, "busy", False), (2, "completed", True)]
    with services(app).db.session() as s:
        events = s.scalars(select(CallEvent.status).where(CallEvent.call_sid == first.sid)).all()
    assert sorted(events) == ["busy", "initiated", "ringing"]  # each status stored once


def test_unanswered_calls_give_up_after_the_limit(tmp_path: Path, database_url: str, twilio: FakeTwilio) -> None:
    from ivr import create_app
    from tests.delivery.conftest import delivery_config

    config = delivery_config(tmp_path, database_url, twilio, call_attempts=2)
    app = create_app(config)
    answer_id = add_report(config, consent="agency")
    deliver(app, answer_id)
    client = app.test_client()
    call_status(client, twilio.created()[0], "no-answer")
    wait_for(lambda: len(twilio.created()) == 2, what="the second try")
    call_status(client, twilio.created()[1], "no-answer")
    time.sleep(1.5)
    finish_jobs(app)
    assert len(twilio.created()) == 2
    delivery = delivery_of(app, answer_id)
    assert (delivery.status, delivery.attempts, delivery.last_outcome) == ("failed", 2, "no-answer")


def test_a_number_twilio_refuses_fails_without_storing_it(app: Flask, twilio: FakeTwilio, config: Config) -> None:
    twilio.faults.append(TwilioFault(400, 21211, f"The 'To' number {CALLER_NUMBER} is not a valid phone number."))
    answer_id = add_report(config, consent="agency")
    deliver(app, answer_id)
    delivery = delivery_of(app, answer_id)
    assert delivery.status == "failed" and twilio.created() == []
    with services(app).db.session() as s:
        [attempt] = s.scalars(select(CallAttempt).where(CallAttempt.delivery_id == delivery.id)).all()
    assert attempt.status == "error" and attempt.error is not None and "21211" in attempt.error
    # Twilio's message quoted the number: what is stored has it redacted.
    for stored in (attempt.error, delivery.held_reason or ""):
        assert "9990000" not in stored


def test_twilio_down_is_retried(app: Flask, twilio: FakeTwilio, config: Config) -> None:
    twilio.faults.append(TwilioFault(503, 20500, "Service Unavailable"))
    answer_id = add_report(config, consent="agency")
    deliver(app, answer_id)
    wait_for(lambda: len(twilio.created()) == 1, what="the try after Twilio's 503")
    finish_jobs(app)  # the job stores Twilio's answer (sid, "queued") after the server has sent it
    delivery = delivery_of(app, answer_id)
    assert (delivery.status, delivery.attempts) == ("calling", 2)
    assert [status for _, status, _ in attempts_of(config, delivery.id)] == ["error", "queued"]


def test_text_in_a_language_no_voice_speaks_is_held(app: Flask, twilio: FakeTwilio, config: Config) -> None:
    answer_id = add_report(config, consent="agency", language="fj", text="Sa vakavinakataki na paipo.")
    deliver(app, answer_id)
    delivery = delivery_of(app, answer_id)
    assert delivery.status == "held" and "fj" in (delivery.held_reason or "")
    assert twilio.posts == []


def test_outbound_webhooks_check_their_input(app: Flask, twilio: FakeTwilio) -> None:
    client = app.test_client()
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed"}
    assert client.post("/voice/outbound-status?delivery=1&attempt=1", data=form).status_code == 403  # unsigned
    assert signed_post(client, "/voice/outbound-status?delivery=1", form).status_code == 400
    assert signed_post(client, "/voice/outbound-status?delivery=1&attempt=1",
                       {**form, "CallStatus": "exploded"}).status_code == 400
    # A status for a delivery that does not exist is accepted and changes nothing.
    assert signed_post(client, "/voice/outbound-status?delivery=999&attempt=1", form).status_code == 200
    # The TwiML route always answers TwiML: unknown delivery, missing arguments, garbage keys.
    for path, extra in (("/voice/outbound?delivery=999&attempt=1", {}), ("/voice/outbound", {}),
                        ("/voice/outbound?delivery=abc&attempt=1&step=menu", {"Digits": "<script>"})):
        resp = signed_post(client, path, {"CallSid": "CA" + "2" * 32, **extra})
        assert resp.status_code == 200 and resp.mimetype == "application/xml" and b"<Hangup" in resp.data

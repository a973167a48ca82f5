"""The prompt-recording line: a speaker keys the PIN, hears each missing prompt, records, redoes, keeps; the
kept take lands where operator-page uploads land."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.core.services import services
from ivr.operator.prompt_line import missing, phrases
from ivr.voice.emulator import HANG_UP, FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs, make_config

PIN = "246813"


@pytest.fixture
def line_app(tmp_path: Path, sqlite_url: str) -> Iterator[Flask]:
    app = create_app(make_config(tmp_path, sqlite_url, prompt_line_pin=PIN))
    yield app
    finish_jobs(app)


def test_a_speaker_records_redoes_and_keeps_a_fijian_prompt(line_app: Flask, media: MediaHost,
                                                            speech_wav: bytes) -> None:
    svc = services(line_app)
    phone = Phone(FlaskTransport(line_app.test_client()), AUTH_TOKEN, BASE_URL, media)
    first, second = missing(svc, "fj")[:2]
    log = phone.call(Script(["111111", PIN, "4", "REC", "2", "REC", "1", HANG_UP], [speech_wav, speech_wav]),
                     path="/voice/prompt-line/incoming")
    said = log.said()
    words = phrases(svc)
    assert words["wrong_pin"] not in said and said.count(words["enter_pin"]) == 2  # one wrong PIN, asked again
    assert svc.menus.text("en", first) in said  # what callers hear in English (no audio here: its text spoken)
    assert svc.menus.text("fj", first) in said  # and the Fijian written text
    played = [h.text for h in log.heard if h.kind == "play"]
    assert all(any(p.startswith(u) for p in played) for u in media_urls(log))  # each take played back
    assert svc.menus.text("en", second) in said  # moved on to the next missing prompt after keeping
    finish_jobs(line_app)
    stored = Path(svc.config.prompt_recordings_dir) / "fj" / f"{first}.wav"
    assert stored.is_file()
    svc.prompts.library.refresh()
    found = svc.prompts.library.find("fj", first)
    assert found is not None and found.source == "human"
    assert first not in missing(svc, "fj") and second in missing(svc, "fj")
    fetched = [path for method, path in media.requests if method == "GET"]
    assert len(fetched) == 1 and log.recordings[1] in fetched[0]  # only the kept take, not the redone one


def media_urls(log: object) -> list[str]:
    return [e.form["RecordingUrl"] for e in log.exchanges if "RecordingUrl" in e.form]  # type: ignore[attr-defined]


def test_three_wrong_pins_end_the_call_and_the_rest_needs_the_pin(line_app: Flask, media: MediaHost) -> None:
    svc = services(line_app)
    phone = Phone(FlaskTransport(line_app.test_client()), AUTH_TOKEN, BASE_URL, media)
    log = phone.call(Script(["1", "22", "333"]), path="/voice/prompt-line/incoming")
    assert log.said()[-2:] == [phrases(svc)["wrong_pin"], phrases(svc)["goodbye"]] and log.hung_up
    client = line_app.test_client()
    url = f"{BASE_URL}/voice/prompt-line/language"  # signed, but without the ok=1 our TwiML adds after the PIN
    form = {"CallSid": "CA" + "1" * 32, "Digits": "4"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    assert client.post("/voice/prompt-line/language", data=form,
                       headers={"X-Twilio-Signature": signature}).status_code == 403
    assert client.post("/voice/prompt-line/language?ok=1", data=form).status_code == 403  # unsigned
    silent = phone.call(Script([PIN, "4", None, None, None]), path="/voice/prompt-line/incoming")
    assert silent.said().count(phrases(svc)["nothing_heard"]) == 3 and silent.said()[-1] == phrases(svc)["goodbye"]


def test_the_line_is_off_without_a_pin(app: Flask) -> None:
    assert app.test_client().post("/voice/prompt-line/incoming", data={"CallSid": "CA1"}).status_code == 404

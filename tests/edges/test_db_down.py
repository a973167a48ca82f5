"""A database that does not answer at the end of a call loses nothing: callbacks are parked, then replayed."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from ivr import create_app
from ivr.core.models import Message, Recording
from ivr.core.runtime import set_config
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, BASE_URL, finish_jobs, make_config
from tests.worker.conftest import free_port
from worker.jobs import sweep


def test_end_of_call_while_the_database_is_down_keeps_the_message(tmp_path: Path, sqlite_url: str,
                                                                  media: MediaHost, speech_wav: bytes) -> None:
    up = make_config(tmp_path, sqlite_url)
    app = create_app(up)
    # The caller records, then says nothing at "press 1 to keep" until the goodbye; Twilio's callbacks are held back.
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, recording_callback="none",
                  status_callback=False)
    log = phone.call(Script(["1", "1", "1", "5", "1", "REC", None, None, None], [speech_wav]))
    [rec_sid] = log.recordings
    # The database stops answering (here: the same hotline, its database on a port nobody listens on).
    down_app: Flask = create_app(make_config(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"))
    client = down_app.test_client()
    base = {"CallSid": log.call_sid, "AccountSid": ACCOUNT_SID, "From": phone.from_number, "To": phone.to_number,
            "Direction": "inbound"}
    url = f"{media.base}/2010-04-01/Accounts/{media.account_sid}/Recordings/{rec_sid}"
    status_form = {**base, "RecordingSid": rec_sid, "RecordingUrl": url, "RecordingStatus": "completed",
                   "RecordingDuration": "3"}
    end_form = {**base, "CallStatus": "completed", "CallDuration": "40"}
    for path, form in (("/voice/recording-status", status_form), ("/voice/status", end_form)):
        resp = client.post(path, data=form, headers=phone.sign(BASE_URL + path, form))
        assert resp.status_code == 200  # today: 500, and Twilio does not send it again
    parked = sorted((up.data_dir / "journal").glob("*.json"))
    assert len(parked) == 2
    assert phone.from_number not in "".join(p.read_text() for p in parked)  # the number is sealed
    with services(app).db.session() as s:
        assert s.scalars(select(Message)).all() == []  # a recording with no message, until the replay

    set_config(up)
    run = sweep()  # the database is back: the sweeper replays the journal
    assert run.problems == []
    finish_jobs(app)
    assert list((up.data_dir / "journal").glob("*.json")) == []
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        rec = s.scalars(select(Recording)).one()
        assert rec.message_id == message.id and not message.confirmed
        assert rec.twilio_status == "completed"


def test_unknown_call_sid_callback_parks_nothing_when_the_database_answers(app: Flask, phone: Phone) -> None:
    form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": "+6799990000",
            "To": "+6793300000", "CallStatus": "completed", "Direction": "inbound"}
    resp = app.test_client().post("/voice/status", data=form, headers=phone.sign(BASE_URL + "/voice/status", form))
    assert resp.status_code == 200
    assert not (app.extensions["hotline"].config.data_dir / "journal").exists()


def test_a_recording_whose_record_step_met_a_dead_database_still_gets_its_message(
        tmp_path: Path, sqlite_url: str, media: MediaHost, speech_wav: bytes) -> None:
    up = make_config(tmp_path, sqlite_url)
    app = create_app(up)
    down_app = create_app(make_config(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"))
    phone = Phone(FlaskTransport(down_app.test_client()), AUTH_TOKEN, BASE_URL, media)
    rec_sid, url = media.add(speech_wav)
    form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": phone.from_number,
            "To": phone.to_number, "Direction": "inbound", "CallStatus": "in-progress", "RecordingSid": rec_sid,
            "RecordingUrl": url, "RecordingDuration": "3", "Digits": "#"}
    target = BASE_URL + "/voice/recorded?node=record"
    resp = down_app.test_client().post("/voice/recorded?node=record", data=form, headers=phone.sign(target, form))
    assert resp.status_code == 200 and resp.mimetype == "application/xml"  # the caller hears a polite error
    assert len(list((up.data_dir / "journal").glob("*.json"))) == 1

    set_config(up)
    assert sweep().problems == []
    finish_jobs(app)
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        assert s.scalars(select(Recording)).one().message_id == message.id and not message.confirmed

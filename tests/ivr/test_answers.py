"""A caller keys their reference number and hears the agency's recorded answer."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from ivr.core.models import Answer, Message
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script


def test_caller_hears_recorded_answer(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.call(Script(["1", "1", "1", "2", "1", "REC", "1"], [speech_wav]))
    svc = services(app)
    answers = svc.config.data_dir / "answers"
    answers.mkdir(parents=True)
    (answers / "a1.wav").write_bytes(speech_wav)
    with svc.db.session() as s:
        message = s.scalars(select(Message)).one()
        s.add(Answer(message_id=message.id, audio_path="a1.wav"))
        reference = message.reference
    log = phone.call(Script(["2", f"{reference}#", None, None, None]))
    plays = [h.text for h in log.heard if h.kind == "play"]
    assert svc.menus.text("en", "answer_intro") in log.said()
    assert len(plays) == 1
    resp = app.test_client().get(plays[0].removeprefix(svc.config.public_base_url))
    assert resp.status_code == 200 and resp.data == speech_wav
    assert "max-age=86400" in resp.headers["Cache-Control"] and resp.headers.get("ETag")
    resp.close()


def test_typed_answer_is_spoken_and_escaped(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.call(Script(["1", "1", "1", "2", "1", "REC", "1"], [speech_wav]))
    svc = services(app)
    with svc.db.session() as s:
        message = s.scalars(select(Message)).one()
        s.add(Answer(message_id=message.id, text="The pipe in Nausori is fixed <b>today</b> & tested."))
        reference = message.reference
    log = phone.call(Script(["2", f"{reference}#", None, None, None]))
    assert "The pipe in Nausori is fixed <b>today</b> & tested." in log.said()
    body = log.exchanges[2].body
    assert "&lt;b&gt;today&lt;/b&gt; &amp; tested" in body


def test_answer_outside_the_answers_folder_is_not_served(app: Flask, speech_wav: bytes) -> None:
    svc = services(app)
    (svc.config.data_dir).mkdir(parents=True, exist_ok=True)
    (svc.config.data_dir / "secret.wav").write_bytes(speech_wav)
    with svc.db.session() as s:
        m = Message(reference="12345678", language="en", consent="agency")
        s.add(m)
        s.flush()
        a = Answer(message_id=m.id, audio_path="../secret.wav")
        s.add(a)
        s.flush()
        answer_id = a.id
    assert app.test_client().get(f"/answers/{answer_id}/audio").status_code == 404
    assert app.test_client().get("/answers/999/audio").status_code == 404

"""A typed answer to a Fijian message: no voice speaks Fijian, so the official is warned before sending, and
the caller's next call plays nothing wrong (the status, in Fijian recordings; never English <Say> reading Fijian)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from ivr.core.models import Answer, Message
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from menus import load_menus
from tests.accounts_helpers import add_user, csrf_from, login
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs
from tests.prompts.conftest import record_humans

TYPED = "Sa vakacavari na paipo ni wai ena Sigatoka."


def test_a_typed_answer_to_a_fijian_message(prompt_app: Callable[..., Flask], menus_copy: Path, media: MediaHost,
                                            sqlite_url: str) -> None:
    record_humans(menus_copy, "fj", load_menus(menus_copy).required_prompts())
    app = prompt_app(menus_dir=menus_copy, database_url=sqlite_url)
    svc = services(app)
    with svc.db.session() as db:
        english = Message(reference="41000001", language="en", topic="water", place="ba", consent="none",
                          agency="water", routing_reason="topic=water → water")
        fijian = Message(reference="41000002", language="fj", topic="water", place="ba", consent="none",
                         agency="water", routing_reason="topic=water → water")
        db.add_all([english, fijian])
        db.flush()
        fijian_id, english_id = fijian.id, english.id
    add_user(svc.config, "official@example.org", "official", "water")
    official = app.test_client()
    assert login(official, "official@example.org").status_code == 302
    assert 'id="no-voice-warning"' not in official.get(f"/dashboard/messages/{english_id}").get_data(as_text=True)
    page = official.get(f"/dashboard/messages/{fijian_id}").get_data(as_text=True)
    assert 'id="no-voice-warning"' in page and "No voice speaks Vosa vaka-Viti" in page
    sent = official.post(f"/dashboard/messages/{fijian_id}/answers",
                         data={"csrf_token": csrf_from(page), "source": "text", "text": TYPED})
    assert sent.status_code == 302
    finish_jobs(app)
    with svc.db.session() as db:
        answer = db.scalars(select(Answer).where(Answer.message_id == fijian_id)).one()
        assert answer.text == TYPED and answer.audio_path is None  # nothing could speak it

    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, from_number="+6797000003")
    log = phone.call(Script(["4", "2", "41000002#", None, None, None]))
    chosen = next(i for i, h in enumerate(log.heard) if h.kind == "play" and "/prompts/fj/" in h.text
                  and "language_option" not in h.text)
    after = log.heard[chosen:]
    assert not [h for h in after if h.kind == "say"]  # no voice of another language, no default voice
    assert TYPED not in log.said()
    plays = [h.text for h in after if h.kind == "play"]
    assert any("/prompts/fj/status_answered.wav" in p for p in plays)  # the caller hears the status instead

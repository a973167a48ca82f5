"""A Fijian caller and an open poll: no voice speaks Fijian, so the poll is offered in Fijian once a host
has recorded its question (the typed text alone is never read by another language's voice)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile
from flask import Flask

from ivr.core.services import services
from ivr.radio.polls import check_poll, create_poll, poll_results
from ivr.voice.media_host import MediaHost
from menus import load_menus
from tests.accounts_helpers import add_user, csrf_from, login
from tests.conftest import AUDIO_DIR, BASE_URL
from tests.prompts.conftest import POLL_SPOKEN, fijian_call, record_humans


def test_a_fijian_caller_is_offered_the_poll_once_its_question_is_recorded(
        prompt_app: Callable[..., Flask], menus_copy: Path, media: MediaHost, sqlite_url: str) -> None:
    record_humans(menus_copy, "fj", load_menus(menus_copy).required_prompts())
    app = prompt_app(menus_dir=menus_copy, database_url=sqlite_url)
    svc = services(app)
    assert "fj" in svc.offered_languages()
    draft = check_poll("Market on Sundays?", ["Yes", "No"], POLL_SPOKEN, tuple(svc.menus.languages))
    with svc.db.session() as session:
        poll_id = create_poll(session, draft, user_id=None, data_dir=svc.config.data_dir).id

    # The host typed the Fijian question, but nothing can speak it: not offered, and the page says so.
    plays = fijian_call(app, media, "+6797000001", ["4", None, None, None], BASE_URL)
    assert not any("/prompts/fj/poll_offer.wav" in p for p in plays)
    add_user(svc.config, "host@station.example", "radio")
    host = app.test_client()
    assert login(host, "host@station.example").status_code == 302
    page = host.get("/radio/polls/").get_data(as_text=True)
    assert 'data-lang="fj" data-offered="no"' in page and 'data-lang="en" data-offered="yes"' in page
    # Why each is not offered: Fijian has no voice; French has one, but the host gave no French question.
    lines = dict(re.findall(r'<li data-lang="(\w+)" data-offered="no">([^<]*)</li>', page))
    assert "no voice speaks it" in lines["fj"] and "no question in this language" not in lines["fj"]
    assert "no question in this language" in lines["fr"] and "no voice" not in lines["fr"]

    # A file that is not audio is refused, saying why; a real recording is kept and offered at once.
    token = csrf_from(page)
    bad = host.post(f"/radio/polls/{poll_id}/recording", content_type="multipart/form-data",
                    data={"csrf_token": token, "lang": "fj", "audio": (io.BytesIO(b"not audio"), "q.wav")})
    assert bad.status_code == 400 and "not audio this hotline can read" in bad.get_data(as_text=True)
    samples, rate = soundfile.read(AUDIO_DIR / "osr_us_0011_01.wav", dtype="float32")
    wav = io.BytesIO()
    soundfile.write(wav, np.asarray(samples), rate, format="WAV")
    ok = host.post(f"/radio/polls/{poll_id}/recording", content_type="multipart/form-data",
                   data={"csrf_token": token, "lang": "fj", "audio": (io.BytesIO(wav.getvalue()), "question.wav")})
    assert ok.status_code == 302, ok.get_data(as_text=True)
    assert 'data-lang="fj" data-offered="yes"' in host.get("/radio/polls/").get_data(as_text=True)

    plays = fijian_call(app, media, "+6797000002", ["4", "4", "1", None, None, None], BASE_URL)
    assert any("/prompts/fj/poll_offer.wav" in p for p in plays)
    question = [p for p in plays if f"/polls/{poll_id}/fj.wav" in p]
    assert question
    with app.test_client().get(question[0].replace(BASE_URL, "")) as audio:
        assert audio.status_code == 200 and audio.data[:4] == b"RIFF"
    with svc.db.session() as session:
        assert poll_results(session, poll_id) == [(1, "Yes", 1), (2, "No", 0)]

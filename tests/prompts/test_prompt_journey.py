"""A French caller reports a problem end to end hearing only recorded or synthesised audio, never <Say>."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from ivr.core.models import Message
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.prompts.conftest import telephone_wav_problems


def test_french_caller_reports_hearing_only_prompts_that_serve_audio(
        prompt_app: Callable[..., Flask], rendered_cache: Path, media: MediaHost, speech_wav: bytes,
        sqlite_url: str) -> None:
    app = prompt_app(prompts_cache_dir=rendered_cache, database_url=sqlite_url)
    client = app.test_client()
    phone = Phone(FlaskTransport(client), AUTH_TOKEN, BASE_URL, media)
    log = phone.call(Script(["2", "1", "1", "5", "1", "REC", "1"], [speech_wav]))
    assert log.hung_up
    spoken = [h for h in log.heard if h.kind in ("say", "play")]
    assert spoken and all(h.kind == "play" for h in spoken), [h for h in spoken if h.kind == "say"]

    svc = services(app)
    with svc.db.session() as session:
        message = session.scalars(select(Message)).one()
        assert message.language == "fr" and (message.topic, message.place) == ("water", "ba")
        reference = message.reference
    paths = [urlsplit(h.text).path for h in spoken]
    # after the language menu (one option per offered language, each in its own language) all is French
    assert paths[:3] == [f"/prompts/{code}/language_option.wav" for code in ("en", "fr", "hi")]
    assert all(p.startswith("/prompts/fr/") for p in paths[3:])
    digits = [f"/prompts/fr/digit_{d}.wav" for d in reference]
    assert "|".join(paths).count("|".join(digits)) == 2  # the reference, digit by digit, twice
    assert paths[-1] == "/prompts/fr/goodbye.wav"

    for url in sorted({h.text for h in spoken}):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
        with client.get(f"{parts.path}?{parts.query}") as served:
            assert served.status_code == 200, url
            assert telephone_wav_problems(served.data) == [], url

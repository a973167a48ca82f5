"""The operator page through Flask's test client: login, CSRF, uploads good and bad, reviews, escaping."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.core.models.accounts import AuditEvent
from ivr.core.prompt_audio import HUMAN
from ivr.core.services import services
from ivr.operator.reviews import review_of
from speech.telephone_audio import check_playable
from tests.prompts.conftest import OPERATOR_TOKEN, speech_files

REFUSED = "recording for prompt 'goodbye' in language 'fr' refused"


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def speech(seconds: float, rate: int = 8000) -> np.ndarray:
    """Return real speech (looped) of the given length at the given rate."""
    samples, source_rate = soundfile.read(speech_files()[0], dtype="float32")
    assert source_rate == 8000
    looped = np.resize(samples, int(seconds * 8000))
    return np.interp(np.arange(int(seconds * rate)) * 8000 / rate, np.arange(len(looped)), looped).astype(np.float32)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def operator_app(prompt_app: Callable[..., Flask], rendered_cache: Path, sqlite_url: str) -> Flask:
    # The shared cache is only read: uploads go to HOTLINE_DATA_DIR/prompt-recordings. Migrated: operator
    # logins are kept in SQL (a logout ends them everywhere), and every upload and review is audited.
    return prompt_app(operator_token=OPERATOR_TOKEN, prompts_cache_dir=rendered_cache,
                      prompt_upload_max_bytes=200_000, database_url=sqlite_url)


def logged_in(app: Flask) -> tuple[FlaskClient, str]:
    """Log a test client in; return it and the CSRF token of its session."""
    client = app.test_client()
    token = csrf_of(client.get("/operator/login").get_data(as_text=True))
    resp = client.post("/operator/login", data={"token": OPERATOR_TOKEN, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/operator/prompts")
    return client, csrf_of(client.get("/operator/prompts/fr").get_data(as_text=True))


def upload(client: FlaskClient, csrf: str, data: bytes, name: str = "take.wav", prompt: str = "goodbye"):  # type: ignore[no-untyped-def]
    return client.post(f"/operator/prompts/fr/{prompt}/recording", content_type="multipart/form-data",
                       data={"csrf_token": csrf, "recording": (io.BytesIO(data), name)})


def test_page_does_not_exist_without_an_operator_token(prompt_app: Callable[..., Flask]) -> None:
    client = prompt_app().test_client()
    for path in ("/operator/", "/operator/login", "/operator/prompts/fr"):
        assert client.get(path).status_code == 404
    assert client.post("/operator/login", data={"token": ""}).status_code == 404


def test_login_needs_the_token_and_a_csrf_token(operator_app: Flask) -> None:
    client = operator_app.test_client()
    assert client.get("/operator/prompts").headers["Location"].endswith("/operator/login")
    page = client.get("/operator/login")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    csrf = csrf_of(page.get_data(as_text=True))
    assert client.post("/operator/login", data={"token": OPERATOR_TOKEN}).status_code == 400  # no CSRF token
    wrong = client.post("/operator/login", data={"token": "not-the-token-at-all", "csrf_token": csrf})
    assert wrong.status_code == 403 and "That token is not right." in wrong.get_data(as_text=True)
    assert client.get("/operator/prompts").status_code == 302
    client, _ = logged_in(operator_app)
    index = client.get("/operator/prompts").get_data(as_text=True)
    required = len(services(operator_app).menus.required_prompts())  # grows as features add prompts
    assert re.search(rf'id="language-fr">.*?<td>0</td>\s*<td>{required}</td>\s*<td>0</td>', index, re.S)
    assert 'id="language-fj"' in index and "no: record the missing prompts" in index


def test_forged_or_missing_csrf_tokens_are_refused(operator_app: Flask) -> None:
    client, csrf = logged_in(operator_app)
    before = services(operator_app).prompts.library.find("fr", "goodbye")
    good = wav_bytes(speech(2.0), 8000)
    assert upload(client, "forged-" + csrf[7:], good).status_code == 400
    assert client.post("/operator/prompts/fr/reviewed", data={"reviewer": "x"}).status_code == 400
    assert services(operator_app).prompts.library.find("fr", "goodbye") == before
    # a token from another session is worth nothing here either
    _, other = logged_in(operator_app)
    assert upload(client, other, good).status_code == 400


def test_upload_converts_to_8khz_wav_and_becomes_the_human_source(operator_app: Flask) -> None:
    client, csrf = logged_in(operator_app)
    stereo_16k = np.stack([speech(3.0, 16000)] * 2, axis=1)
    resp = upload(client, csrf, wav_bytes(stereo_16k, 16000))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/operator/prompts/fr#prompt-goodbye")
    svc = services(operator_app)
    found = svc.prompts.library.find("fr", "goodbye")
    assert found is not None and found.source == HUMAN
    assert found.path == svc.config.prompt_recordings_dir / "fr" / "goodbye.wav"
    check = check_playable(found.path)
    assert check.playable and check.sample_rate == 8000 and check.channels == 1 and 2.9 < check.duration_s < 3.1
    page = client.get("/operator/prompts/fr").get_data(as_text=True)
    assert re.search(r'id="prompt-goodbye">.*?data-source="human"', page, re.S)
    assert "is now what callers hear" in page
    with svc.db.session() as db:  # the operator's change to what callers hear is audited
        rows = db.execute(select(AuditEvent.action, AuditEvent.target_id, AuditEvent.detail)).all()
    assert [(a, t) for a, t, _ in rows] == [("prompt_upload", "fr/goodbye")] and "operator token" in rows[0][2]


def _zero_frames() -> bytes:
    return wav_bytes(np.zeros(0, dtype=np.float32), 8000)


@pytest.mark.parametrize(("data", "name", "status", "why"), [
    (b"this is a text file, not a recording", "take.wav", 400, "not audio this hotline can read"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "take.mp3", 400, "not audio this hotline can read"),
    (b"", "take.wav", 400, "the file is empty"),
    (b"", "", 400, "no file was chosen"),
    ("zero", "take.wav", 400, "holds no sound (0 seconds)"),
    ("silent", "take.wav", 400, "silent"),
    ("long", "take.ogg", 400, "lasts 61 s; a prompt may last at most 60 s"),
    ("large", "take.wav", 413, "larger than the 200000 bytes allowed"),
])
def test_bad_uploads_are_refused_by_name_and_the_previous_audio_stays(
        operator_app: Flask, data: bytes | str, name: str, status: int, why: str) -> None:
    made = {"zero": _zero_frames, "silent": lambda: wav_bytes(np.zeros(16000, dtype=np.float32), 8000),
            "long": lambda: _ogg(speech(61.0)), "large": lambda: wav_bytes(speech(20.0), 8000)}
    body = made[data]() if isinstance(data, str) else data
    client, csrf = logged_in(operator_app)
    library = services(operator_app).prompts.library
    before = library.find("fr", "goodbye")
    resp = upload(client, csrf, body, name)
    text = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == status, text
    assert REFUSED in text and why in text and "the previous audio stays in service" in text
    assert library.find("fr", "goodbye") == before
    folder = services(operator_app).config.prompt_recordings_dir / "fr"
    assert not folder.exists() or not list(folder.iterdir())  # no temporary file left behind


def _ogg(samples: np.ndarray) -> bytes:
    # Ogg Vorbis keeps the body small: werkzeug's test client leaks the temporary file it spools
    # request bodies over 500 kB to, which warnings-as-errors would report.
    out = io.BytesIO()
    soundfile.write(out, samples, 8000, format="OGG", subtype="VORBIS")
    return out.getvalue()


def test_mark_reviewed_is_escaped_and_editing_a_prompt_makes_it_a_draft_again(operator_app: Flask) -> None:
    client, csrf = logged_in(operator_app)
    resp = client.post("/operator/prompts/fr/reviewed", data={"csrf_token": csrf, "reviewer": "Mere <b>V</b>"})
    assert resp.status_code == 302
    page = client.get("/operator/prompts/fr").get_data(as_text=True)
    assert "Translation reviewed (operator page, by Mere &lt;b&gt;V&lt;/b&gt;" in page and "<b>V</b>" not in page
    svc = services(operator_app)
    french = svc.menus.languages["fr"]
    assert review_of(french, svc.config.data_dir).reviewed
    from dataclasses import replace

    edited = replace(french, prompts={**french.prompts, "goodbye": "Au revoir et merci."})
    assert not review_of(edited, svc.config.data_dir).reviewed


def test_prompt_text_is_escaped_on_the_page(prompt_app: Callable[..., Flask], menus_copy: Path,
                                            sqlite_url: str) -> None:
    path = menus_copy / "prompts" / "fr.toml"
    body = re.sub(r"(?m)^goodbye = .*$", 'goodbye = "<script>alert(1)</script> Au revoir & merci"',
                  path.read_text(encoding="utf-8"))
    path.write_text(body, encoding="utf-8")
    app = prompt_app(operator_token=OPERATOR_TOKEN, menus_dir=menus_copy, database_url=sqlite_url)
    client, _ = logged_in(app)
    page = client.get("/operator/prompts/fr").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Au revoir &amp; merci" in page and "<script>" not in page


def test_unknown_language_or_prompt_is_404(operator_app: Flask) -> None:
    client, csrf = logged_in(operator_app)
    assert client.get("/operator/prompts/xx").status_code == 404
    good = wav_bytes(speech(1.0), 8000)
    assert upload(client, csrf, good, prompt="no_such_prompt").status_code == 404
    assert client.post("/operator/prompts/xx/goodbye/recording", data={"csrf_token": csrf}).status_code == 404

"""The polls page's recorder: a host records a poll's question in the browser (Fijian, which no voice speaks).

The route's contract first, through the test client as the page's script calls it (header X-Requested-With:
recorder): every refusal is a status with a plain-text reason the page shows. Then the page in headless
Chromium with its fake microphone: record, listen back, keep; a Fijian caller is offered the poll and hears
that recording; the page says so when there is no microphone, and offers only the upload where the browser
cannot record.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import TestResponse, encode_multipart

from ivr.core.models.accounts import AuditEvent
from ivr.core.models.radio import RadioPoll
from ivr.core.services import services
from ivr.radio.polls import MAX_RECORDED_BYTES, check_poll, close_poll, create_poll, poll_results, question_audio
from ivr.voice.media_host import MediaHost
from menus import load_menus
from tests.accounts_helpers import PASSWORD, add_user, csrf_from, login
from tests.conftest import AUDIO_DIR, BASE_URL
from tests.prompts.conftest import POLL_SPOKEN, assert_playable_file, fijian_call, record_humans

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--autoplay-policy=no-user-gesture-required"]
# Chromium's fake microphone, fed with real speech: the host's voice without a person.
SPEECH = AUDIO_DIR / "osr_us_0011_01.wav"
FAKE_MICROPHONE = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-audio-capture={SPEECH}"]
HOST = "host@station.example"
RECORDER = {"X-Requested-With": "recorder"}


@dataclass
class OpenPoll:
    app: Flask
    poll_id: int
    host_id: int


def open_fijian_poll(app: Flask) -> OpenPoll:
    """Open a poll with its question typed in English and Fijian, and make the radio host's account."""
    svc = services(app)
    assert "fj" in svc.offered_languages()
    draft = check_poll("Market on Sundays?", ["Yes", "No"], POLL_SPOKEN, tuple(svc.menus.languages))
    with svc.db.session() as session:
        poll_id = create_poll(session, draft, user_id=None, data_dir=svc.config.data_dir).id
    return OpenPoll(app, poll_id, add_user(svc.config, HOST, "radio"))


def speech_wav(seconds: float, rate: int = 16000) -> bytes:
    """Return real speech (the dev recordings, one after another) as a WAV of about `seconds`, the way the
    page's recorder encodes it (16-bit PCM, mono)."""
    pieces: list[np.ndarray] = []
    files = sorted(AUDIO_DIR.glob("osr_us_*.wav"))
    total = 0
    while total < seconds * rate:
        samples, source_rate = soundfile.read(files[len(pieces) % len(files)], dtype="float32")
        positions = np.arange(0, len(samples), source_rate / rate)
        piece = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
        pieces.append(piece)
        total += len(piece)
    out = io.BytesIO()
    soundfile.write(out, np.concatenate(pieces)[: int(seconds * rate)], rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def audit_rows(app: Flask, poll_id: int) -> list[tuple[int | None, str]]:
    with services(app).db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "poll_recording",
                                                        AuditEvent.target_id == str(poll_id)))
        return [(r.user_id, r.detail) for r in rows]


def fijian_audio(app: Flask, poll_id: int) -> dict[str, str] | None:
    with services(app).db.session() as session:
        poll = session.get(RadioPoll, poll_id)
        assert poll is not None
        entry: dict[str, str] | None = json.loads(poll.audio).get("fj")
        return entry


@pytest.fixture
def fijian_app(prompt_app: Callable[..., Flask], menus_copy: Path, sqlite_url: str) -> Flask:
    """An app whose Fijian prompts are all recorded (so Fijian callers are welcome), no poll yet."""
    record_humans(menus_copy, "fj", load_menus(menus_copy).required_prompts())
    return prompt_app(menus_dir=menus_copy, database_url=sqlite_url)


@pytest.fixture
def host(fijian_app: Flask) -> tuple[OpenPoll, FlaskClient, str]:
    """An open poll, and the host logged in on the polls page: (poll, client, CSRF token)."""
    poll = open_fijian_poll(fijian_app)
    client = fijian_app.test_client()
    assert login(client, HOST).status_code == 302
    return poll, client, csrf_from(client.get("/radio/polls/").get_data(as_text=True))


def post_form(client: FlaskClient, poll_id: int, fields: dict[str, str], audio: bytes | None,
              headers: dict[str, str]) -> TestResponse:
    """Post a multipart form with a question's audio to the recording route.

    Encoded in memory: the test client would spool a big body to a temporary file it never closes.
    """
    values: dict[str, object] = dict(fields)
    if audio is not None:
        values["audio"] = FileStorage(io.BytesIO(audio), filename="question.wav", content_type="audio/wav")
    boundary, body = encode_multipart(values)
    return client.post(f"/radio/polls/{poll_id}/recording", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def post_take(client: FlaskClient, poll_id: int, fields: dict[str, str], audio: bytes | None) -> tuple[int, str, str]:
    """Post a question's audio the way the page's recorder does; return (status, content type, body)."""
    resp = post_form(client, poll_id, {"lang": "fj", "source": "browser", **fields}, audio, RECORDER)
    return resp.status_code, resp.mimetype, resp.get_data(as_text=True)


def test_the_recorder_is_refused_with_a_status_and_a_plain_reason(host: tuple[OpenPoll, FlaskClient, str]) -> None:
    poll, client, token = host
    ok = {"csrf_token": token}
    status, kind, body = post_take(client, poll.poll_id, ok, b"RIFF not really a wave file")
    assert (status, kind) == (400, "text/plain") and "not audio this hotline can read" in body
    status, kind, body = post_take(client, poll.poll_id, ok, speech_wav(61, rate=8000))
    assert (status, kind) == (400, "text/plain")
    assert body == "Recording not kept: the recording lasts 61 s; a question may last at most 60 s."
    status, kind, body = post_take(client, poll.poll_id, ok, b"\0" * (MAX_RECORDED_BYTES + 1))
    assert (status, kind) == (400, "text/plain") and f"more than the {MAX_RECORDED_BYTES} allowed" in body
    status, kind, body = post_take(client, poll.poll_id, ok, b"\0" * (MAX_RECORDED_BYTES + 100_000))
    assert (status, kind) == (413, "text/plain") and f"larger than the {MAX_RECORDED_BYTES} bytes allowed" in body
    assert post_take(client, poll.poll_id, ok, None) == (
        400, "text/plain", "Recording not kept: no audio file was chosen.")
    status, kind, body = post_take(client, poll.poll_id, {**ok, "lang": "xx"}, speech_wav(2))
    assert (status, kind) == (400, "text/plain") and "language must be one of" in body

    # A forged request (another site cannot read our pages, so it has no token) and a lapsed login.
    for fields in ({}, {"csrf_token": "forged-token"}):
        status, kind, body = post_take(client, poll.poll_id, fields, speech_wav(2))
        assert (status, kind) == (400, "text/plain") and "CSRF token missing or wrong" in body
    status, kind, body = post_take(poll.app.test_client(), poll.poll_id, ok, speech_wav(2))
    assert (status, kind) == (401, "text/plain") and "not logged in" in body

    # Without the recorder's header, a form post gets the page again, the reason in it, never a bare error.
    too_big = post_form(client, poll.poll_id, {**ok, "lang": "fj"}, b"\0" * (MAX_RECORDED_BYTES + 100_000), {})
    assert too_big.status_code == 413 and too_big.mimetype == "text/html"
    assert f"larger than the {MAX_RECORDED_BYTES} bytes allowed" in too_big.get_data(as_text=True)
    forged = post_form(client, poll.poll_id, {"lang": "fj"}, speech_wav(2), {})
    assert forged.status_code == 400 and forged.mimetype == "text/html"

    assert fijian_audio(poll.app, poll.poll_id) is None and audit_rows(poll.app, poll.poll_id) == []
    assert 'data-lang="fj" data-offered="no"' in client.get("/radio/polls/").get_data(as_text=True)


def test_a_take_longer_than_the_app_wide_body_limit_is_kept_and_audited(
        host: tuple[OpenPoll, FlaskClient, str]) -> None:
    poll, client, token = host
    take = speech_wav(40)  # 1.28 MB: far over HOTLINE_MAX_BODY_BYTES, under the question's own limit
    assert len(take) > services(poll.app).config.max_body_bytes
    assert post_take(client, poll.poll_id, {"csrf_token": token}, take) == (201, "text/plain", "/radio/polls/")
    page = client.get("/radio/polls/").get_data(as_text=True)
    assert "Recorded question kept: callers in fj are now offered poll" in page
    assert 'data-lang="fj" data-offered="yes"' in page
    entry = fijian_audio(poll.app, poll.poll_id)
    assert entry is not None and entry["recorded"] == "1"
    with services(poll.app).db.session() as session:
        stored = question_audio(services(poll.app).config.data_dir, session.get(RadioPoll, poll.poll_id), "fj")
    assert stored is not None
    assert_playable_file(stored)
    info = soundfile.info(str(stored))
    assert (info.samplerate, info.channels) == (8000, 1) and 39.5 < info.duration < 40.5
    assert audit_rows(poll.app, poll.poll_id) == [(poll.host_id, "lang=fj source=browser")]


def test_one_recorder_script_serves_every_page_that_records() -> None:
    templates = Path(__file__).resolve().parents[2] / "ivr" / "templates"
    users = {"dashboard/message.html", "operator/phone.html", "radio/polls.html"}
    for path in templates.rglob("*.html"):
        text = path.read_text()
        name = path.relative_to(templates).as_posix()
        assert ('{% include "_recorder.js" %}' in text) is (name in users), name
        # No page keeps its own copy of the microphone or the WAV encoder.
        assert "getUserMedia" not in text and '"RIFF"' not in text, name


# ---- in headless Chromium ----------------------------------------------------------------------------------


@pytest.fixture
def served(fijian_app: Flask) -> Iterator[tuple[str, Flask]]:
    """Serve the app on 127.0.0.1 from a thread, the way a browser reaches it."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, fijian_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", fijian_app
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def polls_page(browser: Browser, base: str, *, init_script: str = "") -> Page:
    """Log the host in and open the polls page (the microphone allowed for this site)."""
    context = browser.new_context()
    context.grant_permissions(["microphone"], origin=base)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.goto(f"{base}/login?next=/radio/polls/")
    page.fill("#email", HOST)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/radio/polls/")
    return page


def record_take(page: Page, row: str, seconds: float) -> None:
    """Record `seconds` from the microphone in one language's row, and wait until it can be heard back."""
    page.click(f"{row} .rec-start")
    page.wait_for_selector(f"{row} .rec-state:has-text('Recording')")
    page.wait_for_timeout(seconds * 1000)
    page.click(f"{row} .rec-stop")
    page.wait_for_selector(f"{row} .rec-take:not([hidden])")


@pytest.mark.browser
def test_a_host_records_the_fijian_question_in_the_browser_and_a_fijian_caller_hears_it(
        served: tuple[str, Flask], media: MediaHost) -> None:
    base, app = served
    poll = open_fijian_poll(app)
    row = f"#recorder-{poll.poll_id}-fj"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_MICROPHONE])
        try:
            page = polls_page(browser, base)
            assert page.get_attribute(f"#offered-{poll.poll_id} li[data-lang=fj]", "data-offered") == "no"
            assert page.is_visible(row) and not page.is_visible(f"#cannot-record-{poll.poll_id}")
            # English is spoken by a voice: no recorder for it; the upload form is there for any language.
            assert page.locator(f"#recorder-{poll.poll_id}-en").count() == 0
            assert page.is_visible(".poll-recording input[type=file]")

            record_take(page, row, 3.0)
            # Listened back from the browser's memory: nothing has reached the server yet.
            assert page.eval_on_selector(f"{row} .rec-audio", "a => a.src.startsWith('blob:')")
            assert fijian_audio(app, poll.poll_id) is None
            page.click(f"{row} .rec-keep")
            page.wait_for_selector(f"#offered-{poll.poll_id} li[data-lang=fj][data-offered=yes]", timeout=20000)
            assert "Recorded question kept: callers in fj are now offered" in page.locator("p.notice").inner_text()
            # The kept question can be heard on the page, from our own route: the browser fetches and decodes it.
            # (Fetched whole: a media element's aborted range request trips the test server's file handling.)
            seconds = page.locator(f"{row} .kept audio").evaluate(
                "async a => new AudioContext().decodeAudioData(await (await fetch(a.src)).arrayBuffer())"
                ".then(b => b.duration)")
            assert 2.0 < seconds < 5.0

            entry = fijian_audio(app, poll.poll_id)
            assert entry is not None and entry["recorded"] == "1"
            svc = services(app)
            stored = svc.config.data_dir / "polls" / entry["path"]
            assert_playable_file(stored)
            samples, rate = soundfile.read(str(stored), dtype="float32")
            assert rate == 8000 and 2.0 < len(samples) / rate < 5.0
            assert float(np.sqrt(np.mean(samples ** 2))) > 0.01  # the fake microphone's speech, not silence
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == entry["sha256"]
            assert audit_rows(app, poll.poll_id) == [(poll.host_id, "lang=fj source=browser")]

            # A Fijian caller is offered the poll, hears the host's own recording, and votes.
            plays = fijian_call(app, media, "+6797000003", ["4", "4", "1", None, None, None], BASE_URL)
            assert any("/prompts/fj/poll_offer.wav" in p for p in plays)
            question = [p for p in plays if f"/polls/{poll.poll_id}/fj.wav" in p]
            assert question
            with app.test_client().get(question[0].replace(BASE_URL, "")) as heard:
                assert heard.status_code == 200 and heard.data == stored.read_bytes()
            with svc.db.session() as session:
                assert poll_results(session, poll.poll_id) == [(1, "Yes", 1), (2, "No", 0)]

            # A forged post from the page's own origin but without the token is refused, and nothing changes.
            forged = page.evaluate(
                """async url => { const form = new FormData(); form.append("lang", "fj");
                   form.append("audio", new Blob([new Uint8Array(64)], {type: "audio/wav"}), "q.wav");
                   const r = await fetch(url, {method: "POST", body: form, headers: {"X-Requested-With": "recorder"}});
                   return [r.status, await r.text()]; }""", f"{base}/radio/polls/{poll.poll_id}/recording")
            assert forged[0] == 400 and "CSRF token missing or wrong" in forged[1]
            assert audit_rows(app, poll.poll_id) == [(poll.host_id, "lang=fj source=browser")]

            # Recording again is possible; a refusal (another host closed the poll meanwhile) is shown as said.
            record_take(page, row, 1.5)
            with svc.db.session() as session:
                close_poll(session, poll.poll_id)
            page.click(f"{row} .rec-keep")
            page.wait_for_selector(f"{row} .rec-state:has-text('not kept')", timeout=20000)
            assert page.inner_text(f"{row} .rec-state") == f"Recording not kept: poll {poll.poll_id} is not open."
            assert stored.read_bytes() and hashlib.sha256(stored.read_bytes()).hexdigest() == entry["sha256"]
        finally:
            browser.close()


@pytest.mark.browser
def test_without_a_microphone_or_a_recorder_the_page_says_so_and_the_upload_works(
        served: tuple[str, Flask]) -> None:
    base, app = served
    poll = open_fijian_poll(app)
    row = f"#recorder-{poll.poll_id}-fj"
    with sync_playwright() as pw:
        # No fake device: this machine has no microphone at all.
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream"])
        try:
            page = polls_page(browser, base)
            page.click(f"{row} .rec-start")
            page.wait_for_selector(f"{row} .rec-state:has-text('No microphone')", timeout=20000)
            assert page.is_enabled(f"{row} .rec-start") and not page.is_visible(f"{row} .rec-take")

            # A browser without MediaRecorder: the recorder stays hidden, the page says why, the upload works.
            page = polls_page(browser, base, init_script="delete window.MediaRecorder;")
            assert not page.is_visible(f"#recorder-{poll.poll_id}")
            assert "This browser cannot record" in page.inner_text(f"#cannot-record-{poll.poll_id}")
            form = page.locator(".poll-recording")
            assert form.locator("select[name=lang]").input_value() == "fj"  # the first language not offered
            form.locator("input[type=file]").set_input_files(str(SPEECH))
            form.locator("button[type=submit]").click()
            page.wait_for_selector(f"#offered-{poll.poll_id} li[data-lang=fj][data-offered=yes]")
        finally:
            browser.close()
    assert audit_rows(app, poll.poll_id) == [(poll.host_id, "lang=fj source=upload")]

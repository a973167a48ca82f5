"""The whole answer loop in headless Chromium: a caller reports, an official listens and answers by upload,
the caller rings back, keys 2 and the reference, and hears the official's answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from ivr import create_app
from ivr.core.models import Answer, Message
from ivr.core.services import services
from ivr.voice.answers import answer_audio_path
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.accounts_helpers import PASSWORD, add_user
from tests.conftest import ACCOUNT_SID, AUDIO_DIR, AUTH_TOKEN, finish_jobs, make_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, Flask]]:
    """Serve the app on 127.0.0.1 from a thread; its PUBLIC_BASE_URL is that address (plain http)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_config(tmp_path, sqlite_url, public_base_url=base))
    httpd: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        finish_jobs(app)


def test_official_listens_answers_by_upload_and_the_caller_hears_it(served: tuple[str, Flask]) -> None:
    base, app = served
    with MediaHost(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as media:
        phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, base, media)
        # English, report, water, Ba district, callback consent, speak, keep it
        phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [(AUDIO_DIR / "osr_us_0010_01.wav").read_bytes()]))
        finish_jobs(app)
        with services(app).db.session() as db:
            message = db.scalars(select(Message)).one()
            ident, reference, agency = message.id, message.reference, message.agency
            assert message.recording is not None and message.recording.stored_path
        assert agency is not None
        add_user(services(app).config, "official@example.org", "official", agency)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"{base}/dashboard/")
                assert "/login?next=" in page.url
                page.fill("#email", "official@example.org")
                page.fill("#password", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{base}/dashboard/")
                page.click(f"#message-{ident} a")
                page.wait_for_url(f"{base}/dashboard/messages/{ident}")
                assert page.locator("#status").get_attribute("data-status") == "received"

                # the browser fetches the caller's voice through the authorised route and plays it
                played = page.locator("#recording").evaluate(
                    "a => new Promise(done => { a.muted = true; a.ontimeupdate = () => { if (a.currentTime > 0.2)"
                    " done({t: a.currentTime, ready: a.readyState, d: a.duration}); };"
                    " a.onerror = () => done({t: -1, ready: a.readyState, d: 0}); a.play(); })")
                assert played["t"] > 0.2 and played["ready"] >= 2 and played["d"] > 1

                page.locator("#answer-upload input[type=file]").set_input_files(str(AUDIO_DIR / "cathy_a0100.wav"))
                page.locator("#answer-upload button[type=submit]").click()
                page.wait_for_url(f"{base}/dashboard/messages/{ident}#answers")
                assert page.locator("#status").get_attribute("data-status") == "answered"
                assert "Answer saved" in page.locator("p.notice").inner_text()
                assert page.locator(".answer audio").count() == 1
            finally:
                browser.close()

        with services(app).db.session() as db:
            answer = db.scalars(select(Answer).where(Answer.message_id == ident)).one()
            assert answer.source == "upload" and answer.audio_path
        # the caller rings back, keys 2 and the reference number, and hears the answer played
        log = phone.call(Script(["2", f"{reference}#", None, None, None]))
        plays = [h.text for h in log.heard if h.kind == "play"]
        assert f"{base}{answer_audio_path(services(app).config.secret_key, answer)}" in plays


def test_official_records_an_answer_in_the_browser(served: tuple[str, Flask]) -> None:
    base, app = served
    config = services(app).config
    add_user(config, "official@example.org", "official", "water")
    with services(app).db.session() as db:
        message = Message(reference="R1234567", language="en", topic="water", place="ba", consent="none",
                          agency="water", routing_reason="topic=water → water")
        db.add(message)
        db.flush()
        ident = message.id
    with sync_playwright() as pw:
        # Chromium's fake microphone (a beeping tone) stands in for the official's voice.
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        try:
            context = browser.new_context()
            context.grant_permissions(["microphone"], origin=base)
            page = context.new_page()
            page.goto(f"{base}/login?next=/dashboard/messages/{ident}")
            page.fill("#email", "official@example.org")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/dashboard/messages/{ident}")
            page.click("#record-start")
            page.wait_for_selector("#record-state:has-text('Recording')")
            page.wait_for_timeout(1500)
            page.click("#record-stop")
            # Heard before it is sent: the preview plays from the browser's memory; nothing reached the server.
            page.wait_for_selector("#record-preview:not([hidden])")
            assert page.eval_on_selector("#record-audio", "a => a.src.startsWith('blob:')")
            with services(app).db.session() as db:
                assert db.scalars(select(Answer).where(Answer.message_id == ident)).all() == []
            page.click("#record-send")
            page.wait_for_selector("#status[data-status=answered]", timeout=20000)
            assert page.locator(".answer audio").count() == 1
        finally:
            browser.close()
    with services(app).db.session() as db:
        answer = db.scalars(select(Answer).where(Answer.message_id == ident)).one()
        assert answer.source == "browser" and answer.audio_path
        info = soundfile.info(str(config.data_dir / "answers" / answer.audio_path))
        assert (info.samplerate, info.channels) == (8000, 1) and 0.8 < info.duration < 3.0

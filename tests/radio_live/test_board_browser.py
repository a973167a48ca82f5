"""The live board in headless Chromium: a message added while the page is open appears on it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from ivr import create_app
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Transcript, utcnow
from ivr.core.services import services
from ivr.radio.polls import check_poll, create_poll, record_vote
from tests.accountability.dataset import add_message
from tests.accounts_helpers import PASSWORD, add_user
from tests.conftest import finish_jobs, make_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, Flask, Config]]:
    """Serve the app over plain http on 127.0.0.1 from a thread, the way a browser reaches it."""
    config = make_config(tmp_path, sqlite_url, public_base_url="http://127.0.0.1", board_stream_seconds=5)
    app = create_app(config)
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app, config
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        finish_jobs(app)


def add_transcribed(config: Config, text: str, place: str = "nadi", consent: str = "radio") -> int:
    with database_for(config.database_url).session() as session:
        m = add_message(session, agency="water", created=utcnow() - timedelta(seconds=5), place=place,
                        consent=consent)
        m.pipeline = "ready"
        session.add(Transcript(message_id=m.id, language="en", text=text, engine="test", model="none",
                               audio_seconds=2.0, processing_seconds=0.1))
        return m.id


def test_board_shows_a_new_message_and_live_poll_results(server: tuple[str, Flask, Config]) -> None:
    base, app, config = server
    add_user(config, "host@station.example", "radio")
    first = add_transcribed(config, "the road to the market is flooded", place="ba")
    svc = services(app)
    draft = check_poll("Market on Sundays?", ["Yes", "No"], {"en": "Market on Sundays? Yes 1, no 2."},
                       tuple(svc.menus.languages))
    with svc.db.session() as session:
        poll_id = create_poll(session, draft, user_id=None, data_dir=config.data_dir).id
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/radio/board/")
            page.fill("input[name=email]", "host@station.example")
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_url(f"{base}/radio/board/")
            assert page.locator(f"#message-{first} .transcript").inner_text() == \
                "the road to the market is flooded (machine guess, unchecked)"
            # Playwright's locator waits, not wait_for_function: the page's CSP forbids eval, as it should.
            expect(page.locator("#board-status")).to_have_text(re.compile(r"^Live"))
            # A caller leaves a message while the host watches; it must appear without a reload.
            secret = "my name is Mere Tuilau, water pipe burst near the school"
            added = add_transcribed(config, secret)
            row = page.locator(f"#message-{added}")
            row.wait_for(timeout=10_000)
            shown = row.locator(".transcript").inner_text()
            assert "water pipe burst near the school" in shown and "Mere" not in shown
            assert shown.endswith("(machine guess, unchecked)")  # the streamed row is marked as well
            assert page.locator("#board tr").first.get_attribute("id") == f"message-{added}"  # newest first
            # A caller who did not agree to radio shows as topic · place · language only, live too.
            private = add_transcribed(config, "only for the water agency", consent="agency")
            page.locator(f"#message-{private}").wait_for(timeout=10_000)
            assert page.locator(f"#message-{private} .transcript").inner_text() == "not for air"
            assert "only for the water agency" not in page.content()
            with svc.db.session() as session:
                assert record_vote(session, poll_id, "a" * 64, 2, "en") == "counted"
            expect(page.locator("#poll-total")).to_have_text("1", timeout=10_000)
            assert page.locator("#poll-results tr").nth(1).locator(".votes").inner_text() == "1"
        finally:
            browser.close()

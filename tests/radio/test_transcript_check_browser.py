"""In headless Chromium: a host listens, corrects a machine transcript, and approves a quote cut from the
corrected words; a quote of the unchecked machine text is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from ivr import create_app
from ivr.core.db import database_for
from ivr.core.models import Transcript, utcnow
from ivr.core.models.radio import RadioClip
from ivr.core.services import services
from tests.accounts_helpers import PASSWORD, add_user
from tests.conftest import AUDIO_DIR, finish_jobs, make_config

from .conftest import add_message, store_recording

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MACHINE = "here the classes are total immersion"
SAID = "the water tank at the school in Nadi is empty again"

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, Flask]]:
    """Serve the app on 127.0.0.1, an ephemeral port, from a thread."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, lambda e, s: app(e, s), threaded=True)
    base = f"http://127.0.0.1:{httpd.server_port}"
    app = create_app(make_config(tmp_path, sqlite_url, public_base_url=base, gtts_enabled=False))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        finish_jobs(app)


def test_host_corrects_a_transcript_and_quotes_only_the_checked_words(served: tuple[str, Flask]) -> None:
    base, app = served
    config = services(app).config
    with database_for(config.database_url).session() as s:
        m = add_message(s, at=utcnow(), consent="radio", transcript=MACHINE, checked=False)
        store_recording(config, s, m.id, (AUDIO_DIR / "voxforge_en-0534.wav").read_bytes())
    add_user(config, "host@station.example", "radio")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/login?next=/radio/moderation")
            page.fill("#email", "host@station.example")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/radio/moderation")
            box = page.locator(f"#candidate-{m.id}")
            assert "Machine transcript, unchecked" in box.inner_text()
            assert box.locator("textarea[name=quote]").count() == 0  # nothing to quote yet
            # Posting a quote of the machine's words anyway (as a crafted form would) is refused.
            refused = page.evaluate(
                """async ([id, quote]) => {
                    const token = document.querySelector('input[name=csrf_token]').value;
                    const body = new URLSearchParams({csrf_token: token, quote: quote});
                    const r = await fetch(`/radio/moderation/${id}/approve`, {method: 'POST', body: body});
                    return [r.status, await r.text()];
                }""", [m.id, "total immersion"])
            assert refused[0] == 409 and "machine" in refused[1]

            # The host listens (the player fetches the recording), writes what was said, and keeps it.
            assert box.locator("audio").evaluate(
                "a => new Promise(done => { a.onloadedmetadata = () => done(a.duration); a.onerror = () => done(-1);"
                " a.load(); })") > 1
            box.locator("form.check textarea[name=text]").fill(SAID)
            box.locator("form.check input[name=listened]").check()
            box.locator("form.check button[type=submit]").click()
            page.wait_for_url(f"{base}/radio/moderation#candidate-{m.id}")
            box = page.locator(f"#candidate-{m.id}")
            assert "Checked by a person" in box.inner_text()
            quote = box.locator("textarea[name=quote]")
            assert quote.input_value() == SAID
            quote.fill("the water tank at the school in Nadi is empty")
            box.locator("form.approve button[type=submit]").click()
            page.wait_for_url(f"{base}/radio/moderation")
            assert "Approved for air." in page.locator("p.notice").inner_text()
            assert "On air: “the water tank at the school in Nadi is empty”" in page.locator(
                f"#candidate-{m.id}").inner_text()
        finally:
            browser.close()
    with database_for(config.database_url).session() as s:
        clip = s.scalars(select(RadioClip)).one()
        assert clip.quote == "the water tank at the school in Nadi is empty"
        t = s.scalars(select(Transcript)).one()
        assert (t.text, t.checked_text) == (MACHINE, SAID)

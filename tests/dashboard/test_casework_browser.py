"""The casework pages in headless Chromium: an inbox row as an official reads it (local time, UTC on hover,
language by name, snippet, group of callers), a shipped reply template filled in one click and edited, an
uploaded answer heard before it is sent, and a message closed without an answer for a listed reason."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from ivr.core.models import Answer, Message, Transcript
from ivr.core.services import services
from tests.accounts_helpers import PASSWORD, add_user
from tests.conftest import AUDIO_DIR
from tests.dashboard.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, served  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
AT = datetime(2026, 1, 15, 22, 30)  # 10:30 on Friday 16 January in Fiji


def test_inbox_row_as_an_official_reads_it(served: tuple[str, Flask]) -> None:  # noqa: F811
    base, app = served
    config = services(app).config
    add_user(config, "official@example.org", "official", "water")
    with services(app).db.session() as db:
        lead = Message(reference="11112222", language="fj", topic="water", place="ba", consent="none",
                       agency="water", routing_reason="topic=water → water", created_at=AT)
        other = Message(reference="33334444", language="fj", topic="water", place="ba", consent="none",
                        agency="water", routing_reason="topic=water → water", created_at=AT)
        db.add_all([lead, other])
        db.flush()
        lead.cluster_id = other.cluster_id = lead.id
        db.add(Transcript(message_id=lead.id, language="fj", text="na paipo e kavoro e Ba", words="[]",
                          engine="vosk", model="test", confidence=0.8, audio_seconds=3, processing_seconds=1))
        ident, second = lead.id, other.id
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/login?next=/dashboard/")
            page.fill("#email", "official@example.org")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/dashboard/")
            row = page.locator(f"#message-{ident}")
            assert page.locator(f"#message-{second}").count() == 0  # one row for the group
            assert "2 callers" in row.inner_text() and "Vosa vaka-Viti" in row.inner_text()
            received = row.locator("td.received time")
            assert "Fri 16 Jan 2026 10:30" in received.inner_text()
            assert received.get_attribute("title") == "2026-01-15 22:30 UTC"  # UTC on hover
            assert "machine text:" in row.inner_text() and "na paipo e kavoro" in row.inner_text()
            row.locator("a").click()
            page.wait_for_url(f"{base}/dashboard/messages/{ident}")
            assert page.locator("#group-members tr").count() == 2
        finally:
            browser.close()


def test_reply_template_upload_preview_and_close(served: tuple[str, Flask]) -> None:  # noqa: F811
    base, app = served
    config = services(app).config
    add_user(config, "official@example.org", "official", "water")
    with services(app).db.session() as db:
        m = Message(reference="55556666", language="en", topic="water", place="ba", consent="none",
                    agency="water", routing_reason="topic=water → water")
        closing = Message(reference="77778888", language="en", topic="water", place="ba", consent="none",
                          agency="water", routing_reason="topic=water → water")
        db.add_all([m, closing])
        db.flush()
        ident, closing_id = m.id, closing.id
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/login?next=/dashboard/messages/{ident}")
            page.fill("#email", "official@example.org")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/dashboard/messages/{ident}")
            # One click on a shipped template (menus/replies.toml) fills the box; the official edits it.
            page.click("#replies a.reply-template >> nth=0")
            box = page.locator("#answer-text-input")
            assert box.input_value().startswith("Thank you for report 5555 6666.")
            # An uploaded file is heard in the page before it is sent: nothing reaches the server yet.
            page.locator("#upload-file").set_input_files(str(AUDIO_DIR / "cathy_a0100.wav"))
            preview = page.locator("#upload-preview")
            preview.wait_for(state="visible")
            duration = preview.evaluate("a => new Promise(done => { if (a.readyState >= 1) { done(a.duration); }"
                                        " a.onloadedmetadata = () => done(a.duration); })")
            assert duration > 0.5
            with services(app).db.session() as db:
                assert db.scalars(select(Answer)).all() == []
            box.fill(box.input_value() + " Edited by hand.")
            page.locator("#answer-text button[type=submit]").click()
            page.wait_for_url(f"{base}/dashboard/messages/{ident}#answers")
            assert "Edited by hand." in page.locator(".answer-text").inner_text()
            assert page.locator(".delivery").count() == 1
            # Close another message without an answer, for a listed reason.
            page.goto(f"{base}/dashboard/messages/{closing_id}")
            page.select_option("#close-form select[name=reason]", "duplicate")
            page.click("#close-form button[type=submit]")
            page.wait_for_url(f"{base}/dashboard/messages/{closing_id}")
            assert page.locator("#status").get_attribute("data-status") == "closed"
            assert page.locator("#close-reason").inner_text() == "duplicate"
        finally:
            browser.close()

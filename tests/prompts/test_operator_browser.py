"""The operator page in headless Chromium: log in, hear a prompt, upload a recording, forged CSRF refused."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from ivr.core.services import services
from tests.prompts.conftest import OPERATOR_TOKEN, speech_files

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]

pytestmark = pytest.mark.browser


@pytest.fixture
def server(prompt_app: Callable[..., Flask], rendered_cache: Path, sqlite_url: str) -> Iterator[tuple[str, Flask]]:
    """Serve the app on 127.0.0.1 from a thread, the way a browser reaches it."""
    app = prompt_app(operator_token=OPERATOR_TOKEN, prompts_cache_dir=rendered_cache, database_url=sqlite_url)
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_operator_logs_in_hears_a_prompt_uploads_a_recording_and_forged_csrf_is_refused(
        server: tuple[str, Flask]) -> None:
    base, app = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/operator/prompts")
            assert page.url.endswith("/operator/login")
            page.fill("#token", OPERATOR_TOKEN)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/operator/prompts")
            assert page.locator("#language-fj .offered").inner_text() == "no: record the missing prompts"
            page.click("#language-fr a")
            page.wait_for_url(f"{base}/operator/prompts/fr")
            assert page.locator("#prompts tbody tr").count() == len(services(app).prompts.library.required)

            row = page.locator("#prompt-goodbye")
            assert row.locator(".source").get_attribute("data-source") == "synthesised"
            # the browser itself fetches and decodes the prompt's audio (served from the CSP's 'self')
            seconds = row.locator("audio").evaluate(
                "a => new Promise(done => { a.onloadedmetadata = () => done(a.duration);"
                " a.onerror = () => done(-1); a.preload = 'auto'; a.load(); })")
            assert seconds > 0.3

            row.locator("input[type=file]").set_input_files(str(speech_files()[3]))
            row.locator("button[type=submit]").click()
            page.wait_for_url(f"{base}/operator/prompts/fr#prompt-goodbye")
            assert page.locator("#prompt-goodbye .source").get_attribute("data-source") == "human"
            assert "is now what callers hear" in page.locator("p.notice").inner_text()
            found = services(app).prompts.library.find("fr", "goodbye")
            assert found is not None and found.source == "human"

            forged = page.locator("#prompt-main_menu")
            forged.locator("input[name=csrf_token]").evaluate("field => { field.value = 'forged-token'; }")
            forged.locator("input[type=file]").set_input_files(str(speech_files()[4]))
            with page.expect_response(lambda r: r.url.endswith("/prompts/fr/main_menu/recording")) as answer:
                forged.locator("button[type=submit]").click()
            assert answer.value.status == 400
            assert "CSRF token missing or wrong" in page.content()
            kept = services(app).prompts.library.find("fr", "main_menu")
            assert kept is not None and kept.source == "synthesised"
        finally:
            browser.close()

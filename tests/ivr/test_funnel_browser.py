"""The funnel and the public figures drawn, in headless Chromium with JavaScript off: charts and numbers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from ivr import create_app
from ivr.public.open_data import HIDDEN
from ivr.voice.emulator import FlaskTransport, Phone
from ivr.voice.media_host import MediaHost
from tests.accountability.test_public import add_town
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs, make_config
from tests.ivr.test_call_funnel import place_known_calls

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
TOKEN = "operator-token-0123456789"

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, Flask]]:
    config = make_config(tmp_path, sqlite_url, operator_token=TOKEN, funnel_flush_seconds=0)
    app = create_app(config)
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        finish_jobs(app)


def test_calls_page_and_public_page_draw_their_figures_without_javascript(served: tuple[str, Flask],
                                                                          speech_wav: bytes) -> None:
    base, app = served
    with MediaHost(account_sid="AC" + "0123456789abcdef" * 2, auth_token=AUTH_TOKEN) as media:
        place_known_calls(Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media), speech_wav)
        finish_jobs(app)
    add_town(app.extensions["hotline"].config)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(f"{base}/operator/calls")
            page.fill("#token", TOKEN)
            page.click("main button[type=submit]")
            page.goto(f"{base}/operator/calls")
            funnel = page.locator("#funnel + svg")
            assert funnel.is_visible()
            texts = funnel.locator("text").all_text_contents()
            assert "4 (100%)" in texts and "1 (25%)" in texts and "message kept" in texts
            widths = [float(w) for w in
                      funnel.locator("rect").evaluate_all("rs => rs.map(r => r.getAttribute('width'))")]
            assert widths[0] == max(widths) and widths[-1] == pytest.approx(widths[0] / 4, rel=0.01)
            box = funnel.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not a blank box
            worst = page.locator("#worst + svg").locator("text").all_text_contents()
            assert "fr report_place" in worst and "100% of 1" in worst
            assert page.locator("svg").count() >= 4 + 3  # funnel, completion, time, worst; one per language

            page.goto(f"{base}/public/")
            chart = page.locator("svg[aria-label='Messages received, by agency']")
            assert chart.is_visible()
            labels = chart.locator("text").all_text_contents()
            water = labels[labels.index("Water Authority") + 1]
            assert water.isdigit() and int(water) >= 8  # the town's 8, and the report placed above once routed
            assert labels.count(HIDDEN) >= 2  # health (3) and roads, hidden with it, get words, not bars
            assert "3" not in labels and "6" not in labels
            assert chart.locator("rect").count() == len(labels) // 2 - labels.count(HIDDEN)
        finally:
            browser.close()

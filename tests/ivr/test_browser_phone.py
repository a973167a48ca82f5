"""The phone in the browser (/operator/phone): through the signed webhooks, in headless Chromium with a fake
microphone; the turn token and the media route refuse what they must."""

from __future__ import annotations

import base64
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from ivr import create_app
from ivr.core.models import Call, Caller, Message
from ivr.core.services import services
from tests.conftest import ACCOUNT_SID, AUDIO_DIR, AUTH_TOKEN, finish_jobs, make_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 "--autoplay-policy=no-user-gesture-required"]
TOKEN = "operator-token-0123456789"


def logged_in(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/operator/login").get_data(as_text=True))
    assert csrf is not None
    client.post("/operator/login", data={"token": TOKEN, "csrf_token": csrf.group(1)})
    page = client.get("/operator/phone").get_data(as_text=True)
    found = re.search(r'var csrf = "([^"]+)"', page)
    assert found is not None
    return client, found.group(1)


@pytest.fixture
def op_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = create_app(make_config(tmp_path, database_url, operator_token=TOKEN))
    yield app
    finish_jobs(app)


def test_a_call_goes_through_the_signed_webhooks_and_forged_turns_are_refused(op_app: Flask) -> None:
    client, csrf = logged_in(op_app)
    svc = services(op_app)
    first = client.post("/operator/phone/call", data={"csrf_token": csrf, "language": "en", "returning": "0"}).json
    assert first is not None and first["wait"] == "keys"
    texts = [h["text"] for h in first["heard"]]
    assert svc.menus.text("fr", "language_option") in texts  # the language menu: a new caller
    turn = client.post("/operator/phone/step", data={"csrf_token": csrf, "token": first["token"], "action": "keys",
                                                      "digits": "2"}).json
    assert turn is not None and turn["heard"][0]["text"] == svc.menus.text("fr", "main_menu")
    forged = first["token"][:-3] + ("AAA" if not first["token"].endswith("AAA") else "BBB")
    refused = client.post("/operator/phone/step", data={"csrf_token": csrf, "token": forged, "action": "hangup"})
    assert refused.status_code == 400 and "not one this hotline gave" in refused.json["error"]  # type: ignore[index]
    ended = client.post("/operator/phone/step", data={"csrf_token": csrf, "token": turn["token"],
                                                       "action": "hangup"}).json
    assert ended is not None and ended["wait"] == "ended"
    with svc.db.session() as s:
        call = s.scalars(select(Call)).one()
        assert call.status == "completed"  # the end-of-call callback went through /voice/status
        caller = s.scalars(select(Caller)).one()
        assert caller.language == "fr" and "+999" not in caller.number_hash
    # a returning caller in Hindi: a first short call chooses Hindi through the language menu, then the main menu
    back = client.post("/operator/phone/call", data={"csrf_token": csrf, "language": "hi", "returning": "1"}).json
    assert back is not None and back["heard"][0]["text"] == svc.menus.text("hi", "main_menu")
    assert client.post("/operator/phone/call", data={"language": "en"}).status_code == 400  # no CSRF token
    assert op_app.test_client().get("/operator/phone").status_code == 302  # strangers go to the login


def test_media_route_answers_the_fetcher_with_basic_auth_only(op_app: Flask, tmp_path: Path) -> None:
    folder = Path(services(op_app).config.data_dir) / "phone-media"
    folder.mkdir(parents=True)
    sid = "RE" + "ab" * 16
    (folder / f"{sid}.wav").write_bytes((AUDIO_DIR / "osr_us_0010_01.wav").read_bytes())
    client = op_app.test_client()
    url = f"/operator/phone/media/Recordings/{sid}.wav"
    assert client.get(url).status_code == 401
    wrong = base64.b64encode(f"{ACCOUNT_SID}:nope".encode()).decode()
    assert client.get(url, headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    right = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    resp = client.get(url, headers={"Authorization": f"Basic {right}"})
    assert resp.status_code == 200 and resp.data[:4] == b"RIFF"
    assert client.get("/operator/phone/media/Recordings/..%2Fhotline.env",
                      headers={"Authorization": f"Basic {right}"}).status_code == 404


@pytest.fixture
def live(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, Flask]]:
    """The app on a real port, with PUBLIC_BASE_URL naming it: the hotline fetches takes from itself."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, Flask("placeholder"), threaded=True)
    base = f"http://127.0.0.1:{httpd.server_port}"
    human = tmp_path / "data" / "prompt-recordings" / "en"
    human.mkdir(parents=True)
    shutil.copy(AUDIO_DIR / "osr_us_0010_01.wav", human / "main_menu.wav")  # a recorded main menu: a <Play>
    app = create_app(make_config(tmp_path, sqlite_url, operator_token=TOKEN, public_base_url=base))
    httpd.app = app
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        finish_jobs(app)
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def press(page: Page, *keys: str) -> None:
    for key in keys:
        page.wait_for_selector("#state[data-wait=keys]")
        page.click(f"#keypad .key[data-key='{key}']")


@pytest.mark.browser
def test_operator_reports_by_keypad_and_microphone_and_hangs_up(live: tuple[str, Flask]) -> None:
    base, app = live
    svc = services(app)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.grant_permissions(["microphone"], origin=base)
            page = context.new_page()
            page.goto(f"{base}/operator/login")
            page.fill("#token", TOKEN)
            page.click("main button[type=submit]")
            page.goto(f"{base}/operator/phone")
            page.click("#call")
            press(page, "1")  # English, at the language menu
            page.wait_for_selector("#state[data-wait=keys]")
            assert svc.menus.text("en", "main_menu") in page.locator("#heard").inner_text()
            press(page, "1", "1", "1", "1")  # report; water; Suva; share with the agency
            page.wait_for_selector("#state[data-wait=record]")
            assert page.locator("#heard li.heard-beep").count() == 1
            page.click("#rec-start")
            page.wait_for_timeout(2500)  # the fake microphone's tone, as the message
            page.click("#rec-stop")
            press(page, "1")  # keep
            page.wait_for_selector("#state[data-wait=ended]", timeout=30000)
            heard = page.locator("#heard").inner_text()
            assert svc.menus.text("en", "your_reference_is") in heard and svc.menus.text("en", "goodbye") in heard
            # each prompt with audio is an <audio> the browser can load, its words beside it
            played = page.locator("#heard li.heard-play").first
            assert played.locator(".text").inner_text() == svc.menus.text("en", "main_menu")  # its words beside it
            assert played.locator("audio").get_attribute("src").startswith("/prompts/en/main_menu.wav?v=")  # type: ignore[union-attr]
            seconds = played.locator("audio").evaluate(
                "a => new Promise(done => { if (a.readyState > 0) { done(a.duration); return; }"
                " a.onloadedmetadata = () => done(a.duration); a.onerror = () => done(-1); a.load(); })")
            assert seconds > 0.2
            finish_jobs(app)
            with svc.db.session() as s:
                message = s.scalars(select(Message)).one()
                assert (message.language, message.topic, message.place) == ("en", "water", "suva")
                assert message.recording is not None and message.recording.stored_path  # fetched from the take URL

            # from a file, then hanging up at the review
            page.click("#call")
            press(page, "1", "1", "2", "3", "2")
            page.wait_for_selector("#state[data-wait=record]")
            page.set_input_files("#rec-file", str(AUDIO_DIR / "osr_us_0010_01.wav"))
            page.click("#rec-send")
            page.wait_for_selector("#state[data-wait=keys]")
            assert svc.menus.text("en", "review_menu") in page.locator("#heard").inner_text()
            page.click("#hangup")
            page.wait_for_selector("#state[data-wait=ended]")
            finish_jobs(app)
            with svc.db.session() as s:
                second = s.scalars(select(Message).order_by(Message.id.desc())).first()
                assert second is not None and not second.confirmed  # kept by the end-of-call callback
        finally:
            browser.close()

"""The privacy suite: real calls at each consent level, then what every audience is shown of them.

One emulated call per consent (1 agency, 2 anonymous, 3 radio), with real speech transcribed by Vosk,
then: the routed agency's message page, another agency, the radio board (page and event stream), the
moderation queue, the public page and open data, and the log lines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.core.config import Config
from ivr.core.models import Message
from ivr.core.redact import redact
from ivr.core.services import services
from ivr.voice.emulator import Phone
from tests.accounts_helpers import add_user, login
from tests.conftest import AUDIO_DIR, finish_jobs
from tests.privacy.walk import returning_caller

TEMPLATES = Path(__file__).resolve().parents[2] / "ivr" / "templates"
NUMBERS = {"1": "+6799873001", "2": "+6799873002", "3": "+6799873003"}
CONSENT = {"1": "agency", "2": "anonymous", "3": "radio"}


def signature_word(text: str, others: list[str]) -> str:
    """A word of this caller's own (no other caller said it) that redaction keeps: where it shows, their words are."""
    # Nor a word the pages say themselves ("background" is in the style sheet).
    names = ("base.html", "radio/board.html", "radio/moderation.html", "public/accountability.html")
    pages = " ".join((TEMPLATES / name).read_text() for name in names)
    theirs = set(re.findall(r"[a-z]{5,}", (" ".join(others) + pages).casefold()))
    words = [w for w in re.findall(r"[a-z]{5,}", redact(text).text.casefold()) if w not in theirs]
    assert words, text
    return max(words, key=len)


def test_each_audience_sees_what_each_consent_allows(app: Flask, phone: Phone, config: Config,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG"):
        for key, number in NUMBERS.items():
            phone.from_number = number
            speech = (AUDIO_DIR / f"osr_us_0010_0{key}.wav").read_bytes()  # a different sentence per caller
            phone.call(returning_caller(["1", "1", "5", key, "REC", "1"], speech))  # water, Ba
        finish_jobs(app)
    with services(app).db.session() as s:
        messages = {m.consent: (m.id, m.reference, m.transcript.text if m.transcript else "")
                    for m in s.scalars(select(Message))}
    assert set(messages) == set(CONSENT.values())
    words = {consent: signature_word(text, [t for c, (_, _, t) in messages.items() if c != consent])
             for consent, (_, _, text) in messages.items()}
    add_user(config, "water@example.org", "official", "water")
    add_user(config, "roads@example.org", "official", "roads")
    add_user(config, "host@station.example", "radio")
    water, roads, host, public = (app.test_client() for _ in range(4))
    login(water, "water@example.org")
    login(roads, "roads@example.org")
    login(host, "host@station.example")
    board = host.get("/radio/board/").get_data(as_text=True)
    events = host.get("/radio/board/events?after=0").get_data(as_text=True)
    moderation = host.get("/radio/moderation").get_data(as_text=True)
    shown = {"public": "".join(public.get(u).get_data(as_text=True)
                               for u in ("/public/", "/public/data.json", "/public/data.csv"))}
    for consent, (mid, reference, _) in messages.items():
        page = water.get(f"/dashboard/messages/{mid}")
        assert page.status_code == 200 and words[consent] in page.get_data(as_text=True).casefold()  # agency: all
        assert roads.get(f"/dashboard/messages/{mid}").status_code == 404  # another agency: nothing
        on_air = consent == "radio"
        for radio_view in (board, events, moderation):
            assert (words[consent] in radio_view.casefold()) is on_air, (consent, radio_view[:200])
            assert reference not in radio_view
        assert (f"/radio/moderation/{mid}/audio" in moderation) is on_air
        with host.get(f"/radio/moderation/{mid}/audio") as heard:
            assert heard.status_code == (200 if on_air else 404)
        assert words[consent] not in shown["public"].casefold() and reference not in shown["public"]
    frames = [json.loads(line[6:]) for line in events.splitlines() if line.startswith("data: {\"id\"")]
    assert {f["id"]: f["on_air"] for f in frames} == {mid: c == "radio" for c, (mid, _, _) in messages.items()}
    # Today's calls are not public figures until the day has ended (then: three, "fewer than 5").
    assert json.loads(public.get("/public/data.json").data)["total"] == 0
    for word in words.values():  # logs name ids only: never a caller's words or number
        assert word not in caplog.text.casefold()
    for number in NUMBERS.values():
        assert number.lstrip("+") not in caplog.text

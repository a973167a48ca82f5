"""A host's week over HTTP: build a bulletin, publish it; the podcast feed lists it; callers hear it on key 3."""

from __future__ import annotations

from datetime import timedelta

import feedparser
from flask import Flask

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import utcnow
from ivr.core.models.radio import RadioBulletin
from ivr.core.services import services
from ivr.radio.moderation import approve
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.accounts_helpers import csrf_from
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs

from .conftest import add_message, host_client, store_recording

QUOTE = "The road to the school in Nadi is flooded every time it rains"


def test_empty_feed_is_valid_rss(radio_app: Flask) -> None:
    resp = radio_app.test_client().get("/radio/feed.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/rss+xml"
    feed = feedparser.parse(resp.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20" and feed.entries == []
    assert feed.feed.title == "Talanoa Hotline: what callers raised"


def test_host_builds_and_publishes_and_callers_hear_it(radio_app: Flask, radio_config: Config, media: MediaHost,
                                                       speech_wav: bytes) -> None:
    with database_for(radio_config.database_url).session() as s:
        for days, topic in ((1, "water"), (2, "water"), (3, "roads")):
            add_message(s, at=utcnow() - timedelta(days=days), topic=topic, place="nadi", agency=topic)
        m = add_message(s, at=utcnow() - timedelta(hours=5), consent="radio", topic="roads", place="nadi",
                        transcript=QUOTE + ", my name is Ana")
        store_recording(radio_config, s, m.id, speech_wav)
        approve(s, m.id, None, quote=QUOTE)  # the quote only: its recording says the caller's name
    host = host_client(radio_app, radio_config)
    token = csrf_from(host.get("/radio/bulletins").get_data(as_text=True))
    assert host.post("/radio/bulletins", data={"csrf_token": token, "since": "7d", "language": "en"}).status_code == 302
    finish_jobs(radio_app)  # the worker job built the MP3 on the inline queue
    with database_for(radio_config.database_url).session() as s:
        bulletin = s.query(RadioBulletin).one()
        assert bulletin.status == "ready", bulletin.error
        bulletin_id, size = bulletin.id, bulletin.size_bytes
        assert "Ana" not in bulletin.script and f"“{QUOTE}”" in bulletin.script
    public = radio_app.test_client()
    assert public.get(f"/radio/bulletins/{bulletin_id}.mp3").status_code == 404  # a draft until published
    assert feedparser.parse(public.get("/radio/feed.xml").data).entries == []
    page = host.get("/radio/bulletins").get_data(as_text=True)
    assert f'id="bulletin-{bulletin_id}" data-status="ready"' in page
    assert host.post(f"/radio/bulletins/{bulletin_id}/publish", data={"csrf_token": token}).status_code == 302

    xml = public.get("/radio/feed.xml").data
    feed = feedparser.parse(xml)
    assert not feed.bozo and len(feed.entries) == 1
    assert b"Ana" not in xml and QUOTE.encode() in xml  # the approved quote only, never the name
    enclosure = feed.entries[0].enclosures[0]
    assert enclosure.href == f"{BASE_URL}/radio/bulletins/{bulletin_id}.mp3"
    assert enclosure.type == "audio/mpeg" and int(enclosure.length) == size
    with public.get(f"/radio/bulletins/{bulletin_id}.mp3") as mp3:
        assert mp3.status_code == 200 and mp3.mimetype == "audio/mpeg" and len(mp3.data) == size

    phone = Phone(FlaskTransport(radio_app.test_client()), AUTH_TOKEN, BASE_URL, media)
    log = phone.call(Script(["1", "3", None, None, None]))
    menus = services(radio_app).menus
    said = log.said()
    assert menus.text("en", "bulletin_intro") in said and menus.text("en", "no_announcements") not in said
    plays = [h.text for h in log.heard if h.kind == "play"]
    assert f"{BASE_URL}/radio/bulletins/{bulletin_id}.mp3" in plays
    # A French caller hears that there is none in French yet.
    french = phone.call(Script(["9", "2", "3", None, None, None]))  # the same phone: 9 changes language
    assert menus.text("fr", "no_announcements") in french.said()
    assert not any("/radio/bulletins/" in h.text for h in french.heard if h.kind == "play")
    finish_jobs(radio_app)


def test_bad_requests_name_what_is_wrong(radio_app: Flask, radio_config: Config) -> None:
    host = host_client(radio_app, radio_config)
    atlantis = host.get("/radio/?place=atlantis")
    assert atlantis.status_code == 400 and "unknown place &#39;atlantis&#39;" in atlantis.get_data(as_text=True)
    assert host.get("/radio/script?since=forever").status_code == 400
    token = csrf_from(host.get("/radio/bulletins").get_data(as_text=True))
    bad = host.post("/radio/bulletins", data={"csrf_token": token, "language": "xx"})
    assert bad.status_code == 400 and "no radio phrases for language &#39;xx&#39;" in bad.get_data(as_text=True)
    assert host.post("/radio/bulletins/999/publish", data={"csrf_token": token}).status_code == 409
    assert radio_app.test_client().get("/radio/bulletins/999.mp3").status_code == 404

"""Key 3 plays the latest bulletin for the caller's place (or for every place), never another place's; the
podcast feed carries the iTunes tags and gives each bulletin its own title (period, place, language)."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta

import feedparser
from flask import Flask

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import utcnow
from ivr.core.models.radio import RadioBulletin
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs

START, END = datetime(2026, 11, 16), datetime(2026, 11, 23)


def _published(config: Config, place: str, age_hours: int, language: str = "en") -> int:
    with database_for(config.database_url).session() as s:
        b = RadioBulletin(language=language, place=place, period_start=START, period_end=END, status="published",
                          script="…", audio_path=f"b-{place}.mp3", size_bytes=1000, duration_seconds=75.4,
                          sha256="ab" * 32, published_at=utcnow() - timedelta(hours=age_hours))
        s.add(b)
        s.flush()
        return b.id


def _bulletins_heard(app: Flask, media: MediaHost, number: str, keys: list[str | None],
                     audio: list[bytes] | None = None) -> list[str]:
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, from_number=number)
    log = phone.call(Script(keys, audio or []))
    return [h.text for h in log.heard if h.kind == "play" and "/radio/bulletins/" in h.text]


def test_key_3_plays_the_bulletin_for_the_callers_place(radio_app: Flask, radio_config: Config, media: MediaHost,
                                                         speech_wav: bytes) -> None:
    every = _published(radio_config, "", 30)
    ba = _published(radio_config, "ba", 20)
    _published(radio_config, "suva", 10)  # the newest, but for another place
    # A caller who reported about Ba (English, report, water, Ba, callback) hears Ba's bulletin on key 3.
    _bulletins_heard(radio_app, media, "+6797100001", ["1", "1", "1", "5", "1", "REC", "1"], [speech_wav])
    finish_jobs(radio_app)
    heard = _bulletins_heard(radio_app, media, "+6797100001", ["3", None, None, None])
    assert heard == [f"{BASE_URL}/radio/bulletins/{ba}.mp3"]
    # A caller whose place is not known hears the bulletin for every place, never Suva's.
    heard = _bulletins_heard(radio_app, media, "+6797100002", ["1", "3", None, None, None])
    assert heard == [f"{BASE_URL}/radio/bulletins/{every}.mp3"]


def test_feed_has_itunes_tags_and_distinct_titles(radio_app: Flask, radio_config: Config) -> None:
    ids = [_published(radio_config, "", 30), _published(radio_config, "nadi", 20),
           _published(radio_config, "nadi", 10), _published(radio_config, "", 5, language="fr")]
    client = radio_app.test_client()
    xml = client.get("/radio/feed.xml").data
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.author == "Talanoa Hotline" and b"<itunes:explicit>false</itunes:explicit>" in xml
    assert feed.feed.image.href == f"{BASE_URL}/radio/cover.png"
    assert [t.term for t in feed.feed.tags] == ["Government"]
    titles = [e.title for e in feed.entries]
    assert len(set(titles)) == len(titles) == 4
    assert "16 novembre – 23 novembre · tous les lieux · français" in titles
    assert "16 November – 23 November · every place · English" in titles
    assert f"16 November – 23 November · Nadi · English (no. {ids[1]})" in titles
    assert all(e.itunes_duration == "0:01:15" for e in feed.entries)
    with client.get("/radio/cover.png") as cover:
        assert cover.status_code == 200 and cover.mimetype == "image/png"
        assert cover.data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", cover.data[16:24]) == (1400, 1400)

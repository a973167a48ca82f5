"""The live board's event stream: new messages by id, resume with Last-Event-ID, nothing personal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Transcript, utcnow
from ivr.core.services import services
from ivr.radio.board import events, parse_last_id
from tests.accountability.dataset import add_message
from tests.accounts_helpers import add_user, login
from tests.conftest import make_config

SECRET = "my name is Litia Waqa and my number is 9 2 3 4 5 6 7"


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return make_config(tmp_path, database_url, board_stream_seconds=1)


def parse(stream: str) -> list[dict[str, str]]:
    """Split an SSE body into frames: {id, event, data} (comments kept as {"comment": ...})."""
    frames = []
    for block in stream.split("\n\n"):
        frame: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                frame["comment"] = line[1:].strip()
            elif ": " in line:
                key, value = line.split(": ", 1)
                frame[key] = value
        if frame:
            frames.append(frame)
    return frames


def add_messages(config: Config, n: int, *, transcript: str | None = None, consent: str = "radio") -> list[int]:
    ids = []
    with database_for(config.database_url).session() as session:
        for _ in range(n):
            m = add_message(session, agency="water", created=utcnow() - timedelta(minutes=1), place="ba",
                            consent=consent)
            m.pipeline = "ready"
            if transcript is not None:
                session.add(Transcript(message_id=m.id, language="en", text=transcript, engine="test",
                                       model="none", audio_seconds=2.0, processing_seconds=0.1))
            ids.append(m.id)
    return ids


def host(app: Flask, config: Config) -> object:
    add_user(config, "host@station.example", "radio")
    client = app.test_client()
    login(client, "host@station.example")
    return client


def test_stream_sends_messages_after_last_event_id_and_nothing_personal(app: Flask, config: Config) -> None:
    ids = add_messages(config, 5, transcript=SECRET)
    client = host(app, config)
    response = client.get("/radio/board/events", headers={"Last-Event-ID": str(ids[2])})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    body = response.get_data(as_text=True)
    frames = parse(body)
    assert frames[0] == {"retry": "2000"}
    messages = [f for f in frames if f.get("event") == "message"]
    assert [int(f["id"]) for f in messages] == ids[3:]  # resumed after the last id seen, nothing missed
    item = json.loads(messages[0]["data"])
    assert set(item) == {"id", "time", "topic", "place", "language", "transcript", "pending", "on_air", "checked"}
    assert item["checked"] is False  # the machine's guess: the board marks it unchecked
    assert (item["topic"], item["place"], item["language"]) == ("Water", "Ba", "English")
    assert "Litia" not in body and "9 2 3 4" not in body  # redacted
    assert "[" in item["transcript"]  # redaction marks what it took out
    with services(app).db.session() as session:
        from ivr.core.models import Message
        for mid in ids:
            assert session.get(Message, mid).reference not in body  # type: ignore[union-attr]


def test_stream_without_id_starts_from_the_beginning_and_after_query_works(app: Flask, config: Config) -> None:
    ids = add_messages(config, 3, transcript="the pipe is broken")
    client = host(app, config)
    everything = parse(client.get("/radio/board/events").get_data(as_text=True))
    assert [int(f["id"]) for f in everything if f.get("event") == "message"] == ids
    later = parse(client.get(f"/radio/board/events?after={ids[0]}").get_data(as_text=True))
    assert [int(f["id"]) for f in later if f.get("event") == "message"] == ids[1:]


def test_events_generator_sees_a_message_added_while_streaming_and_heartbeats(config: Config, app: Flask) -> None:
    svc = services(app)
    first = add_messages(config, 1, transcript="first one")[0]
    # A long stream, left as soon as it has shown both: how long adding a message takes on a busy
    # machine must not decide whether a quiet stretch (and its heartbeat) fits before the end.
    stream = events(svc.db, svc.menus, first, seconds=30, tick=0.05, heartbeat=0.2)
    assert next(stream).startswith("retry:")
    frames = []
    added = None
    for chunk in stream:
        frames.extend(parse(chunk))
        if added is None:
            added = add_messages(config, 1, transcript=None)[0]  # arrives mid-stream, not yet transcribed
        elif any(f.get("event") == "message" for f in frames) and any("comment" in f for f in frames):
            break
    stream.close()
    assert added is not None
    assert [int(f["id"]) for f in frames if f.get("event") == "message"] == [added]
    assert any("comment" in f for f in frames)  # quiet stretches carry heartbeats


def test_update_event_when_the_transcript_arrives(config: Config, app: Flask) -> None:
    svc = services(app)
    with database_for(config.database_url).session() as session:
        m = add_message(session, agency="water", created=utcnow(), place="ba", consent="radio")
        m.pipeline = "stored"
        mid = m.id
    stream = events(svc.db, svc.menus, 0, seconds=1.0, tick=0.05, heartbeat=10)
    assert next(stream).startswith("retry:")
    frames = []
    transcribed = False
    for chunk in stream:
        frames.extend(parse(chunk))
        if not transcribed:
            with database_for(config.database_url).session() as session:
                session.add(Transcript(message_id=mid, language="en", text="water pipe burst near the school",
                                       engine="test", model="none", audio_seconds=2.0, processing_seconds=0.1))
            transcribed = True
    first = json.loads(next(f["data"] for f in frames if f.get("event") == "message"))
    assert first["pending"] is True and first["transcript"] == ""
    update = json.loads(next(f["data"] for f in frames if f.get("event") == "update"))
    assert update["id"] == mid and update["transcript"] == "water pipe burst near the school"


def test_stream_ends_within_the_bound(app: Flask, config: Config) -> None:
    import time
    client = host(app, config)
    started = time.monotonic()
    client.get("/radio/board/events").get_data()
    assert time.monotonic() - started < 5


def test_bad_last_event_id_refused(app: Flask, config: Config) -> None:
    client = host(app, config)
    response = client.get("/radio/board/events", headers={"Last-Event-ID": "abc"})
    assert response.status_code == 400 and b"Last-Event-ID" in response.data
    assert parse_last_id(None, None) == 0 and parse_last_id("12", "3") == 12 and parse_last_id("", "-1") is None


def test_board_needs_a_radio_login(app: Flask, config: Config) -> None:
    client = app.test_client()
    assert client.get("/radio/board/events").status_code == 302
    add_user(config, "official@water.example", "official", agency="water")
    login(client, "official@water.example")
    assert client.get("/radio/board/").status_code == 403


def test_board_page_escapes_caller_text_and_hides_references(app: Flask, config: Config) -> None:
    ids = add_messages(config, 1, transcript="<script>alert(1)</script> the tap is dry")
    client = host(app, config)
    page = client.get("/radio/board/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; the tap is dry" in page
    assert "<script>alert(1)" not in page
    assert f'id="message-{ids[0]}"' in page
    with services(app).db.session() as session:
        from ivr.core.models import Message
        assert session.get(Message, ids[0]).reference not in page  # type: ignore[union-attr]


def test_board_shows_checked_words_and_marks_machine_text(app: Flask, config: Config) -> None:
    machine, checked = add_messages(config, 2, transcript="you better off without told the mass murder")
    with database_for(config.database_url).session() as session:
        t = session.query(Transcript).filter(Transcript.message_id == checked).one()
        t.checked_text, t.checked_at = "the water pipe burst near the school", utcnow()
    page = host(app, config).get("/radio/board/").get_data(as_text=True)
    rows = {mid: page.split(f'id="message-{mid}"', 1)[1].split("</tr>", 1)[0] for mid in (machine, checked)}
    assert "mass murder" in rows[machine] and "machine guess, unchecked" in rows[machine]
    assert "the water pipe burst near the school" in rows[checked] and "unchecked" not in rows[checked]


@pytest.mark.parametrize("consent", ["agency", "anonymous"])
def test_board_shows_a_message_without_radio_consent_only_as_topic_place_language(
        app: Flask, config: Config, consent: str) -> None:
    [mid] = add_messages(config, 1, transcript="the tap at the Ba school is dry", consent=consent)
    client = host(app, config)
    page = client.get("/radio/board/").get_data(as_text=True)
    body = client.get("/radio/board/events?after=0").get_data(as_text=True)
    for shown in (page, body):
        assert "tap at the Ba school" not in shown
    item = json.loads(next(f["data"] for f in parse(body) if f.get("event") == "message"))
    assert item["id"] == mid and item["transcript"] == "" and item["on_air"] is False and item["pending"] is False
    assert (item["topic"], item["place"], item["language"]) == ("Water", "Ba", "English")
    assert "not for air" in page


def test_board_times_are_the_hotlines_local_time(app: Flask, config: Config) -> None:
    [mid] = add_messages(config, 1, transcript="the tap is dry")
    stamp = datetime(2026, 1, 15, 22, 30)  # naive UTC, as stored
    with database_for(config.database_url).session() as session:
        session.get(Message, mid).created_at = stamp  # type: ignore[union-attr]
    local = stamp.replace(tzinfo=UTC).astimezone(ZoneInfo(config.timezone))
    assert f"{local:%H:%M}" != "22:30"  # the test means something only off UTC (Pacific/Fiji by default)
    client = host(app, config)
    page = client.get("/radio/board/").get_data(as_text=True)
    row = page.split(f'id="message-{mid}"', 1)[1].split("</tr>", 1)[0]
    assert f"<td>{local:%H:%M}</td>" in row and "22:30" not in row and "Time (UTC)" not in page
    body = client.get("/radio/board/events?after=0").get_data(as_text=True)
    item = json.loads(next(f["data"] for f in parse(body) if f.get("event") == "message"))
    assert item["time"] == f"{local:%H:%M}"

"""Summaries counted against a known set of messages, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.models.radio import RadioClip, RadioSummary, RedactedTranscript
from ivr.radio.period import Period, last_complete_week, parse_since, week_of
from ivr.radio.station import Station, UnknownChoice
from ivr.radio.summary import Summary, store_summary

from .conftest import NOW, WEEK, add_message

BEFORE = WEEK.previous()


def known_week(session: Session) -> dict[str, int]:
    """This week: water/suva x3 (en), roads/nadi x2 (fr), health/ba x1 (fj, no transcript); the week
    before: water/suva x1, roads/nadi x3, safety/labasa x1; one message older than both, one at the end."""
    day = WEEK.start
    ids = {}
    ids["pipe"] = add_message(session, at=day + timedelta(hours=8), agency="water", answered_after=timedelta(days=1),
                              transcript="The water pipe is broken near the market").id
    ids["taps"] = add_message(session, at=day + timedelta(days=2), agency="water", answered_after=timedelta(days=9),
                              transcript="No water in the taps since Monday, my name is Ana Tuilagi",
                              consent="radio").id
    ids["phone"] = add_message(session, at=day + timedelta(days=3), agency="water", consent="radio",
                               transcript="Broken pipe, water everywhere. My name is Ana, call me on 9234567").id
    add_message(session, at=day + timedelta(days=1), language="fr", topic="roads", place="nadi", agency="roads",
                transcript="La route est cassée", consent="radio")
    add_message(session, at=day + timedelta(days=4), language="fr", topic="roads", place="nadi", agency="roads",
                transcript="La route près de l'école est cassée, je m'appelle Marie", consent="radio")
    add_message(session, at=day + timedelta(days=6, hours=23), language="fj", topic="health", place="ba",
                agency="health")
    add_message(session, at=BEFORE.start + timedelta(days=1), agency="water")
    for hours in (1, 30, 100):
        add_message(session, at=BEFORE.start + timedelta(hours=hours), language="fr", topic="roads", place="nadi")
    add_message(session, at=BEFORE.end - timedelta(seconds=1), topic="safety", place="labasa")
    add_message(session, at=BEFORE.start - timedelta(seconds=1), topic="electricity")  # in neither period
    add_message(session, at=WEEK.end, topic="electricity")  # the next week: periods are half-open
    return ids


def test_counts_by_topic_and_place_against_the_week_before(station: Station, session: Session) -> None:
    known_week(session)
    summary = station.summarise(session, WEEK, now=NOW)
    assert (summary.total, summary.previous_total, summary.change) == (6, 5, 1)
    assert [(c.key, c.count, c.previous) for c in summary.topics] == [
        ("water", 3, 1), ("roads", 2, 3), ("health", 1, 0), ("safety", 0, 1)]
    assert [(c.key, c.count, c.previous) for c in summary.places] == [
        ("suva", 3, 1), ("nadi", 2, 3), ("ba", 1, 0), ("labasa", 0, 1)]


def test_place_and_language_filters(station: Station, session: Session) -> None:
    known_week(session)
    nadi = station.summarise(session, WEEK, place="nadi", now=NOW)
    assert (nadi.total, nadi.previous_total) == (2, 3)
    assert [c.key for c in nadi.topics] == ["roads"]
    english = station.summarise(session, WEEK, language="en", now=NOW)
    assert (english.total, english.previous_total) == (3, 2)
    assert [t.language for t in english.themes] == ["en"]
    with pytest.raises(UnknownChoice, match="unknown place 'atlantis'"):
        station.summarise(session, WEEK, place="atlantis", now=NOW)
    with pytest.raises(UnknownChoice, match="unknown language 'xx'"):
        station.summarise(session, WEEK, language="xx", now=NOW)


def test_themes_are_shared_words_of_redacted_transcripts(station: Station, session: Session) -> None:
    ids = known_week(session)
    summary = station.summarise(session, WEEK, now=NOW)
    themes = {t.language: t for t in summary.themes}
    # Only callers who agreed to radio (consent 3: "phone", "taps" and the two French) lend their words:
    # "broken" and "pipe" of the agency-only "pipe" message are no theme (ivr/core/disclosure.py).
    assert [(w.word, w.messages) for w in themes["en"].words] == [("water", 2)]
    assert [(w.word, w.messages) for w in themes["fr"].words] == [("cassée", 2), ("route", 2)]
    # Two callers said the same name: it was redacted before counting, so it is no theme.
    everything = json.dumps(summary.to_json(), ensure_ascii=False).casefold()
    assert "ana" not in everything and "9234567" not in everything and "marie" not in everything
    kept = session.get(RedactedTranscript, ids["phone"])
    assert kept is not None and kept.text == "Broken pipe, water everywhere. My name is [name], call me on [phone]"
    assert kept.removed == 2


def test_language_without_transcripts_is_listed_with_none(station: Station, session: Session) -> None:
    known_week(session)
    fijian = {t.language: t for t in station.summarise(session, WEEK, now=NOW).themes}["fj"]
    assert (fijian.messages, fijian.transcripts, fijian.words) == (1, 0, ())


def test_agency_figures_come_from_the_database(station: Station, session: Session) -> None:
    known_week(session)
    water = next(a for a in station.summarise(session, WEEK, now=NOW).agencies if a.agency == "water")
    assert (water.received, water.answered, water.answered_within_due) == (3, 2, 1)


def test_quotes_only_approved_with_on_air_consent(station: Station, session: Session) -> None:
    ids = known_week(session)
    session.add(RadioClip(message_id=ids["phone"], status="approved", quote="Broken pipe, water everywhere.",
                          decided_at=NOW))
    # A clip row for a message without on-air consent (written behind the moderation queue's back):
    session.add(RadioClip(message_id=ids["pipe"], status="approved", quote="The water pipe is broken",
                          decided_at=NOW))
    session.add(RadioClip(message_id=ids["taps"], status="pending", quote="No water in the taps"))
    session.flush()
    quotes = station.summarise(session, WEEK, now=NOW).quotes
    assert [q.text for q in quotes] == ["Broken pipe, water everywhere."]
    assert (quotes[0].topic, quotes[0].place, quotes[0].language) == ("water", "suva", "en")


def test_empty_period(station: Station, session: Session) -> None:
    summary = station.summarise(session, WEEK, now=NOW)
    assert (summary.total, summary.previous_total, summary.topics, summary.places, summary.quotes) == (0, 0, (), (), ())
    assert summary.themes == ()


def test_json_round_trip_and_storing_once(station: Station, session: Session) -> None:
    known_week(session)
    summary = station.summarise(session, WEEK, now=NOW)
    assert Summary.from_json(json.loads(json.dumps(summary.to_json()))) == summary
    data = summary.to_json()
    assert data["total"] == 6 and data["topics"][0] == {"topic": "water", "count": 3, "previous": 1}
    first = store_summary(session, summary)
    session.flush()
    again = store_summary(session, station.summarise(session, WEEK, now=NOW + timedelta(hours=1)))
    session.flush()
    assert first.id == again.id
    assert len(session.scalars(select(RadioSummary)).all()) == 1


def test_periods() -> None:
    assert parse_since("7d") == timedelta(days=7) and parse_since("24h") == timedelta(hours=24)
    assert parse_since("2w") == timedelta(weeks=2)
    for bad in ("7", "seven days", "0d", "400d", "-1d"):
        with pytest.raises(ValueError):
            parse_since(bad)
    assert week_of(NOW) == Period(WEEK.end, WEEK.end + timedelta(days=7))
    assert last_complete_week(NOW) == WEEK
    assert WEEK.previous() == BEFORE and WEEK.days == 7

"""A script and a bulletin are entirely in their own language and script: other languages are named in the
station language, their messages counted, never quoted, and a message without a transcript never breaks one."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.models import utcnow
from ivr.radio.bulletin import READY, build_bulletin, request_bulletin
from ivr.radio.moderation import approve
from ivr.radio.period import last
from ivr.radio.script import write_script
from ivr.radio.station import Station

from .conftest import add_message

WEEK = timedelta(days=7)


def _devanagari(text: str) -> bool:
    return any("DEVANAGARI" in unicodedata.name(c, "") for c in text)


def test_a_hindi_message_without_transcript_in_an_all_places_english_bulletin(
        radio_config: Config, station: Station, session: Session) -> None:
    now = utcnow()
    add_message(session, at=now - timedelta(hours=3), language="hi", topic="water", place="ba", transcript=None)
    add_message(session, at=now - timedelta(hours=2), language="en", topic="roads", place="nadi",
                transcript="The road to the school is flooded")
    for language, hindi in (("en", "In Hindi: a few messages."), ("fr", "En hindi : quelques messages.")):
        bulletin = request_bulletin(session, station, last(WEEK, now), language=language)
        assert bulletin.place == ""  # every place
        assert build_bulletin(session, station, radio_config, bulletin.id) == READY, bulletin.error
        assert hindi in bulletin.script
        assert not _devanagari(bulletin.script)


def test_another_languages_quote_and_theme_words_stay_out_of_a_script(station: Station, session: Session) -> None:
    now = utcnow()
    said = "नल से पानी नहीं आता है"
    hindi = add_message(session, at=now - timedelta(hours=1), language="hi", consent="radio", transcript=said)
    english = add_message(session, at=now - timedelta(hours=2), language="en", consent="radio",
                          transcript="The water tank is empty again")
    approve(session, hindi.id, None, quote=said)
    approve(session, english.id, None, quote="The water tank is empty again")
    summary = station.summarise(session, last(WEEK, now))
    english_script = write_script(summary, station.script_language("en"), station.menus).text()
    assert "The water tank is empty again" in english_script and "In Hindi: a few messages." in english_script
    assert not _devanagari(english_script)
    hindi_script = write_script(summary, station.script_language("hi"), station.menus).text()
    assert said in hindi_script and "The water tank" not in hindi_script
    assert "अंग्रेज़ी में: कुछ संदेश।" in hindi_script and "English" not in hindi_script

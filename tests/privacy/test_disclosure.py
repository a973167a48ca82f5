"""Promise 2: the caller's consent decides what every audience sees (ivr/core/disclosure.py), and its users obey it."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from ivr.core.db import database_for
from ivr.core.disclosure import Agency, MessageFacts, allowed, may_see
from ivr.core.models import Message, utcnow
from ivr.core.models.accounts import User
from ivr.core.models.radio import RedactedTranscript
from ivr.radio.period import Period
from ivr.radio.themes import period_themes
from tests.accountability.dataset import add_message

CONSENTS = ("agency", "anonymous", "radio")
FIELDS = ("facts", "words", "redacted_words", "voice", "reference", "answers", "quote", "clip")
WATER = User(email="o@water.example", role="official", agency="water", password_hash="x")
ROADS = User(email="o@roads.example", role="official", agency="roads", password_hash="x")
ADMIN = User(email="a@example", role="admin", agency=None, password_hash="x")
HOST = User(email="h@station.example", role="radio", agency=None, password_hash="x")


@pytest.mark.parametrize("consent", CONSENTS)
def test_the_agency_it_is_routed_to_sees_everything_and_no_other_agency_anything(consent: str) -> None:
    m = MessageFacts(consent, "water")
    for field in ("facts", "words", "voice", "reference", "answers"):
        assert may_see("agency", field, m, viewer=WATER) and may_see("agency", field, m, viewer=ADMIN)  # type: ignore[arg-type]
        assert not may_see("agency", field, m, viewer=ROADS)  # type: ignore[arg-type]
        assert not may_see("agency", field, m, viewer=HOST)  # type: ignore[arg-type]
        assert not may_see("agency", field, m)  # type: ignore[arg-type]  # no reader named: nobody
    assert may_see("agency", "words", m, viewer=Agency("water")) and not may_see("agency", "words", m,
                                                                                  viewer=Agency("roads"))


@pytest.mark.parametrize(("consent", "field"), list(product(CONSENTS, FIELDS)))
def test_radio_sees_words_and_voice_only_with_on_air_consent_and_the_public_nothing(consent: str, field: str) -> None:
    m = MessageFacts(consent, "water")
    on_air = consent == "radio"
    expected = {"facts": True, "redacted_words": on_air, "voice": on_air, "quote": on_air, "clip": on_air}
    assert may_see("radio", field, m, approved=True) is expected.get(field, False)  # type: ignore[arg-type]
    if field in ("quote", "clip"):
        assert not may_see("radio", field, m, approved=False)  # type: ignore[arg-type]  # a host must approve
    assert not may_see("public", field, m)  # type: ignore[arg-type]  # counts only, never a message's fields


def test_the_sql_form_picks_the_same_messages_as_the_function(database_url: str) -> None:
    with database_for(database_url).session() as s:
        for consent in CONSENTS:
            add_message(s, agency="water", created=utcnow(), consent=consent)
        s.flush()
        for audience, field in product(("agency", "radio", "public"), FIELDS):
            picked = set(s.scalars(Message.__table__.select().with_only_columns(Message.consent)
                                   .where(allowed(audience, field))))  # type: ignore[arg-type]
            by_function = {c for c in CONSENTS
                           if may_see(audience, field, MessageFacts(c, "water"), viewer=ADMIN, approved=True)}  # type: ignore[arg-type]
            assert picked == by_function, (audience, field)


def test_radio_themes_use_only_the_words_of_callers_who_agreed_to_radio(database_url: str) -> None:
    now = utcnow()
    with database_for(database_url).session() as s:
        for consent, text in (("agency", "secret borehole pump"), ("agency", "secret borehole pump"),
                              ("anonymous", "secret borehole pump"), ("radio", "flooded market road"),
                              ("radio", "flooded market road")):
            m = add_message(s, agency="water", created=now - timedelta(hours=1), consent=consent)
            s.add(RedactedTranscript(message_id=m.id, language="en", text=text))
        s.flush()
        [themes] = period_themes(s, Period(now - timedelta(days=1), now), place=None, language=None, stopwords={})
    words = {t.word for t in themes.words}
    assert words == {"flooded", "market", "road"}
    assert themes.messages == 5  # counts still count every message

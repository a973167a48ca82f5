"""Keypad polls voted through the phone emulator: key 4 while open, one vote per phone, closed = gone."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest
from flask import Flask
from sqlalchemy import func, select

from ivr.core.models.radio import RadioPollVote
from ivr.core.services import services
from ivr.radio.polls import PollRefused, check_poll, close_poll, create_poll, poll_results
from ivr.voice.emulator import FlaskTransport, Heard, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL

SPOKEN = {"en": "Should the market open on Sundays? For yes press 1, for no press 2.",
          "fr": "Le marché doit-il ouvrir le dimanche ? Pour oui appuyez sur 1, pour non sur 2."}


def open_test_poll(app: Flask) -> int:
    svc = services(app)
    draft = check_poll("Market on Sundays?", ["Yes", "No"], SPOKEN, tuple(svc.menus.languages))
    with svc.db.session() as session:
        return create_poll(session, draft, user_id=None, data_dir=svc.config.data_dir).id


def text(app: Flask, prompt: str, lang: str = "en") -> str:
    return services(app).menus.text(lang, prompt)


def votes(app: Flask, poll_id: int) -> int:
    with services(app).db.session() as session:
        return int(session.scalar(select(func.count(RadioPollVote.id)).where(RadioPollVote.poll_id == poll_id)) or 0)


def other_phone(app: Flask, media: MediaHost, number: str) -> Phone:
    return Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media, from_number=number)


def test_caller_votes_with_key_4_then_an_option_key(app: Flask, phone: Phone) -> None:
    poll_id = open_test_poll(app)
    log = phone.call(Script(["1", "4", "2", None, None, None]))
    said = log.said()
    assert text(app, "poll_offer") in said  # the main menu tells callers about key 4
    assert text(app, "poll_intro") in said and text(app, "poll_thanks") in said
    # The question is played from its rendered audio, which Twilio can fetch.
    plays = [h.text for h in log.heard if h.kind == "play" and f"/polls/{poll_id}/en.wav" in h.text]
    assert plays
    with app.test_client().get(plays[0].replace(BASE_URL, "")) as audio:
        assert audio.status_code == 200 and audio.mimetype == "audio/wav" and audio.data[:4] == b"RIFF"
    with services(app).db.session() as session:
        assert poll_results(session, poll_id) == [(1, "Yes", 0), (2, "No", 1)]


def test_one_vote_per_phone(app: Flask, phone: Phone, media: MediaHost) -> None:
    poll_id = open_test_poll(app)
    phone.call(Script(["1", "4", "1", None, None, None]))
    again = phone.call(Script(["4", None, None, None]))  # returning caller: straight to the main menu
    assert text(app, "poll_already_voted") in again.said()
    assert text(app, "poll_intro") not in again.said()
    assert votes(app, poll_id) == 1
    other_phone(app, media, "+6797001234").call(Script(["1", "4", "1", None, None, None]))
    with services(app).db.session() as session:
        assert poll_results(session, poll_id) == [(1, "Yes", 2), (2, "No", 0)]


def test_hidden_number_cannot_vote_and_is_told(app: Flask, media: MediaHost) -> None:
    poll_id = open_test_poll(app)
    log = other_phone(app, media, "anonymous").call(Script(["1", "4", None, None, None]))
    assert text(app, "poll_needs_number") in log.said()
    assert text(app, "poll_intro") not in log.said()
    assert votes(app, poll_id) == 0


def test_closed_poll_is_not_offered(app: Flask, phone: Phone) -> None:
    poll_id = open_test_poll(app)
    with services(app).db.session() as session:
        close_poll(session, poll_id)
    log = phone.call(Script(["1", "4", None, None, None]))
    said = log.said()
    assert text(app, "poll_offer") not in said
    assert text(app, "invalid_choice") in said  # key 4 is not on the menu
    assert votes(app, poll_id) == 0


def test_no_poll_means_no_key_4(app: Flask, phone: Phone) -> None:
    log = phone.call(Script(["1", "4", None, None, None]))
    assert text(app, "poll_offer") not in log.said() and text(app, "invalid_choice") in log.said()


def test_key_beyond_the_options_is_a_wrong_key(app: Flask, phone: Phone) -> None:
    poll_id = open_test_poll(app)
    log = phone.call(Script(["1", "4", "7", "1", None, None, None]))
    said = log.said()
    assert said.index(text(app, "invalid_choice")) < said.index(text(app, "poll_thanks"))
    with services(app).db.session() as session:
        assert poll_results(session, poll_id) == [(1, "Yes", 1), (2, "No", 0)]


@dataclass
class ClosesMidQuestion:
    """A caller who reaches the question just as the host closes the poll, then presses 1."""

    app: Flask
    poll_id: int
    steps: list[str | None] = field(default_factory=lambda: ["1", "4", "1", None, None, None])

    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        if len(self.steps) == 4:  # now at the poll node
            with services(self.app).db.session() as session:
                close_poll(session, self.poll_id)
        return self.steps.pop(0)

    def record(self, heard: list[Heard]) -> bytes | None:
        raise AssertionError("no recording in this call")


def test_voting_a_poll_closed_meanwhile_is_refused_clearly(app: Flask, phone: Phone) -> None:
    poll_id = open_test_poll(app)
    log = phone.call(ClosesMidQuestion(app, poll_id))
    assert text(app, "poll_closed") in log.said()
    assert text(app, "poll_thanks") not in log.said()
    assert votes(app, poll_id) == 0


def test_french_caller_hears_the_french_question_and_hindi_is_not_offered(app: Flask, phone: Phone,
                                                                         media: MediaHost) -> None:
    poll_id = open_test_poll(app)
    french = phone.call(Script(["2", "4", "1", None, None, None]))
    assert text(app, "poll_offer", "fr") in french.said()
    assert any(h.kind == "play" and f"/polls/{poll_id}/fr.wav" in h.text for h in french.heard)
    # No Hindi question was written: Hindi callers are not offered the poll.
    hindi = other_phone(app, media, "+6797005555").call(Script(["3", "4", None, None, None]))
    assert text(app, "poll_offer", "hi") not in hindi.said()
    assert votes(app, poll_id) == 1


@pytest.mark.parametrize(("question", "options", "spoken", "wanted"), [
    ("Q?", [str(i) for i in range(11)], SPOKEN, "2 to 9 options"),
    ("Q?", ["only one"], SPOKEN, "got 1"),
    ("   ", ["Yes", "No"], SPOKEN, "the question is empty"),
    ("Q?", ["Yes", "No"], {"en": "  "}, "at least one language"),
    ("Q?", ["Yes", "No"], {"xx": "Hello"}, "unknown language xx"),
])
def test_bad_poll_input_is_refused_clearly(question: str, options: list[str], spoken: dict[str, str],
                                           wanted: str) -> None:
    with pytest.raises(PollRefused, match=wanted):
        check_poll(question, options, spoken, ("en", "fr", "hi", "fj"))


def test_second_open_poll_refused(app: Flask) -> None:
    open_test_poll(app)
    with pytest.raises(PollRefused, match="still open"):
        open_test_poll(app)

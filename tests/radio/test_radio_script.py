"""The script a host reads: only numbers from the database, quotes verbatim, in the station's language."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from ivr.commands.cli import main
from ivr.core.models import utcnow
from ivr.core.models.radio import RadioClip, RadioPoll, RadioPollVote
from ivr.radio.phrases import load_radio_languages
from ivr.radio.script import write_script
from ivr.radio.station import Station
from menus import MenuError
from menus.loader import DEFAULT_ROOT

from .conftest import NOW, WEEK, add_message
from .test_radio_summary import known_week


def test_script_of_a_known_week(station: Station, session: Session) -> None:
    ids = known_week(session)
    session.add(RadioClip(message_id=ids["phone"], status="approved", quote="Broken pipe, water everywhere.",
                          decided_at=NOW))
    session.flush()
    text = write_script(station.summarise(session, WEEK, now=NOW), station.languages["en"], station.menus).text()
    assert "From 16 November to 23 November, callers left 6 messages." in text
    assert "That is 1 more than in the 7 days before, when there were 5." in text
    # The small-group rule (ivr/core/disclosure.py): no count under 5 goes on air.
    assert "water: a few." in text and "roads: a few." in text and "Suva: a few." in text
    assert not any(f": {n}." in text for n in range(1, 5))
    assert "safety" not in text  # no message this week: not read out
    assert "Water Authority answered a few of a few within 7 days." in text
    assert "water." in text and "broken" not in text.split("said:")[0]  # themes: on-air consent only
    # Other languages are named in English and counted under the same rule (never their own name, never words)
    assert "In French: a few messages." in text and "In Fijian: a few messages." in text
    assert "Vosa vaka-Viti" not in text
    assert 'A caller about water in Suva said: “Broken pipe, water everywhere.”' in text
    # Nothing else any caller said is in the script: not the other transcripts, not names or numbers.
    for secret in ("Ana", "9234567", "Marie", "market", "taps"):
        assert secret not in text


def test_empty_period_says_so(station: Station, session: Session) -> None:
    script = write_script(station.summarise(session, WEEK, now=NOW), station.languages["en"], station.menus)
    first = script.text().splitlines()[3]
    assert first == "From 16 November to 23 November, no one left a message on the Talanoa Hotline."
    assert [s.key for s in script.sections] == ["intro", "outro"]


def test_script_in_french_uses_french_names(station: Station, session: Session) -> None:
    known_week(session)
    french = write_script(station.summarise(session, WEEK, now=NOW), station.languages["fr"], station.menus)
    text = french.text()
    assert "Du 16 novembre au 23 novembre, les appelants ont laissé 6 messages." in text
    assert not french.reviewed
    assert f"{station.menus.text('fr', 'topic_water')} : quelques." in text


def test_every_language_has_every_phrase() -> None:
    languages = load_radio_languages(DEFAULT_ROOT / "radio")
    assert set(languages) == {"en", "fr", "hi", "fj"}
    assert [code for code, lang in languages.items() if lang.reviewed] == ["en"]
    assert all(set(lang.phrases) == set(languages["en"].phrases) for lang in languages.values())


def test_a_broken_phrase_file_names_the_phrase(tmp_path: Path) -> None:
    for code in ("en", "fr"):
        (tmp_path / f"{code}.toml").write_text((DEFAULT_ROOT / "radio" / f"{code}.toml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    fr = (tmp_path / "fr.toml").read_text(encoding="utf-8").replace("{total} messages", "{totl} messages")
    (tmp_path / "fr.toml").write_text(fr, encoding="utf-8")
    with pytest.raises(MenuError, match=r"radio/fr.toml: phrase intro must use the fields"):
        load_radio_languages(tmp_path)


def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
            "HOTLINE_DATA_DIR": str(tmp_path / "cli-data"), "HOTLINE_ENV_FILE": str(tmp_path / "none.env"),
            "DATABASE_URL": database_url, "REDIS_URL": ""}


def test_cli_summary_json(tmp_path: Path, database_url: str, session: Session) -> None:
    now = utcnow()
    for days, topic, place in ((1, "water", "suva"), (2, "water", "nadi"), (3, "roads", "nadi"), (9, "roads", "ba")):
        add_message(session, at=now - timedelta(days=days), topic=topic, place=place, agency=topic)
    radio = add_message(session, at=now - timedelta(days=1), consent="radio", topic="health", place="ba",
                        transcript="The clinic in Ba has no nurse")
    session.add(RadioClip(message_id=radio.id, status="approved", quote="The clinic in Ba has no nurse",
                          decided_at=now))
    session.commit()
    env = cli_env(tmp_path, database_url)
    result = CliRunner().invoke(main, ["radio", "summary", "--since", "7d", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 4 and data["previous_total"] == 1
    assert [(t["topic"], t["count"]) for t in data["topics"]] == [("water", 2), ("roads", 1), ("health", 1)]
    assert {p["place"]: p["count"] for p in data["places"]} == {"nadi": 2, "suva": 1, "ba": 1}
    assert {a["agency"]: a["received"] for a in data["agencies"]}["water"] == 2
    assert [q["text"] for q in data["quotes"]] == ["The clinic in Ba has no nurse"]
    nadi = CliRunner().invoke(main, ["radio", "summary", "--place", "nadi", "--json"], env=env)
    assert json.loads(nadi.output)["total"] == 2
    text = CliRunner().invoke(main, ["radio", "summary", "--lang", "fr"], env=env)
    assert text.exit_code == 0 and "personne n'a laissé de message" in text.output


def test_cli_summary_refuses_bad_input(tmp_path: Path, database_url: str) -> None:
    env = cli_env(tmp_path, database_url)
    bad_since = CliRunner().invoke(main, ["radio", "summary", "--since", "a week"], env=env)
    assert bad_since.exit_code == 2 and "write a number and h, d or w" in bad_since.output
    bad_place = CliRunner().invoke(main, ["radio", "summary", "--place", "atlantis"], env=env)
    assert bad_place.exit_code == 2 and "unknown place 'atlantis'" in bad_place.output


def test_poll_results_are_read_out(station: Station, session: Session) -> None:
    poll = RadioPoll(question="Should the market open on Sundays?", options=json.dumps(["yes", "no"]),
                     opened_at=WEEK.start + timedelta(days=2), status="closed")
    earlier = RadioPoll(question="Last month's question", options=json.dumps(["a", "b"]),
                        opened_at=WEEK.start - timedelta(days=20), status="closed")
    session.add_all([poll, earlier])
    session.flush()
    for i, key in enumerate((1, 1, 2)):
        session.add(RadioPollVote(poll_id=poll.id, voter_hash=f"{i:064d}", option=key, language="en"))
    session.flush()
    summary = station.summarise(session, WEEK, now=NOW)
    assert [(p.question, p.options) for p in summary.polls] == [
        ("Should the market open on Sundays?", ((1, "yes", 2), (2, "no", 1)))]
    assert summary.to_json()["polls"][0]["options"][0] == {"key": 1, "label": "yes", "votes": 2}
    text = write_script(summary, station.languages["en"], station.menus).text()
    assert "Should the market open on Sundays? yes: 2, no: 1." in text and "Last month" not in text


def test_small_groups_stay_off_air_with_their_complement(station: Station, session: Session) -> None:
    """One hidden count next to a published total could be worked out: the next smallest is hidden too."""
    for _ in range(7):
        add_message(session, at=WEEK.start + timedelta(days=1), agency="water", topic="water")
    for _ in range(6):
        add_message(session, at=WEEK.start + timedelta(days=1), agency="roads", topic="roads")
    add_message(session, at=WEEK.start + timedelta(days=2), agency="health", topic="health", place="levuka")
    text = write_script(station.summarise(session, WEEK, now=NOW), station.languages["en"], station.menus).text()
    assert "callers left 14 messages." in text
    topics = text.split("By topic:")[1].split("By place:")[0]
    assert "health: a few." in topics and "roads: a few." in topics and "water: 7." in topics
    assert "Levuka: 1" not in text and "Levuka: a few." in text

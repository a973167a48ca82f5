"""Routing decisions and their reasons, as a pure function over the shipped and made-up files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.core.routing import Decision, MessageFacts, route
from menus import Menus, load_menus
from menus.agencies import Routing, load_routing
from menus.rules import words

MENUS_DIR = Path(__file__).resolve().parents[2] / "menus"


@pytest.fixture(scope="module")
def menus() -> Menus:
    return load_menus(MENUS_DIR)


@pytest.fixture(scope="module")
def shipped(menus: Menus) -> Routing:
    return load_routing(menus, MENUS_DIR / "agencies.toml", MENUS_DIR / "routing.toml")


def decide(routing: Routing, topic: str | None, place: str | None, language: str = "en",
           transcript: str | None = None) -> Decision:
    return route(MessageFacts(topic, place, language), transcript, routing.agencies, routing.rules)


@pytest.mark.parametrize(("topic", "agency"), [("water", "water"), ("health", "health"), ("roads", "roads"),
                                               ("electricity", "power"), ("safety", "police"), ("other", "triage")])
def test_each_keypad_topic_reaches_its_agency(shipped: Routing, topic: str, agency: str) -> None:
    assert decide(shipped, topic, "suva").agency == agency


def test_reason_names_keypad_choices_agency_and_agreeing_keyword(shipped: Routing) -> None:
    decision = decide(shipped, "water", "ba", transcript="The pipe near the school is broken")
    assert decision == Decision("water", "topic=water, place=ba → water; keyword 'pipe'")


def test_prefix_keyword_quotes_the_word_the_caller_said(shipped: Routing) -> None:
    assert decide(shipped, "water", "ba", transcript="two pipes and a tap").reason == \
        "topic=water, place=ba → water; keywords 'pipes', 'tap'"


def test_keyword_decides_when_the_caller_pressed_other(shipped: Routing) -> None:
    decision = decide(shipped, "other", "nadi", transcript="there is a big pothole on the road to the market")
    assert decision == Decision("roads", "topic=other, place=nadi; keywords 'road', 'pothole' → topic roads → roads")


def test_most_keywords_win_and_ties_go_to_the_first_rule(shipped: Routing) -> None:
    said = "the pipe leaks onto the road"  # water: pipe, leaks; roads: road
    assert decide(shipped, "other", "ba", transcript=said).agency == "water"
    assert decide(shipped, "other", "ba", transcript="pipe road").agency == "water"  # tie: water is listed first


def test_disagreeing_keyword_is_noted_but_keypad_stands(shipped: Routing) -> None:
    decision = decide(shipped, "roads", "ba", transcript="a fight broke out at the bus stop")
    assert decision == Decision("roads", "topic=roads, place=ba → roads; keyword 'fight' suggests safety (keypad kept)")


def test_unroutable_goes_to_triage_with_its_reason(shipped: Routing) -> None:
    assert decide(shipped, "other", "ba", transcript="hello I wanted to say thank you") == \
        Decision("triage", "topic=other, place=ba → triage; no agency covers other, no keyword matched")
    assert decide(shipped, None, None, language="fj") == \
        Decision("triage", "topic=none, place=none → triage; no topic chosen, no transcript")


def test_rules_are_per_language(shipped: Routing) -> None:
    # "robinet" is French for tap: it routes a French message, not an English one
    assert decide(shipped, "other", "suva", "fr", "le robinet fuit depuis lundi").agency == "water"
    assert decide(shipped, "other", "suva", "en", "le robinet").agency == "triage"
    assert decide(shipped, "other", "suva", "hi", "हमारे गाँव में बिजली नहीं है").reason == \
        "topic=other, place=suva; keyword 'बिजली' → topic electricity → power"
    assert decide(shipped, "other", "suva", "fr", "il n'y a plus d'électricité").agency == "power"


def write(tmp_path: Path, agencies: str, rules: str = "") -> tuple[Path, Path]:
    a, r = tmp_path / "agencies.toml", tmp_path / "routing.toml"
    a.write_text(agencies, encoding="utf-8")
    r.write_text(rules, encoding="utf-8")
    return a, r


TRIAGE = '\n[agencies.triage]\nname = "Triage"\ntriage = true\n'


def test_named_place_beats_everywhere_and_language_beats_place(tmp_path: Path, menus: Menus) -> None:
    a, r = write(tmp_path, '''
[agencies.water]
name = "Water"
topics = ["water"]
languages = ["en", "fr", "hi"]
[agencies.water_west]
name = "Water, western division"
topics = ["water"]
places = ["nadi", "lautoka", "ba"]
languages = ["en", "hi"]
[agencies.water_fr]
name = "Water, French desk"
topics = ["water"]
places = ["suva"]
languages = ["fr"]
''' + TRIAGE)
    routing = load_routing(menus, a, r)
    assert decide(routing, "water", "ba").reason == "topic=water, place=ba → water_west"
    assert decide(routing, "water", "suva").agency == "water"
    assert decide(routing, "water", "suva", "fr").agency == "water_fr"
    # Nobody lists Fijian: the desk for Ba still gets it (better than triage), and the reason says so.
    assert decide(routing, "water", "ba", "fj").reason == \
        "topic=water, place=ba → water_west (it does not list language fj)"


def test_agency_covering_only_some_places_leaves_the_rest_to_triage(tmp_path: Path, menus: Menus) -> None:
    a, r = write(tmp_path, '[agencies.roads]\nname = "Roads"\ntopics = ["roads"]\nplaces = ["suva"]\n' + TRIAGE,
                 '[en.topics]\nroads = ["pothole*"]\n')
    routing = load_routing(menus, a, r)
    assert decide(routing, "roads", "labasa") == \
        Decision("triage", "topic=roads, place=labasa → triage; no agency covers roads at labasa, no transcript")
    assert decide(routing, "other", "labasa", transcript="potholes").reason == \
        "topic=other, place=labasa; keyword 'potholes' → topic roads, which no agency covers at labasa → triage"


def test_agency_keyword_wins_over_the_keypad(tmp_path: Path, menus: Menus) -> None:
    a, r = write(tmp_path, '[agencies.roads]\nname = "Roads"\ntopics = ["roads"]\n'
                           '[agencies.fire]\nname = "Fire service"\ntopics = ["safety"]\n' + TRIAGE,
                 '[en.agencies]\nfire = ["fire", "smoke"]\n[en.topics]\nroads = ["road"]\n')
    routing = load_routing(menus, a, r)
    assert decide(routing, "roads", "ba", transcript="a house is on fire by the road") == \
        Decision("fire", "topic=roads, place=ba; keyword 'fire' → fire")


def test_words_keep_marks_and_hyphens_split_apostrophes_and_fold_case() -> None:
    assert words("Le ROBINET, l'eau!  पानी-नल") == ("le", "robinet", "l", "eau", "पानी-नल")
    assert words("बिजली नहीं है") == ("बिजली", "नहीं", "है")
    assert words("") == ()

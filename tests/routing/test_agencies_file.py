"""The agencies and rules files are checked on load: one error listing every problem, with file and agency."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.cli import main
from menus import MenuError, load_menus
from menus.agencies import load_agencies, load_routing

MENUS_DIR = Path(__file__).resolve().parents[2] / "menus"
ENV = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://x"}


def problems_of(tmp_path: Path, agencies: str, rules: str | None = None) -> list[str]:
    a = tmp_path / "agencies.toml"
    a.write_text(agencies, encoding="utf-8")
    r = tmp_path / "routing.toml"
    r.write_text(rules or "", encoding="utf-8")
    with pytest.raises(MenuError) as caught:
        load_routing(load_menus(MENUS_DIR), a, r)
    return caught.value.problems


def test_shipped_agencies_cover_every_topic() -> None:
    agencies = load_agencies(MENUS_DIR / "agencies.toml", load_menus(MENUS_DIR))
    assert list(agencies.by_code) == ["water", "health", "roads", "power", "police", "triage"]
    assert agencies.triage.code == "triage" and agencies.triage.topics == ("other",)
    covered = {t for a in agencies.by_code.values() for t in a.topics}
    assert covered == {"water", "health", "roads", "electricity", "safety", "other"}


def test_every_problem_is_listed_with_file_and_agency(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, '''
colour = "blue"

[agencies.water]
name = "Water"
topics = ["water", "sewage"]
places = ["suva", "atlantis"]
languages = ["en", "klingon"]
budget = 3

[[agencies.water.notify]]
webhook = "http://water.example.org/hook"
secret = "hunter2"

[[agencies.water.notify]]
email = "not an address"

[[agencies.water.notify]]
open311 = "ftp://311.example.org"
api_key = "abc"

[[agencies.water.notify]]
webhook = "https://water.example.org/hook"
email = "desk@water.example.org"

[agencies.Roads]
name = "Roads"
topics = ["roads"]

[agencies.empty]
name = ""
topics = []
places = ["*", "suva"]
''')
    expected = [
        "agencies.toml: unknown top-level setting 'colour'",
        "agencies.toml: agency water: unknown setting 'budget'",
        "agencies.toml: agency water: topics: 'sewage' is not one of",
        "agencies.toml: agency water: places: 'atlantis' is not one of",
        "agencies.toml: agency water: languages: 'klingon' is not one of",
        "agencies.toml: agency water: notify #1: 'secret' must not be written in this file",
        "agencies.toml: agency water: notify #1: 'http://water.example.org/hook' must use https",
        "agencies.toml: agency water: notify #1: secret_env must name an environment variable",
        "agencies.toml: agency water: notify #2: 'not an address' is not an email address",
        "agencies.toml: agency water: notify #3: 'api_key' must not be written in this file",
        "agencies.toml: agency water: notify #3: 'ftp://311.example.org' is not an http(s) URL",
        "agencies.toml: agency water: notify #3: an open311 target needs service_code",
        "agencies.toml: agency water: notify #3: api_key_env must name an environment variable",
        "agencies.toml: agency water: notify #4: name exactly one of webhook",
        "agencies.toml: agency Roads: code must be a lowercase word",
        "agencies.toml: agency empty: name is missing",
        "agencies.toml: agency empty: topics is empty",
        "agencies.toml: agency empty: places: \"*\" already means all",
        "agencies.toml: exactly one agency must have triage = true",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected), problems


def test_two_agencies_tied_for_the_same_messages(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, '''
[agencies.water]
name = "Water"
topics = ["water"]
[agencies.water2]
name = "Water again"
topics = ["water"]
[agencies.triage]
name = "Triage"
triage = true
''')
    assert problems == ["agencies.toml: agency water2: covers topic water at suva in en just as agency water does; "
                        "name places or languages so that one of them is more specific"]


def test_two_triage_queues_and_bad_toml(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, '[agencies.a]\nname="A"\ntriage=true\n[agencies.b]\nname="B"\ntriage=true\n')
    assert problems == ["agencies.toml: exactly one agency must have triage = true (it takes what nothing else "
                        "covers); found a, b"]
    assert problems_of(tmp_path, "[agencies.water\n")[0].startswith("agencies.toml: not valid TOML")


def test_rules_problems_name_file_language_and_keyword(tmp_path: Path) -> None:
    agencies = (MENUS_DIR / "agencies.toml").read_text(encoding="utf-8")
    problems = problems_of(tmp_path, agencies, '''
[en.topics]
water = ["pipe", "tap"]
roads = ["tap", "!!!"]
plumbing = ["wrench"]
[en.agencies]
fire = ["smoke"]
[en.colours]
red = ["red"]
[xx.topics]
water = ["aqua"]
[fr]
topics = "eau"
''')
    assert problems == [
        "routing.toml: language en: unknown table 'colours' (use topics or agencies)",
        "routing.toml: language en: agency fire: not one of health, police, power, roads, triage, water",
        "routing.toml: language en: topic roads: keyword 'tap' is also listed for topic water",
        "routing.toml: language en: topic roads: keyword '!!!' has no letters",
        "routing.toml: language en: topic plumbing: not one of electricity, health, other, roads, safety, water",
        "routing.toml: language xx: not a language of the menus (en, fj, fr, hi)",
        "routing.toml: language fr: topics must be a table of code = [keywords]",
    ]


def test_menus_check_reports_agency_problems(tmp_path: Path) -> None:
    ok = CliRunner().invoke(main, ["menus", "check"], env={**ENV, "HOTLINE_ENV_FILE": str(tmp_path / "none")})
    assert ok.exit_code == 0, ok.output
    assert "agencies OK: 6 (water, health, roads, power, police, triage; triage: triage)" in ok.output
    bad = tmp_path / "agencies.toml"
    bad.write_text('[agencies.water]\nname = "Water"\ntopics = ["juice"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["menus", "check"], env={**ENV, "HOTLINE_AGENCIES": str(bad),
                                                               "HOTLINE_ENV_FILE": str(tmp_path / "none")})
    assert result.exit_code == 1
    assert "agencies.toml: agency water: topics: 'juice' is not one of" in result.output
    assert "agencies.toml: exactly one agency must have triage = true" in result.output


def test_menus_check_warns_of_a_missing_secret(tmp_path: Path) -> None:
    path = tmp_path / "agencies.toml"
    path.write_text('[agencies.triage]\nname = "Triage"\ntriage = true\n[[agencies.triage.notify]]\n'
                    'webhook = "https://triage.example.org/hook"\nsecret_env = "NOT_SET_ANYWHERE_SECRET"\n')
    result = CliRunner().invoke(main, ["menus", "check"], env={**ENV, "HOTLINE_AGENCIES": str(path),
                                                               "HOTLINE_ENV_FILE": str(tmp_path / "none")})
    assert result.exit_code == 0, result.output
    assert "warning: agency triage: webhook needs NOT_SET_ANYWHERE_SECRET, which is not set here" in result.output

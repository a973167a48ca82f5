"""The call funnel: place calls that silence, mis-key, hang up at known nodes and complete, then read
`hotline stats --json` and the operator's page, and compare them with what was placed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from ivr import create_app
from ivr.commands.cli import main
from ivr.core.config import Config
from ivr.core.models.funnel import FunnelCount
from ivr.core.services import services
from ivr.voice.emulator import HANG_UP, FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs, make_config


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    """Counts written with every end-of-call callback, so a test reads them at once."""
    return make_config(tmp_path, database_url, funnel_flush_seconds=0)


def place_known_calls(phone: Phone, speech_wav: bytes) -> None:
    """Four new callers: one report kept, one silent at the topic, one mis-keys then hangs up, one hangs up at place."""
    scripts = [Script(["1", "1", "1", "1", "1", "REC", "1"], [speech_wav]),  # English, kept
               Script(["1", "1", None, None, None]),  # silent at the topic menu until goodbye
               Script(["1", "7", "1", HANG_UP]),  # 7 is no key of the main menu; hangs up at the topic menu
               Script(["2", "1", "3", HANG_UP])]  # French, hangs up at the place menu
    for i, script in enumerate(scripts):
        phone.from_number = f"+67999900{i:02d}"
        phone.call(script)


def stats_json(tmp_path: Path, database_url: str) -> dict:  # type: ignore[type-arg]
    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
           "HOTLINE_DATA_DIR": str(tmp_path / "cli"), "HOTLINE_ENV_FILE": str(tmp_path / "none.env"),
           "DATABASE_URL": database_url, "REDIS_URL": ""}
    result = CliRunner().invoke(main, ["stats", "--json", "--days", "2"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def node(stats: dict, lang: str, name: str) -> dict:  # type: ignore[type-arg]
    return next(n for n in stats["nodes"][lang] if n["node"] == name)


def test_stats_json_counts_exactly_the_calls_placed(app: Flask, phone: Phone, speech_wav: bytes, tmp_path: Path,
                                                   database_url: str) -> None:
    place_known_calls(phone, speech_wav)
    stats = stats_json(tmp_path, database_url)
    assert stats["calls"] == {"": 4} and stats["kept"] == {"en": 1}
    assert {k: node(stats, "", "language")[k] for k in ("entered", "chose", "silence", "wrong_key", "hung_up")} == \
        {"entered": 4, "chose": 4, "silence": 0, "wrong_key": 0, "hung_up": 0}
    main_en = node(stats, "en", "main")
    assert (main_en["entered"], main_en["repeated"], main_en["chose"], main_en["wrong_key"], main_en["hung_up"]) == \
        (3, 1, 3, 1, 0)
    topic = node(stats, "en", "report_topic")
    assert (topic["entered"], topic["repeated"], topic["chose"], topic["silence"], topic["hung_up"]) == (3, 2, 1, 3, 1)
    place_fr = node(stats, "fr", "report_place")
    assert (place_fr["entered"], place_fr["chose"], place_fr["hung_up"]) == (1, 0, 1)
    assert node(stats, "en", "too_many_tries")["entered"] == 1
    funnel = {s["node"]: s["entered"] for s in stats["funnel"]}
    assert funnel == {"language": 4, "main": 4, "report_topic": 4, "report_place": 2, "report_consent": 1,
                      "record": 1, "review": 1, ":kept": 1}
    assert {c["language"]: (c["reports"], c["kept"]) for c in stats["completion"]} == {"en": (3, 1), "fr": (1, 0)}
    assert [(t["language"], t["reports"]) for t in stats["time_to_report"]] == [("en", 1)]
    worst = [(w["language"], w["node"]) for w in stats["worst_prompts"][:2]]
    assert worst == [("fr", "report_place"), ("en", "report_topic")]  # 1 of 1 hung up; 4 of 5 ended badly
    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://x",
           "HOTLINE_DATA_DIR": str(tmp_path / "cli"), "HOTLINE_ENV_FILE": "", "DATABASE_URL": database_url}
    text = CliRunner().invoke(main, ["stats"], env=env).output
    assert "report_topic" in text and "100%" in text and "fr   report_place" in text


def test_menu_steps_write_nothing_and_callbacks_write_at_most_every_flush_interval(
        tmp_path: Path, database_url: str, media: MediaHost) -> None:
    app = create_app(make_config(tmp_path, database_url, funnel_flush_seconds=3600))
    svc = services(app)
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    phone.status_callback = False
    first = phone.call(Script(["1", "1", HANG_UP]))
    with svc.db.session() as s:
        assert s.scalar(select(func.count()).select_from(FunnelCount)) == 0  # counted in memory only
    assert svc.funnel.pending()
    end = {"CallStatus": "completed", "CallDuration": "9"}
    phone.post(first, f"{phone.base_url}/voice/status", end)  # the first end-of-call callback writes them
    assert not svc.funnel.pending()
    phone.from_number = "+6799990077"
    phone.status_callback = True
    phone.call(Script(["2", HANG_UP]))  # with its own end-of-call callback, within the hour: kept in memory
    assert svc.funnel.pending()
    with svc.db.session() as s:
        entered = {n: e for n, e in s.execute(select(FunnelCount.node, FunnelCount.entered)
                                              .where(FunnelCount.language == "en"))}
        assert entered == {"main": 1, "report_topic": 1}
        svc.funnel.flush(s)  # what the process does at exit
    with svc.db.session() as s:
        assert s.scalar(select(FunnelCount.entered).where(FunnelCount.language == "fr",
                                                          FunnelCount.node == "main")) == 1
    finish_jobs(app)

"""The hosts' week and script pages, and summaries made on a schedule by the worker."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import utcnow
from ivr.core.models.radio import RadioBulletin, RadioSummary, RedactedTranscript
from ivr.core.services import services
from ivr.radio.moderation import approve
from ivr.radio.period import last_complete_week
from ivr.radio.schedule import enqueue_due_summaries, enqueue_redaction
from tests.conftest import finish_jobs

from .conftest import add_message, host_client
from .test_radio_script import cli_env

SHOUT = "The <b>drain</b> & the road in Nadi flood <script>alert(1)</script> every week"


def test_week_and_script_pages(radio_app: Flask, radio_config: Config) -> None:
    with database_for(radio_config.database_url).session() as s:
        for hours in (3, 20, 40):
            add_message(s, at=utcnow() - timedelta(hours=hours), topic="roads", place="nadi", agency="roads")
        m = add_message(s, at=utcnow() - timedelta(hours=1), consent="radio", topic="roads", place="nadi",
                        transcript=SHOUT)
        approve(s, m.id, None)
    host = host_client(radio_app, radio_config)
    week = host.get("/radio/")
    html = week.get_data(as_text=True)
    assert week.status_code == 200 and '<strong id="total">4</strong>' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    script = host.get("/radio/script?in=fr")
    page = script.get_data(as_text=True)
    # 4 messages: under 5, said as "quelques" (the small-group rule, ivr/core/disclosure.py)
    assert script.status_code == 200 and 'lang="fr"' in page and "les appelants ont laissé quelques messages" in page
    assert "drain" not in page  # an English caller's quote is not read in a French script
    assert "default-src 'none'" in script.headers["Content-Security-Policy"]
    english = host.get("/radio/script").get_data(as_text=True)
    assert "<b>drain</b>" not in english and "&lt;b&gt;drain&lt;/b&gt;" in english
    text = host.get("/radio/script.txt")
    assert text.mimetype == "text/plain" and f"said: “{SHOUT}”" in text.get_data(as_text=True)


def test_scheduler_stores_last_weeks_summaries_once(radio_app: Flask, radio_config: Config) -> None:
    week = last_complete_week(utcnow())
    with database_for(radio_config.database_url).session() as s:
        add_message(s, at=week.start + timedelta(days=1), language="fr", topic="water")
        add_message(s, at=week.start + timedelta(days=2), topic="roads")
    svc = services(radio_app)
    with svc.db.session() as s:
        queued = enqueue_due_summaries(svc.queue, s, svc.menus.languages, utcnow())
    assert len(queued) == 5  # all languages together, then each of the four
    finish_jobs(radio_app)
    with svc.db.session() as s:
        rows = {r.language: json.loads(r.body) for r in s.scalars(select(RadioSummary))}
        assert set(rows) == {"", "en", "fr", "hi", "fj"}
        assert (rows[""]["total"], rows["fr"]["total"], rows["hi"]["total"]) == (2, 1, 0)
        assert enqueue_due_summaries(svc.queue, s, svc.menus.languages, utcnow()) == []


def test_scheduler_command_once(tmp_path: Path, database_url: str) -> None:
    result = CliRunner().invoke(main, ["scheduler", "--once"], env=cli_env(tmp_path, database_url))
    assert result.exit_code == 0, result.output
    assert "5 summary job(s) enqueued" in result.output
    with database_for(database_url).session() as s:
        assert len(s.scalars(select(RadioSummary)).all()) == 5


def test_redaction_job_keeps_new_transcripts_redacted(radio_app: Flask, radio_config: Config) -> None:
    with database_for(radio_config.database_url).session() as s:
        recent = add_message(s, at=utcnow() - timedelta(days=2), transcript="Call me on 9234567 about the pipe")
        add_message(s, at=utcnow() - timedelta(days=40), transcript="An old message")
    svc = services(radio_app)
    enqueue_redaction(svc.queue, utcnow())
    finish_jobs(radio_app)
    with svc.db.session() as s:
        kept = s.scalars(select(RedactedTranscript)).all()
        assert [(k.message_id, k.text, k.removed) for k in kept] == [
            (recent.id, "Call me on [phone] about the pipe", 1)]


def test_bulletin_command_builds_and_publishes(tmp_path: Path, database_url: str) -> None:
    env = {**cli_env(tmp_path, database_url), "HOTLINE_GTTS": "0"}
    with database_for(database_url).session() as s:
        add_message(s, at=utcnow() - timedelta(days=1), topic="water", place="ba")
    built = CliRunner().invoke(main, ["radio", "bulletin", "--publish"], env=env)
    assert built.exit_code == 0, built.output
    assert re.match(r"bulletin \d+ published: .*\.mp3 \(\d+ s, \d+ bytes\)", built.output), built.output
    fijian = CliRunner().invoke(main, ["radio", "bulletin", "--lang", "fj"], env=env)
    assert fijian.exit_code == 1 and "could not be spoken in fj" in fijian.output
    with database_for(database_url).session() as s:
        assert [(b.language, b.status) for b in s.scalars(select(RadioBulletin).order_by(RadioBulletin.id))] == [
            ("en", "published"), ("fj", "failed")]

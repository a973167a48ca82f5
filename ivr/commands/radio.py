"""`hotline radio …` and `hotline scheduler`: summaries for stations, from the command line and on a schedule."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

import click

from ivr.commands.cli import load_config
from ivr.core import runtime
from ivr.core.casework_schedule import enqueue_daily_emails
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import utcnow
from ivr.core.retention import RETENTION_JOB
from ivr.radio.period import Period, last, last_complete_week, parse_since
from ivr.radio.schedule import enqueue_due_summaries, enqueue_redaction
from ivr.radio.script import write_script
from ivr.radio.station import Station, UnknownChoice

log = logging.getLogger(__name__)


def register(group: click.Group) -> None:
    group.add_command(radio)
    group.add_command(scheduler)


def _station(config: Config) -> Station:
    from menus import MenuError

    try:
        return Station.for_config(config)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def radio() -> None:
    """Radio commands: what callers raised, for community stations."""


def _period(since: str, last_week: bool) -> tuple[Period, datetime]:
    """Turn --since / --last-week into the period they name, ending now; a bad --since is a usage error."""
    try:
        span = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    now = utcnow()
    return (last_complete_week(now) if last_week else last(span, now)), now


@radio.command("summary")
@click.option("--since", "since", default="7d", show_default=True,
              help="How far back from now: a number and h, d or w (24h, 7d, 2w).")
@click.option("--last-week", is_flag=True, help="The last complete Monday-to-Monday week (UTC) instead of --since.")
@click.option("--place", default=None, help="Only messages about this place (a code of flow.toml [places]).")
@click.option("--lang", "language", default=None, help="Only messages in this language (en, fr, hi, fj).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: total, topics as [{topic, count}], places, agencies, quotes, themes.")
def radio_summary(since: str, last_week: bool, place: str | None, language: str | None, as_json: bool) -> None:
    """Summarise a period: counts by topic and place against the period before, themes, answers, quotes.

    Without --json it prints the script a host reads on air, in the language asked for (else the
    station's, HOTLINE_RADIO_LANGUAGE).
    """
    period, now = _period(since, last_week)
    config = load_config()
    station = _station(config)
    db = database_for(config.database_url)
    try:
        with db.session() as session:
            summary = station.summarise(session, period, place=place, language=language, now=now)
    except UnknownChoice as exc:
        raise click.BadParameter(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
        return
    script = write_script(summary, station.script_language(language), station.menus)
    click.echo(script.text(), nl=False)


@radio.command("bulletin")
@click.option("--since", "since", default="7d", show_default=True, help="How far back from now (24h, 7d, 2w).")
@click.option("--last-week", is_flag=True, help="The last complete Monday-to-Monday week (UTC) instead of --since.")
@click.option("--place", default=None, help="Only messages about this place.")
@click.option("--lang", "language", default=None, help="The bulletin's language (default HOTLINE_RADIO_LANGUAGE).")
@click.option("--publish", is_flag=True, help="Publish it once built: main menu 3 and the feed offer it.")
def radio_bulletin(since: str, last_week: bool, place: str | None, language: str | None, publish: bool) -> None:
    """Build a bulletin's MP3 now, in this process (for cron or a studio without the web page)."""
    from ivr.radio.bulletin import (
        READY,
        BulletinError,
        build_bulletin,
        bulletins_dir,
        publish_bulletin,
        request_bulletin,
    )

    period, _ = _period(since, last_week)
    config = load_config()
    station = _station(config)
    with database_for(config.database_url).session() as session:
        try:
            bulletin = request_bulletin(session, station, period, language=language, place=place)
        except (BulletinError, UnknownChoice) as exc:
            raise click.BadParameter(str(exc)) from exc
        status = build_bulletin(session, station, config, bulletin.id)
        if status != READY:
            session.commit()  # keep the failed bulletin and its reason for the hosts' page
            raise click.ClickException(f"bulletin {bulletin.id} {status}: {bulletin.error}")
        if publish:
            publish_bulletin(session, bulletin.id)
        path = bulletins_dir(config) / (bulletin.audio_path or "")
        skipped = json.loads(bulletin.skipped)
        click.echo(f"bulletin {bulletin.id} {bulletin.status}: {path} ({bulletin.duration_seconds:.0f} s, "
                   f"{bulletin.size_bytes} bytes)")
        for item in skipped:
            click.echo(f"  clip {item['clip']} left out: {item['reason']}")


@click.command()
@click.option("--every", type=click.FloatRange(1, 86400), default=300.0, show_default=True,
              help="Seconds between checks for a period that has no stored summary yet.")
@click.option("--once", is_flag=True, help="Check once and exit (for cron).")
def scheduler(every: float, once: bool) -> None:
    """Enqueue the radio summaries that are due (last week's, per language), then keep doing so.

    Each round also queues the redaction of new transcripts, so the hosts' pages find them ready, and,
    from HOTLINE_DIGEST_HOUR local time, the day's casework emails (agency digests, escalations).

    Safe to run beside any number of workers and to restart at any time: each summary job has a
    deterministic id per period and language, and storing a summary is idempotent.
    """
    config = load_config()
    runtime.set_config(config)
    from ivr.core.queue import make_queue
    from menus import load_menus

    queue = make_queue(config)
    db = database_for(config.database_url)
    languages = tuple(load_menus(config.menus_dir).languages)
    while True:
        with db.session() as session:
            queued = enqueue_due_summaries(queue, session, languages, utcnow())
        enqueue_redaction(queue, utcnow())
        if enqueue_daily_emails(queue, config, utcnow()):
            click.echo("scheduler: today's casework emails (digests, escalations) queued")
        queue.enqueue(RETENTION_JOB, job_id=f"retention-{utcnow():%Y-%m-%d}")  # daily (ivr/core/retention.py)
        log.info("scheduler: %d summary job(s) enqueued", len(queued))
        click.echo(f"scheduler: {len(queued)} summary job(s) enqueued" + (": " + ", ".join(queued) if queued else ""))
        if once:
            _wait_inline(queue)
            return
        time.sleep(every)


def _wait_inline(queue: object) -> None:
    """With the inline queue the jobs run on this process's thread: let them finish before exiting."""
    from ivr.core.queue import InlineQueue

    if isinstance(queue, InlineQueue):
        queue.join(timeout=600)

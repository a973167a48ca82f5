"""`hotline retention run [--dry-run]`: delete callers' recordings, transcripts and answers past their keep period."""

from __future__ import annotations

import click

from ivr.commands.cli import load_config
from ivr.core.db import database_for
from ivr.core.models import utcnow
from ivr.core.retention import run_retention


def register(group: click.Group) -> None:
    group.add_command(retention)


@click.group()
def retention() -> None:
    """How long callers' words and voices are kept (HOTLINE_*_KEEP_DAYS)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Delete what is past its keep period (audited); print the message ids touched."""
    config = load_config()
    report = run_retention(database_for(config.database_url), config, now=utcnow(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for kind, ids in (("recordings", report.recordings), ("transcripts", report.transcripts),
                      ("answers", report.answers)):
        click.echo(f"{verb} {kind} of {len(ids)} message(s)" + (": " + " ".join(map(str, ids)) if ids else ""))
    if report.kept_undelivered:
        click.echo("kept the answers of message(s) still being called out: "
                   + " ".join(map(str, report.kept_undelivered)))
    if report.orphans:
        click.echo(f"deleted {len(report.orphans)} recording file(s) no message claimed")

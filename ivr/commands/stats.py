"""`hotline stats`: where callers give up, as the operator's calls page shows it, in a terminal."""

from __future__ import annotations

import json

import click

from ivr.commands.cli import load_config
from ivr.core.db import database_for
from ivr.operator.call_stats import CallStats, call_stats
from menus import MenuError, load_menus

BAR = 30


def register(group: click.Group) -> None:
    group.add_command(stats)


@click.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Days to count back, today (UTC) included.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (funnel, nodes, completion, times, worst).")
def stats(days: int, as_json: bool) -> None:
    """Show the call funnel, completion and time to report by language, and the worst prompts."""
    config = load_config()
    try:
        menus = load_menus(config.menus_dir)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from exc
    with database_for(config.database_url).session() as session:
        figures = call_stats(session, menus, days=days)
    if as_json:
        click.echo(json.dumps(figures.as_json(), ensure_ascii=False, indent=1))
    else:
        _print(figures)


def _bar(value: float, top: float) -> str:
    return "█" * round(BAR * value / top) if top else ""


def _print(figures: CallStats) -> None:
    click.echo(f"Calls {figures.since} to {figures.until} (UTC): {sum(figures.calls.values())}"
               f"  kept messages: {sum(figures.kept.values())}  transferred: {figures.transferred}")
    click.echo("\nFunnel, language menu to kept message (callers reaching each step):")
    top = max((int(str(s["entered"])) for s in figures.funnel), default=0)
    for stage in figures.funnel:
        share = f"{float(str(stage['share'])):.0%}" if stage["share"] is not None else "-"
        click.echo(f"  {stage['node']:16} {stage['entered']:6} {share:>5} {_bar(int(str(stage['entered'])), top)}")
    click.echo("\nCompletion by language (reports begun → messages kept):")
    for row in figures.completion:
        rate = f"{float(str(row['rate'])):.0%}" if row["rate"] is not None else "-"
        click.echo(f"  {row['language']:4} {row['reports']:6} → {row['kept']:6}  {rate}")
    click.echo("\nTime from the call's start to the message kept:")
    for row in figures.time_to_report:
        click.echo(f"  {row['language']:4} {row['reports']:6} reports  median {row['median_seconds']} s, "
                   f"90% within {row['p90_seconds']} s")
    click.echo("\nWorst prompts (share of times heard that ended in silence, a wrong key or a hang-up):")
    for row in figures.worst_prompts:
        click.echo(f"  {row['language'] or '-':4} {row['node']:16} {row['prompt']:20} "
                   f"{float(str(row['rate'])):.0%} of {row['presentations']} (silence {row['silence']}, "
                   f"wrong key {row['wrong_key']}, hung up {row['hung_up']})")

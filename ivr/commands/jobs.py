"""`hotline jobs` and `hotline worker`: see, retry and recover background work.

The worker's code is loaded by its dotted name, as the web app enqueues jobs: ivr never imports it.
"""

from __future__ import annotations

import importlib
import json
import os
from datetime import timedelta
from typing import Any

import click
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ivr.commands.cli import load_config
from ivr.core import backlog, pipeline, runtime
from ivr.core.db import database_for
from ivr.core.models import Message, Notification
from ivr.core.models.delivery import FAILED as DELIVERY_FAILED
from ivr.core.models.delivery import HELD, Delivery
from ivr.core.problems import refused_callbacks
from ivr.voice.outbound_calls import CHOSEN_HOLDS

WORKER_NICENESS = 10  # `hotline worker --niceness`: the web server's callers first on a shared machine


def register(group: click.Group) -> None:
    group.add_command(jobs)
    group.add_command(worker)


def _worker_module(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"worker.{name}")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def jobs(ctx: click.Context, as_json: bool) -> None:
    """List failed and stuck work: messages by pipeline state, and RQ's failed jobs."""
    if ctx.invoked_subcommand is not None:
        return
    config = load_config()
    runtime.set_config(config)
    db = database_for(config.database_url)
    with db.session() as session:
        counts = dict(session.execute(select(Message.pipeline, func.count()).group_by(Message.pipeline)).all())
        problems = session.scalars(select(Message).where(Message.pipeline.in_(pipeline.PROBLEMS))
                                   .order_by(Message.pipeline_at)).all()
        waiting = pipeline.stuck(session, timedelta(seconds=config.stuck_after_seconds))
        rows = [{"message": m.id, "reference": m.reference, "state": m.pipeline,
                 "since": m.pipeline_at.isoformat() + "Z", "error": m.pipeline_error} for m in problems]
        rows += [{"message": m.id, "reference": m.reference, "state": m.pipeline + " (stuck)",
                  "since": m.pipeline_at.isoformat() + "Z", "error": m.pipeline_error} for m, _ in waiting]
        rows += _notification_rows(session)
        rows += _delivery_rows(session)
        refused = refused_callbacks(session)
        behind = backlog.measure(session)
    failed = []
    if config.redis_url:
        from redis.exceptions import RedisError

        try:
            failed = [{"job": j.id, "func": j.func_name, "args": list(j.args), "ended_at": str(j.ended_at),
                       "error": (j.exc_info or "").strip().splitlines()[-1:] or [""]}
                      for j in _worker_module("rq_jobs").failed_jobs(config)]
        except RedisError as exc:
            click.echo(f"Redis is not answering ({type(exc).__name__}): failed RQ jobs unknown", err=True)
    if as_json:
        if behind.messages:  # like the refusals: a line only when there is something to say
            click.echo(json.dumps({"transcription_backlog": behind.as_dict()}))
        if refused:
            click.echo(json.dumps({"callbacks_refused_24h": refused}))
        for row in rows:
            click.echo(json.dumps(row))
        for job in failed:
            click.echo(json.dumps(job))
        return
    click.echo("messages by pipeline state: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"))
    click.echo(behind.describe())
    for row in rows:
        if "delivery" in row:
            click.echo(f"  delivery {row['delivery']} ({row['kind']}, {row['attempts']} call(s)): {row['state']} "
                       f"since {row['since']} — {row['error']}")
            continue
        what = f"notification {row['notification']} to {row['agency']} by {row['channel']}, " \
            if "notification" in row else ""
        click.echo(f"  {what}message {row['message']} ({row['reference']}): {row['state']} since {row['since']}"
                   + (f" — {row['error']}" if row["error"] else ""))
    if refused:
        click.echo("callbacks refused in the last 24 h: " + ", ".join(f"{k}={v}" for k, v in refused.items()))
    for job in failed:
        click.echo(f"  failed job {job['job']} {job['func']}{tuple(job['args'])}: {job['error'][0]}")
    if not rows and not failed:
        click.echo("nothing failed or stuck")


def _notification_rows(session: Session) -> list[dict[str, Any]]:
    """List notifications that failed for good or are being retried, with their last error."""
    found = session.execute(
        select(Notification, Message.reference).join(Message, Message.id == Notification.message_id)
        .where(or_(Notification.status == "failed", (Notification.status == "pending") & (Notification.attempts > 0)))
        .order_by(Notification.id)).all()
    return [{"notification": n.id, "message": n.message_id, "reference": ref, "agency": n.agency,
             "channel": n.channel, "state": f"notification {n.status}", "attempts": n.attempts,
             "since": n.created_at.isoformat() + "Z", "error": n.last_error} for n, ref in found]


def _delivery_rows(session: Session) -> list[dict[str, Any]]:
    """List answer and callback calls that failed for good, or are held by something an operator can fix."""
    found = session.scalars(select(Delivery).where(Delivery.status.in_((DELIVERY_FAILED, HELD)))
                            .order_by(Delivery.id)).all()
    return [{"delivery": d.id, "kind": d.kind, "answer": d.answer_id, "state": f"call {d.status}",
             "attempts": d.attempts, "since": d.updated_at.isoformat() + "Z",
             "error": d.held_reason or d.last_outcome or "every try failed"}
            for d in found if not (d.status == HELD and d.held_reason in CHOSEN_HOLDS)]  # the caller's choice


@jobs.command("recover")
@click.option("--older-than", type=click.FloatRange(0), default=None,
              help="Seconds a message must have waited (default: HOTLINE_STUCK_AFTER_SECONDS).")
@click.option("--failed", "include_failed", is_flag=True, help="Also retry messages whose jobs failed for good.")
def jobs_recover(older_than: float | None, include_failed: bool) -> None:
    """Re-enqueue messages stuck in a pipeline state (jobs lost with Redis or a killed worker).

    Each job is tried on its own; what could not be done is listed. Exits 1 only when nothing could be done.
    """
    config = load_config()
    runtime.set_config(config)
    run = _worker_module("jobs").sweep(older_than, include_failed=include_failed)
    queued = run.queued
    click.echo(f"re-enqueued {len(queued)} job(s)" + (": " + ", ".join(queued) if queued else ""))
    for problem in run.problems:
        click.echo(f"could not: {problem}", err=True)
    if run.problems and not queued:
        raise click.ClickException(f"nothing could be done: {len(run.problems)} problem(s)")
    if not config.redis_url and queued:
        from ivr.core.queue import InlineQueue, make_queue

        inline = make_queue(config)
        assert isinstance(inline, InlineQueue)
        click.echo("inline queue (no REDIS_URL): running them in this process ...")
        inline.join(timeout=3600)
        notifying = _worker_module("notify").notification_queue(config)  # notifications run on their own thread
        notifying.join(timeout=3600)
        click.echo(f"done: {inline.done + notifying.done} finished, {len(inline.failed) + len(notifying.failed)} "
                   "failed")


@jobs.command("retry")
@click.argument("job_id", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed job.")
def jobs_retry(job_id: str | None, retry_all: bool) -> None:
    """Put a failed RQ job (or all of them) back on the queue."""
    config = load_config()
    if not config.redis_url:
        raise click.ClickException("no REDIS_URL: the inline queue keeps no failed jobs; use `hotline jobs recover`")
    if not job_id and not retry_all:
        raise click.UsageError("give a JOB_ID or --all")
    done = _worker_module("rq_jobs").retry_failed(config, None if retry_all else job_id)
    if job_id and not done:
        raise click.ClickException(f"no failed job {job_id!r}")
    click.echo(f"requeued {len(done)} job(s)")


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--languages", default=None, help="Languages whose models to load at start (default: all in menus).")
@click.option("--sweep-every", type=click.FloatRange(0), default=60.0, show_default=True,
              help="Seconds between sweeper runs (0 = off).")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@click.option("--niceness", type=click.IntRange(0, 19), default=WORKER_NICENESS, show_default=True,
              help="CPU niceness: a worker on the web server's machine yields the cores to live calls "
                   "(0 on a machine of its own).")
def worker(burst: bool, languages: str | None, sweep_every: float, name: str | None, niceness: int) -> None:
    """Work background jobs from Redis (needs REDIS_URL); speech models load once, at start."""
    config = load_config()
    if not config.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, `hotline serve` runs jobs itself")
    if niceness:
        # Not SCHED_IDLE, as the transcription child of the inline queue has: a worker writes to the
        # database, and one starved of all CPU while it holds a lock would stall the webhooks behind it.
        os.nice(niceness)
    if languages is None:
        from menus import load_menus

        langs = sorted(load_menus(config.menus_dir).languages)
    else:
        langs = [x.strip() for x in languages.split(",") if x.strip()]
    ok = _worker_module("run").run_worker(config, langs, burst=burst, sweep_every=sweep_every, name=name)
    raise SystemExit(0 if ok or burst else 1)

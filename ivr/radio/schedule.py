"""Which radio summaries are due, and the jobs that make them.

The scheduler (`hotline scheduler`) asks every few minutes; a summary is due when the last complete
week has no stored summary (for all languages together, and for each language). Jobs are named by
their dotted path (ivr never imports worker code) with one job id per period and language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.models.radio import RadioSummary
from ivr.core.queue import JobQueue
from ivr.radio.period import Period, last_complete_week

SUMMARY_JOB = "worker.radio.summarise_period"
BULLETIN_JOB = "worker.radio.build_bulletin"
REDACT_JOB = "worker.radio.redact_recent"
REDACT_DAYS = 15  # this week and the one before: what a summary compares


def summary_job_id(period: Period, language: str) -> str:
    return f"radio-summary-{period.key()}-{language or 'all'}"


def bulletin_job_id(bulletin_id: int) -> str:
    return f"radio-bulletin-{bulletin_id}"


def due_summaries(session: Session, languages: Iterable[str], now: datetime) -> tuple[Period, list[str]]:
    """Return last week's period and the language filters ("" = all) that have no stored summary yet."""
    period = last_complete_week(now)
    stored = set(session.scalars(select(RadioSummary.language).where(
        RadioSummary.period_start == period.start, RadioSummary.period_end == period.end,
        RadioSummary.place == "")))
    return period, [lang for lang in ("", *languages) if lang not in stored]


def enqueue_due_summaries(queue: JobQueue, session: Session, languages: Iterable[str], now: datetime) -> list[str]:
    """Enqueue a summary job for each due summary; return the job ids enqueued."""
    period, due = due_summaries(session, languages, now)
    queued = []
    for language in due:
        job_id = summary_job_id(period, language)
        if queue.enqueue(SUMMARY_JOB, period.start.isoformat(), period.end.isoformat(), language, job_id=job_id):
            queued.append(job_id)
    return queued


def enqueue_redaction(queue: JobQueue, now: datetime) -> str:
    """Enqueue the redaction of new transcripts, so the hosts' pages find them redacted already.

    One job id per minute: a scheduler restarted within the minute does not queue it twice.
    """
    job_id = f"radio-redact-{now:%Y%m%dT%H%M}"
    queue.enqueue(REDACT_JOB, REDACT_DAYS, job_id=job_id)
    return job_id

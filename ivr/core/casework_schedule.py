"""When the daily casework emails (digests, escalations) are due, and the job that sends them.

The scheduler (`hotline scheduler`) asks every few minutes; from HOTLINE_DIGEST_HOUR local time the
day's job is queued with one job id per local day, and the job itself is idempotent per day, so a
restarted scheduler or a second one sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from ivr.core.config import Config
from ivr.core.local_time import parse_timezone, to_local
from ivr.core.queue import JobQueue

DAILY_EMAILS_JOB = "worker.escalation.send_daily_emails"


def enqueue_daily_emails(queue: JobQueue, config: Config, now: datetime) -> str | None:
    """Queue today's casework emails once the local hour has come; return the job id, or None before then."""
    local = to_local(now, parse_timezone(config.timezone))
    if local.hour < config.digest_hour:
        return None
    job_id = f"casework-emails-{local:%Y-%m-%d}"
    queue.enqueue(DAILY_EMAILS_JOB, now.isoformat(), job_id=job_id)
    return job_id

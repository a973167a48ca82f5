"""Queue an SMS notice to a message's caller by the job's dotted name (the web side never imports worker code)."""

from __future__ import annotations

from ivr.core.config import Config
from ivr.core.queue import JobQueue

SMS_JOB = "worker.sms.send_sms_notice"


def sms_job_id(message_id: int, kind: str) -> str:
    return f"sms-{message_id}-{kind}"


def enqueue_sms(queue: JobQueue, config: Config, message_id: int, kind: str) -> bool:
    """Queue one notice when SMS is on; the job decides whether this caller may and should get it."""
    if not config.sms_enabled:
        return False
    return queue.enqueue(SMS_JOB, message_id, kind, job_id=sms_job_id(message_id, kind))

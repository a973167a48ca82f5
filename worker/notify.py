"""The notification job: tell one agency target about one routed message, once.

A notification row (created by the routing job) says which message goes to which target; this job
sends it and records every attempt on the row (attempts, last_error, status), so an operator sees
a target that is down in `hotline jobs` while the queue retries it with backoff. A caller's call
never waits for any of this: it runs on the queue, and without Redis on a thread of its own.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ivr.core.agencies import MenuError, Menus, routing_for
from ivr.core.config import Config
from ivr.core.disclosure import Agency, may_see
from ivr.core.models import Message, Notification, utcnow
from ivr.core.queue import InlineQueue, JobQueue, make_queue
from ivr.core.redact import redact
from ivr.core.runtime import current_config, current_db

from .deliver import DeliveryFailed, deliver

log = logging.getLogger(__name__)

NOTIFY_JOB = "worker.notify.send_notification"
PENDING, SENT, FAILED = "pending", "sent", "failed"

_inline: dict[Config, InlineQueue] = {}
_inline_lock = threading.Lock()


class NotificationFailed(Exception):
    """An attempt failed; the queue retries the job, and the row shows the reason meanwhile."""


def notification_queue(config: Config) -> JobQueue:
    """Return the queue notifications go on: RQ's with Redis, else an inline thread of their own.

    Why a thread of their own: the inline queue waits out its retry backoff on its thread, so an
    agency's server that is down would otherwise hold up every caller's recording behind it.
    """
    if config.redis_url:
        return make_queue(config)
    with _inline_lock:
        queue = _inline.get(config)
        if queue is None:
            queue = _inline[config] = InlineQueue(config)
        return queue


def notify_job_id(notification_id: int) -> str:
    return f"notify-{notification_id}"


def queue_notification(config: Config, notification_id: int) -> bool:
    return notification_queue(config).enqueue(NOTIFY_JOB, notification_id, job_id=notify_job_id(notification_id))


def send_notification(notification_id: int) -> str:
    """Send one notification to its target, unless it was sent already.

    Idempotent: a row marked sent is never sent again, however often the job runs. Delivery is at
    least once: if the worker dies after the target took it but before the row says so, the retry
    sends it again, with the same X-Talanoa-Delivery id (and email Message-ID) so the agency can
    drop the duplicate.
    """
    config, db = current_config(), current_db()
    with db.session() as session:
        row = session.get(Notification, notification_id)
        if row is None:
            return "no such notification"
        if row.status == SENT:
            return "already sent"
        message = session.get(Message, row.message_id)
        assert message is not None  # a notification is deleted with its message (ON DELETE CASCADE)
        row.attempts += 1
        attempt, agency_code, channel, address = row.attempts, row.agency, row.channel, row.target
        # The words go only to the agency the message is routed to now (not one it was reassigned away from).
        readable = may_see("agency", "redacted_words", message, viewer=Agency(row.agency))
        transcript = message.transcript.best_text if message.transcript is not None and readable else None
        facts = _facts(message)
        facts["transcript_checked"] = message.transcript is not None and message.transcript.checked
    try:
        menus, routing = routing_for(config)
        agency = routing.agencies.by_code.get(agency_code)
        target = agency.target(channel, address) if agency is not None else None
        if agency is None or target is None:
            raise DeliveryFailed(f"{channel} {address} of agency {agency_code} is no longer in "
                                 f"{config.agencies_path.name}", retryable=False)
        summary = summarise(facts, transcript, agency.name, menus)
        external_id = deliver(config, target, summary, notification_id)
    except (DeliveryFailed, MenuError) as exc:
        retryable = exc.retryable if isinstance(exc, DeliveryFailed) else True
        final = not retryable or attempt > config.job_retries
        error = str(exc) if isinstance(exc, DeliveryFailed) else f"agencies or rules file: {exc}"
        with db.session() as session:
            row = session.get(Notification, notification_id)
            assert row is not None
            row.status, row.last_error = (FAILED if final else PENDING), error[:2000]
        # Ids only in the log: never the target's address book entry, the caller or the transcript.
        log.warning("notification %s (message %s, %s) attempt %d failed%s", notification_id, facts["message_id"],
                    channel, attempt, "; giving up" if final else "; will retry")
        if not retryable:
            return "failed"
        raise NotificationFailed(f"notification {notification_id}: {error}") from exc
    with db.session() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        row.status, row.sent_at, row.last_error, row.external_id = SENT, utcnow(), None, external_id
    log.info("notification %s (message %s, %s) sent after %d attempt(s)", notification_id, facts["message_id"],
             channel, attempt)
    return "sent"


def _facts(message: Message) -> dict[str, Any]:
    """Copy what a summary may say about a message: never its caller, call or phone number."""
    return {"message_id": message.id, "reference": message.reference, "topic": message.topic,
            "place": message.place, "language": message.language, "confirmed": message.confirmed,
            "created_at": message.created_at.isoformat(timespec="seconds") + "Z", "agency": message.agency,
            "routing_reason": message.routing_reason}


def summarise(facts: dict[str, Any], transcript: str | None, agency_name: str, menus: Menus) -> dict[str, Any]:
    """Build what leaves the hotline about a message: its keypad facts and the redacted transcript."""
    redaction = redact(transcript) if transcript is not None else None
    place = facts["place"]
    place_name = None
    if place and "en" in menus.languages:
        place_name = menus.languages["en"].prompts.get(f"place_{place}")
    return {
        "event": "message.routed",
        "reference": facts["reference"],
        "agency": facts["agency"],
        "agency_name": agency_name,
        "topic": facts["topic"],
        "place": place,
        "place_name": place_name or (place.title() if place else None),
        "language": facts["language"],
        "confirmed": facts["confirmed"],
        "created_at": facts["created_at"],
        "routing_reason": facts["routing_reason"],
        "transcript": redaction.text if redaction is not None else None,
        # False: the machine's guess, which no person has checked; never to be quoted as the caller's words.
        "transcript_checked": bool(facts.get("transcript_checked")) if redaction is not None else False,
        "redactions": redaction.counts if redaction is not None else {},
    }


def requeue_stuck(config: Config, older_than: timedelta, include_failed: bool = False,
                  problems: list[str] | None = None) -> list[str]:
    """Queue again every notification still pending after `older_than` (its job lost), and failed ones if asked."""
    limit = utcnow() - older_than
    states = (PENDING, FAILED) if include_failed else (PENDING,)
    with current_db().session() as session:
        ids = list(session.scalars(select(Notification.id).where(Notification.status.in_(states),
                                                                 Notification.created_at <= limit)
                                   .order_by(Notification.id)))
        if include_failed:
            for row in session.scalars(select(Notification).where(Notification.id.in_(ids),
                                                                  Notification.status == FAILED)):
                row.status, row.attempts = PENDING, 0  # a fresh round of retries, on the operator's word
    queued = []
    for nid in ids:
        try:
            if config.redis_url:
                from worker.rq_jobs import clear_dead_job

                clear_dead_job(config, notify_job_id(nid))
            if queue_notification(config, nid):
                queued.append(notify_job_id(nid))
        except Exception as exc:  # one broken job record: counted, and the others still go
            if problems is None:
                raise
            problems.append(f"requeue {notify_job_id(nid)}: {type(exc).__name__}: {exc}"[:300])
    return queued

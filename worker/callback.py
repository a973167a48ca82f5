"""The outbound call job: ring a caller for a delivery (an answer, or a callback they asked for).

One job places one try of one delivery; Twilio's status callbacks (ivr/voice/outbound.py) then decide
whether another try is due, and schedule it. The due time lives in SQL (Delivery.next_attempt_at),
so `recover_calls` (run by the sweeper) finds any try whose scheduled job was lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.delayed_jobs import enqueue_at
from ivr.core.models import utcnow
from ivr.core.models.delivery import CALLBACK, CALLING, FAILED, HELD, SCHEDULED, CallAttempt, Delivery
from ivr.core.queue import make_queue
from ivr.core.redact import redact
from ivr.core.runtime import current_config, current_db
from ivr.voice.callback_numbers import forget_expired_numbers, recall_number
from ivr.voice.outbound_calls import PLACE_CALL_JOB, due_time, overdue_deliveries, place_call_job_id, schedule_retry
from ivr.voice.twilio_rest import CallRequest, TwilioRest, TwilioRestError

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(minutes=2)  # a try this late past its due time lost its job: the sweeper queues it


def twilio_client(config: Config) -> TwilioRest:
    return TwilioRest(config.twilio_api_base_url, config.twilio_account_sid, config.twilio_auth_token)


def place_call(delivery_id: int, attempt: int, now: datetime | None = None) -> str:
    """Place try number `attempt` of a delivery through Twilio, unless it was placed already.

    Idempotent: a try is a row unique per (delivery, number) written before Twilio is asked, so a
    repeated job finds it and places nothing. A job that arrives too early (quiet hours began, or
    the sweeper ran ahead) moves itself to the due time instead. `now` (naive UTC) is the clock.
    """
    config, db = current_config(), current_db()
    now = now or utcnow()
    with db.session() as session:
        forget_expired_numbers(session, now=now)
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return "no such delivery"
        if delivery.status != SCHEDULED or delivery.attempts >= attempt:
            return f"nothing to do ({delivery.status}, {delivery.attempts} attempt(s))"
        # The first callback answers a caller who has just rung: it goes now, whatever the hour.
        immediate = delivery.kind == CALLBACK and attempt == 1
        due = max(now, delivery.next_attempt_at or now)
        if not immediate:
            due = due_time(config, due)
        if due > now + timedelta(seconds=1):
            delivery.next_attempt_at = due
            session.commit()
            enqueue_at(make_queue(config), due, PLACE_CALL_JOB, delivery_id, attempt,
                       job_id=f"{place_call_job_id(delivery_id, attempt)}-at-{due:%Y%m%d%H%M}", now=now)
            return f"deferred to {due.isoformat(timespec='minutes')}"
        number = recall_number(session, config, delivery.caller_id, now=now) if delivery.caller_id else None
        if number is None:
            delivery.status, delivery.next_attempt_at = HELD, None
            delivery.held_reason = "the caller's number is no longer kept (retention passed)"
            return "held: no number"
        delivery.attempts, delivery.status, delivery.next_attempt_at = attempt, CALLING, None
        session.add(CallAttempt(delivery_id=delivery_id, number=attempt, status="placing", placed_at=now))
        try:
            session.commit()  # store first: the try exists before Twilio is asked to ring
        except IntegrityError:
            session.rollback()  # another run of this job stored the same try first
            return "already placed"
    base = config.public_base_url
    query = f"delivery={delivery_id}&attempt={attempt}"
    request = CallRequest(to=number, from_=config.twilio_caller_id, url=f"{base}/voice/outbound?{query}",
                          status_callback=f"{base}/voice/outbound-status?{query}", timeout=config.call_ring_seconds)
    try:
        placed = twilio_client(config).create_call(request)
    except TwilioRestError as exc:
        return _refused(config, delivery_id, attempt, exc, now)
    with db.session() as session:
        row = _attempt(session, delivery_id, attempt)
        row.call_sid = row.call_sid or placed.sid
        if row.status == "placing":  # a status callback may already have moved it on
            row.status = placed.status
    log.info("delivery %s attempt %d placed as %s", delivery_id, attempt, placed.sid)
    return f"placed {placed.sid}"


def _refused(config: Config, delivery_id: int, attempt: int, exc: TwilioRestError, now: datetime) -> str:
    """Record that Twilio did not take the call; retry later when that could help."""
    # Twilio's messages can quote the number dialled ("The 'To' number +679... is not valid"): redacted.
    error = redact(str(exc)).text[:500]
    with current_db().session() as session:
        row = _attempt(session, delivery_id, attempt)
        row.status, row.error, row.ended_at = "error", error, now
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.last_outcome = "error"
        log.warning("delivery %s attempt %d refused by Twilio (HTTP %s, code %s)", delivery_id, attempt,
                    exc.status, exc.code)
        if not exc.retryable:
            delivery.status, delivery.held_reason = FAILED, error[:200]
            return "refused"
        followup = schedule_retry(config, delivery, now=now)
    if followup.at is not None and followup.attempt is not None:
        enqueue_at(make_queue(config), followup.at, PLACE_CALL_JOB, delivery_id, followup.attempt,
                   job_id=place_call_job_id(delivery_id, followup.attempt), now=now)
    return "refused; retry scheduled" if followup.at else "refused; gave up"


def _attempt(session: Session, delivery_id: int, number: int) -> CallAttempt:
    return session.scalars(select(CallAttempt).where(CallAttempt.delivery_id == delivery_id,
                                                     CallAttempt.number == number)).one()


def recover_calls(now: datetime | None = None, problems: list[str] | None = None) -> list[str]:
    """Queue every scheduled try whose due time passed long ago (its job lost); purge expired numbers."""
    config, db = current_config(), current_db()
    now = now or utcnow()
    with db.session() as session:
        forget_expired_numbers(session, now=now)
        overdue = overdue_deliveries(session, now=now, grace=LOST_AFTER)
    queued = []
    for delivery_id, attempt in overdue:
        job_id = f"{place_call_job_id(delivery_id, attempt)}-recovered-{now:%Y%m%d%H%M}"
        try:
            if make_queue(config).enqueue(PLACE_CALL_JOB, delivery_id, attempt, job_id=job_id):
                queued.append(job_id)
        except Exception as exc:  # counted, and the other calls are still placed
            if problems is None:
                raise
            problems.append(f"requeue {job_id}: {type(exc).__name__}: {exc}"[:300])
    return queued


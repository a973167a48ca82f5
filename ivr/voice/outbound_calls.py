"""Decide who is rung back, when, and what a call's status callback means, as plain functions on a session.

The voice webhooks (ivr/voice/webhooks.py, ivr/voice/outbound.py) and the worker jobs (worker/delivery.py,
worker/callback.py) share these; tests call them with an explicit `now` (naive UTC) instead of a
patched clock. Nothing here places a call: worker/callback.py does, through ivr/voice/twilio_rest.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.local_time import allowed_at, local_day_start, parse_quiet_hours, parse_timezone
from ivr.core.models import Answer, Call, Caller
from ivr.core.models.delivery import (
    ANSWER,
    CALLBACK,
    CALLING,
    COMPLETED,
    FAILED,
    HELD,
    REFUSED,
    SCHEDULED,
    CallAttempt,
    CallEvent,
    Delivery,
)
from ivr.voice.callback_numbers import CALLBACK_KEEP, consent_keep, remember_number
from ivr.voice.calls import find_caller, load_state

log = logging.getLogger(__name__)

PLACE_CALL_JOB = "worker.callback.place_call"
DELIVER_ANSWER_JOB = "worker.delivery.deliver_answer"
CONSENTS = ("agency", "radio")  # report_consent 1 and 3: the caller allowed the agency to call back
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
RETRIED_STATUSES = ("busy", "no-answer", "failed", "canceled")
# The order a call's status moves in; a late "ringing" after "in-progress" must not move it back.
STATUS_RANK = {"placing": 0, "queued": 1, "initiated": 2, "ringing": 3, "in-progress": 4, "answered": 4}
MISSED = ("no-answer", "canceled", "busy")


def place_call_job_id(delivery_id: int, attempt: int) -> str:
    return f"delivery-call-{delivery_id}-{attempt}"


def due_time(config: Config, when: datetime) -> datetime:
    """Return the first moment at or after `when` outside the local quiet hours."""
    return allowed_at(when, parse_quiet_hours(config.quiet_hours), parse_timezone(config.timezone))


def retry_time(config: Config, now: datetime) -> datetime:
    """Return when the next try of a busy, unanswered or failed call is due: spaced, never in quiet hours."""
    return due_time(config, now + timedelta(minutes=config.call_retry_minutes))


# ---- callbacks the caller asked for (missed call, key 8) ---------------------------------------


def callbacks_offered(config: Config) -> bool:
    """Tell whether the main menu offers key 8: only when outbound calls can be placed at all."""
    return bool(config.twilio_caller_id) and config.callback_daily_limit > 0


def callbacks_today(session: Session, config: Config, number_hash: str, now: datetime) -> int:
    """Count the callbacks this number has had since the start of the local day (refusals aside)."""
    since = local_day_start(now, parse_timezone(config.timezone))
    return int(session.scalar(select(func.count(Delivery.id)).where(
        Delivery.number_hash == number_hash, Delivery.kind == CALLBACK, Delivery.status != REFUSED,
        Delivery.created_at >= since)) or 0)


def callbacks_this_hour(session: Session, now: datetime) -> int:
    """Count the callbacks promised in the last hour, to every number together (refusals aside)."""
    return int(session.scalar(select(func.count(Delivery.id)).where(
        Delivery.kind == CALLBACK, Delivery.status != REFUSED, Delivery.created_at >= now - timedelta(hours=1))) or 0)


def open_callback(session: Session, caller: Caller) -> Delivery | None:
    """Return the caller's callback still waiting to be placed or answered, if any."""
    return session.scalar(select(Delivery).where(Delivery.caller_id == caller.id, Delivery.kind == CALLBACK,
                                                 Delivery.status.in_((SCHEDULED, CALLING))))


def number_allowed(config: Config, number: str) -> bool:
    """Tell whether a callback may dial this number: it starts with one of HOTLINE_CALLBACK_PREFIXES.

    Callbacks are paid by the hotline: a missed call from a premium or satellite range must not be rung back.
    """
    digits = "+" + "".join(ch for ch in number if ch.isdigit()) if number.strip().startswith("+") else ""
    return bool(digits) and any(digits.startswith(prefix) for prefix in config.callback_number_prefixes)


def callback_refusal(session: Session, config: Config, caller: Caller | None, number: str, now: datetime) -> str | None:
    """Say why the hotline cannot promise this caller a callback now (None: it can)."""
    if caller is None or not config.twilio_caller_id:
        return "no number"  # a withheld number cannot be rung, and without a caller id nothing is dialled
    if open_callback(session, caller) is not None:
        return None  # already promised: pressing 8 again keeps that promise, it does not add a call
    if not number_allowed(config, number):
        return OUTSIDE_PREFIXES
    if callbacks_today(session, config, caller.number_hash, now) >= config.callback_daily_limit:
        return "daily limit for this number"
    if callbacks_this_hour(session, now) >= config.callback_hourly_limit:
        return HOURLY_LIMIT
    return None


OUTSIDE_PREFIXES = "number outside HOTLINE_CALLBACK_PREFIXES"
HOURLY_LIMIT = "HOTLINE_CALLBACK_HOURLY_LIMIT reached"
COUNTED_REFUSALS = (OUTSIDE_PREFIXES, HOURLY_LIMIT)  # the signs of toll fraud; a caller's daily limit is not


def callback_allowed(session: Session, config: Config, caller: Caller | None, now: datetime, number: str = "",
                     *, reason: str = "key-8") -> bool:
    """Tell whether the hotline can promise this caller a callback now; a refusal for abuse is counted."""
    refusal = callback_refusal(session, config, caller, number, now)
    if refusal in COUNTED_REFUSALS and caller is not None:
        # Counted in SQL (not the number: its keyed hash), so `hotline jobs` and /health show refusals.
        session.add(Delivery(kind=CALLBACK, caller_id=caller.id, number_hash=caller.number_hash, reason=reason,
                             status=REFUSED, held_reason=refusal, created_at=now))
        log.warning("callback refused for caller %s: %s", caller.id, refusal)
    return refusal is None


def request_callback(session: Session, config: Config, caller: Caller | None, number: str, *, reason: str,
                     language: str | None, now: datetime) -> Delivery | None:
    """Record a callback the caller asked for and keep their number for it; None when it is refused.

    Refused for a withheld number, a number outside HOTLINE_CALLBACK_PREFIXES, past the daily limit of the
    number or the hourly limit of the hotline, or when outbound calls are not configured. A callback already
    waiting is returned as it is, so a repeated webhook never rings twice.
    """
    if caller is not None:
        existing = open_callback(session, caller)
        if existing is not None:
            return existing
    if not callback_allowed(session, config, caller, now, number, reason=reason):
        return None
    assert caller is not None
    if remember_number(session, config, caller, number, keep=CALLBACK_KEEP, now=now) is None:
        return None
    delivery = Delivery(kind=CALLBACK, caller_id=caller.id, number_hash=caller.number_hash, reason=reason,
                        language=language or caller.language, status=SCHEDULED, next_attempt_at=now, created_at=now)
    session.add(delivery)
    session.flush()
    log.info("callback %s (%s) for caller %s", delivery.id, reason, caller.id)
    return delivery


def keep_number_for_consent(session: Session, config: Config, caller: Caller | None, number: str, consent: str | None,
                            *, now: datetime) -> bool:
    """Keep a reporting caller's number, encrypted, when they allowed the agency to call them back."""
    if caller is None or consent not in CONSENTS:
        return False  # anonymous (consent 2): nothing of the number is kept beyond its hash
    return remember_number(session, config, caller, number, keep=consent_keep(config), now=now) is not None


# ---- answers -----------------------------------------------------------------------------------


# Holds the caller chose (no consent, or no number kept): the answer simply waits for their call.
NO_CONSENT_HOLD = "no callback consent: the answer waits for the caller to ring and key the reference"
NO_NUMBER_HOLD = "no number kept for the caller: the answer waits for the caller to ring and key the reference"
CHOSEN_HOLDS = (NO_CONSENT_HOLD, NO_NUMBER_HOLD)


def plan_answer_delivery(session: Session, config: Config, answer: Answer, *, number_kept: bool,
                         now: datetime) -> Delivery:
    """Create (once) the delivery of an answer: held when the caller cannot be rung, else scheduled."""
    delivery = session.scalar(select(Delivery).where(Delivery.answer_id == answer.id))
    if delivery is not None:
        return delivery
    message = answer.message
    caller = message.caller_id
    held = None
    if caller is None or message.consent not in CONSENTS:
        held = NO_CONSENT_HOLD
    elif not number_kept:
        held = NO_NUMBER_HOLD
    elif not config.twilio_caller_id:
        held = "TWILIO_CALLER_ID is not set: no outbound calls are placed"
    delivery = Delivery(kind=ANSWER, answer_id=answer.id, caller_id=caller, reason="consent",
                        language=message.language, status=HELD if held else SCHEDULED, held_reason=held,
                        next_attempt_at=None if held else due_time(config, now), created_at=now)
    try:
        with session.begin_nested():
            session.add(delivery)
            session.flush()
    except IntegrityError:  # the same job ran twice at once: the other run created it
        found = session.scalar(select(Delivery).where(Delivery.answer_id == answer.id))
        assert found is not None
        return found
    return delivery


# ---- status callbacks --------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusUpdate:
    """What one of Twilio's status callbacks for an outbound call says."""

    delivery_id: int
    attempt: int
    call_sid: str
    status: str
    duration: int | None = None
    sequence: int | None = None


@dataclass(frozen=True)
class Followup:
    """What to do after a status callback: nothing, or place the next try at `at`."""

    delivery_id: int
    attempt: int | None = None
    at: datetime | None = None


def record_status(session: Session, config: Config, update: StatusUpdate, *, now: datetime) -> Followup | None:
    """Store a status callback once, move the attempt on, and say whether another try is due.

    Idempotent: the event is unique per (CallSid, CallStatus), so a repeated callback changes nothing
    and never schedules a second retry. Returns None for a duplicate or an unknown call.
    """
    attempt = session.scalar(select(CallAttempt).where(CallAttempt.delivery_id == update.delivery_id,
                                                       CallAttempt.number == update.attempt))
    if attempt is None or (attempt.call_sid and attempt.call_sid != update.call_sid):
        return None
    event = CallEvent(call_sid=update.call_sid, status=update.status, sequence=update.sequence, received_at=now)
    try:
        with session.begin_nested():  # added inside the savepoint, so a duplicate leaves with its rollback
            session.add(event)
            session.flush()
    except IntegrityError:
        return None  # Twilio repeated a callback we already stored
    attempt.call_sid = attempt.call_sid or update.call_sid
    delivery = attempt.delivery
    if update.status not in FINAL_STATUSES:
        if STATUS_RANK.get(update.status, 0) > STATUS_RANK.get(attempt.status, 5):
            attempt.status = update.status
        return Followup(delivery.id)
    attempt.status, attempt.ended_at = update.status, now
    if update.duration is not None:
        attempt.duration_seconds = update.duration
    delivery.last_outcome = update.status
    if attempt.number != delivery.attempts or delivery.status != CALLING:
        return Followup(delivery.id)  # an old attempt reporting late: the delivery has moved on
    if update.status == "completed" and attempt.heard:
        delivery.status, delivery.completed_at, delivery.next_attempt_at = COMPLETED, now, None
        log.info("delivery %s completed on attempt %d", delivery.id, attempt.number)
        return Followup(delivery.id)
    return schedule_retry(config, delivery, now=now)


def schedule_retry(config: Config, delivery: Delivery, *, now: datetime) -> Followup:
    """Schedule the next try of a delivery whose call failed, or give up after HOTLINE_CALL_ATTEMPTS."""
    if delivery.attempts >= config.call_attempts:
        delivery.status, delivery.next_attempt_at = FAILED, None
        log.info("delivery %s failed after %d attempt(s) (%s)", delivery.id, delivery.attempts, delivery.last_outcome)
        return Followup(delivery.id)
    at = retry_time(config, now)
    delivery.status, delivery.next_attempt_at = SCHEDULED, at
    log.info("delivery %s: attempt %d %s; next try at %s", delivery.id, delivery.attempts, delivery.last_outcome,
             at.isoformat(timespec="seconds"))
    return Followup(delivery.id, attempt=delivery.attempts + 1, at=at)


def overdue_deliveries(session: Session, *, now: datetime, grace: timedelta) -> list[tuple[int, int]]:
    """Return (delivery id, next attempt) of scheduled calls whose job seems lost (due longer than `grace`)."""
    rows = session.execute(select(Delivery.id, Delivery.attempts).where(
        Delivery.status == SCHEDULED, Delivery.next_attempt_at <= now - grace))
    return [(int(did), int(attempts) + 1) for did, attempts in rows]


# ---- facts from the voice webhooks ---------------------------------------------------------------


def caller_number(form: Mapping[str, str]) -> str:
    """Return the caller's side of a call's webhook form: To on a call we placed, From on one they placed."""
    if form.get("Direction", "").startswith("outbound"):
        return form.get("To", "")
    return form.get("From", "")


def missed_call(session: Session, config: Config, call: Call | None, form: Mapping[str, str], *,
                now: datetime) -> Delivery | None:
    """Offer a free callback to a caller who rang and hung up before the hotline answered.

    A call that reached any menu (its state names a node) was answered: that is not a missed call.
    """
    status = form.get("CallStatus", "")
    if status not in MISSED or (call is not None and load_state(call).node):
        return None
    number = caller_number(form)
    caller = call.caller if call is not None else find_caller(session, number, config.pepper, create=True)
    return request_callback(session, config, caller, number, reason="missed-call",
                            language=caller.language if caller else None, now=now)

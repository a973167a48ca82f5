"""Say where each answer's delivery stands, for the message page: scheduled, called, heard, held and why.

Until now this showed only in `hotline jobs`; an official who answered wants to know whether the
caller heard it. Read-only over the delivery tables (ivr/core/models/delivery.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ivr.core.models.delivery import CALLING, COMPLETED, FAILED, HELD, SCHEDULED, Delivery, SmsMessage


@dataclass(frozen=True)
class DeliveryState:
    """One answer's delivery in words, with the time that goes with it (naive UTC, shown local)."""

    state: str  # scheduled | calling | heard | held | failed | waiting
    words: str
    at: datetime | None
    attempts: int


def describe(delivery: Delivery | None) -> DeliveryState:
    """Turn a delivery row (or its absence) into what the official reads."""
    if delivery is None:
        return DeliveryState("queued", "queued: the delivery job has not run yet", None, 0)
    attempts = len(delivery.call_attempts)
    heard = any(a.heard for a in delivery.call_attempts)
    if delivery.status == COMPLETED or heard:
        return DeliveryState("heard", "the caller picked up and heard the answer", delivery.completed_at, attempts)
    if delivery.status == HELD:
        return DeliveryState("held", f"held: {delivery.held_reason or 'no call can be placed'}; the caller hears "
                                     "it when they call and key the reference number", None, attempts)
    if delivery.status == SCHEDULED:
        tried = f" (after {attempts} unanswered call{'s' if attempts != 1 else ''})" if attempts else ""
        return DeliveryState("scheduled", f"call scheduled{tried}", delivery.next_attempt_at, attempts)
    if delivery.status == CALLING:
        return DeliveryState("calling", f"called (try {attempts}), waiting for the call to end",
                             delivery.call_attempts[-1].placed_at if attempts else None, attempts)
    if delivery.status == FAILED:
        return DeliveryState("failed", f"not reached after {attempts} call{'s' if attempts != 1 else ''} "
                                       f"({delivery.last_outcome or 'no answer'}); the answer waits for their call",
                             delivery.updated_at, attempts)
    return DeliveryState(delivery.status, delivery.status, delivery.updated_at, attempts)


def delivery_states(db: Session, answer_ids: Collection[int]) -> dict[int, DeliveryState]:
    """Return the delivery state of each answer, by answer id."""
    found: dict[int, Delivery] = {}
    if answer_ids:
        rows = db.scalars(select(Delivery).where(Delivery.answer_id.in_(answer_ids))
                          .options(selectinload(Delivery.call_attempts)))
        found = {d.answer_id: d for d in rows if d.answer_id is not None}
    return {a: describe(found.get(a)) for a in answer_ids}


def sms_notices(db: Session, message_id: int) -> list[SmsMessage]:
    """Return the SMS notices of a message (reference, answer waiting, closed), oldest first."""
    return list(db.scalars(select(SmsMessage).where(SmsMessage.message_id == message_id).order_by(SmsMessage.id)))

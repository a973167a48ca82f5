"""Count what an operator should see without reading rows: failed messages by reason, refused callbacks.

`hotline jobs` and `/health` both show these; counts and reasons only, never a number or a transcript.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.core.models import Message, utcnow
from ivr.core.models.delivery import CALLBACK, REFUSED, Delivery

PROBLEM_STATES = ("failed", "audio_unreadable")


def reason_of(state: str, error: str | None) -> str:
    """Name a message's problem in a few words: its state and the first part of its error ("failed: disk full")."""
    kind = (error or "").split(":", 1)[0].strip()
    return f"{state}: {kind}" if kind else state


def message_problems(session: Session) -> dict[str, int]:
    """Count messages whose background work failed, by state and reason."""
    counts: dict[str, int] = {}
    rows = session.execute(select(Message.pipeline, Message.pipeline_error)
                           .where(Message.pipeline.in_(PROBLEM_STATES))).all()
    for state, error in rows:
        key = reason_of(state, error)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def refused_callbacks(session: Session, since: datetime | None = None) -> dict[str, int]:
    """Count callbacks refused since `since` (default: the last 24 hours), by reason."""
    since = since or utcnow() - timedelta(hours=24)
    rows = session.execute(select(Delivery.held_reason, func.count()).where(
        Delivery.kind == CALLBACK, Delivery.status == REFUSED, Delivery.created_at >= since)
        .group_by(Delivery.held_reason)).all()
    return {str(reason): int(n) for reason, n in sorted(rows, key=lambda r: str(r[0]))}

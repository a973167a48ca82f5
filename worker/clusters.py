"""Group reports of one problem: same agency, topic and place within HOTLINE_CLUSTER_HOURS, close in words.

Run by the routing job right after a message is routed. When a water main bursts, fifty callers
report it; the agency sees one row ("50 callers") and one answer reaches them all. The candidates
are found in SQL on the inbox's own index (agency, status, created_at), so the cost does not grow
with the table; only the few candidates' transcripts are compared, by shared words, and only within
one language (words of different languages say nothing about each other).

A message an official split out of a group (cluster_split) is never grouped again, and only open
groups (new or in progress) take members: a caller who reports after the answer went out is a new
case, not a silent member of an answered one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from ivr.core.models import Message, Transcript
from menus.rules import words

log = logging.getLogger(__name__)
OPEN = ("received", "in_progress")
CANDIDATES = 20  # the newest open reports that could match: enough for a burst, bounded for the job
MIN_OVERLAP = 0.2  # share of distinct words two transcripts must have in common (Jaccard) to be one problem
NO_CLUSTER_TOPICS = ("other",)  # "something else" says nothing about two reports being the same problem


def similar(a: str | None, b: str | None) -> bool:
    """Tell whether two transcripts are close enough in words; True when either is missing."""
    if not a or not b:
        return True
    left, right = {w for w in words(a) if len(w) > 2}, {w for w in words(b) if len(w) > 2}
    if not left or not right:
        return True
    return len(left & right) / len(left | right) >= MIN_OVERLAP


def cluster_message(session: Session, message_id: int, window_hours: float) -> int | None:
    """Put a routed message into the group of the newest matching open report; return the group's id or None.

    Idempotent: a message already in a group (or split out of one) is left as it is.
    """
    if window_hours <= 0:
        return None
    m = session.get(Message, message_id)
    if (m is None or m.cluster_id is not None or m.cluster_split or m.agency is None or not m.topic or not m.place
            or m.topic in NO_CLUSTER_TOPICS or m.status not in OPEN):
        return None
    since = m.created_at - timedelta(hours=window_hours)
    candidates = session.execute(
        select(Message.id, Message.cluster_id, Message.language, Transcript.text)
        .outerjoin(Transcript, Transcript.message_id == Message.id)
        .where(Message.agency == m.agency, Message.status.in_(OPEN), Message.created_at >= since,
               Message.created_at <= m.created_at, Message.id != m.id, Message.topic == m.topic,
               Message.place == m.place, Message.cluster_split.is_(False),
               or_(Message.cluster_id.is_(None), Message.cluster_id == Message.id))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(CANDIDATES)).all()
    mine = m.transcript.text if m.transcript is not None else None
    for ident, lead, language, text in candidates:
        if language == m.language and not similar(mine, text):
            continue
        if lead is None:
            # Conditional: of two jobs making the same singleton a lead, both write the same value.
            session.execute(update(Message).where(Message.id == ident, Message.cluster_id.is_(None))
                            .values(cluster_id=ident).execution_options(synchronize_session=False))
        joined = session.execute(update(Message).where(Message.id == m.id, Message.cluster_id.is_(None))
                                 .values(cluster_id=ident).execution_options(synchronize_session=False))
        if cast(CursorResult[Any], joined).rowcount:
            log.info("message %s grouped with %s", m.id, ident)
            return int(ident)
        return None
    return None

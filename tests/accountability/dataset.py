"""A small known data set of messages and answers, so every figure can be worked out by hand."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ivr.core.models import Answer, Message

NOW = datetime(2025, 3, 20, 12, 0)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
_refs = itertools.count(100000)


def add_message(session: Session, *, agency: str | None, created: datetime, answers_after: tuple[timedelta, ...] = (),
                status: str | None = None, place: str = "suva", language: str = "en",
                topic: str | None = None, consent: str = "anonymous") -> Message:
    """Store one message (and its answers, at the given delays after it) the way routing leaves it."""
    message = Message(reference=str(next(_refs)), language=language, topic=topic or agency, place=place,
                      consent=consent, agency=agency, created_at=created, updated_at=created,
                      status=status or ("answered" if answers_after else "received"))
    session.add(message)
    session.flush()
    for after in answers_after:
        session.add(Answer(message_id=message.id, text="We are on it.", created_at=created + after))
    session.flush()
    return message


def add_known_set(session: Session) -> None:
    """Water: 6 messages, answered after 10 h, 192 h and 4 h (median 10 h), one overdue, one recent, one closed.

    Health: 2 messages in Nadi in Hindi, answered after 2 h and 6 h (median 4 h). Roads: none. One
    unrouted message, and one routed to "ghost", an agency no longer in the file.
    """
    start = datetime(2025, 3, 1)
    # A second, later answer must not move the time to *first* answer.
    add_message(session, agency="water", created=start, answers_after=(10 * HOUR, 4 * DAY))
    add_message(session, agency="water", created=start + DAY, answers_after=(8 * DAY,))
    add_message(session, agency="water", created=start + 2 * DAY, answers_after=(4 * HOUR,))
    add_message(session, agency="water", created=start + 3 * DAY)  # unanswered, 16 days old: overdue
    add_message(session, agency="water", created=NOW - 2 * DAY)  # unanswered but recent
    add_message(session, agency="water", created=start, status="closed")  # closed without answer
    add_message(session, agency="health", created=start, answers_after=(2 * HOUR,), place="nadi", language="hi")
    add_message(session, agency="health", created=start, answers_after=(6 * HOUR,), place="nadi", language="hi")
    add_message(session, agency=None, created=start)  # not routed yet: nobody's figure
    add_message(session, agency="ghost", created=start, topic="water")

"""Count, per agency, what callers raised and how fast each agency answered, in SQL.

The admin page, the public page, the open-data exports and the radio summaries all read these
figures, so "answered" and "overdue" mean the same everywhere (see the contracts):

- received: messages routed to the agency (a message not yet routed belongs to nobody yet);
- answered: messages with at least one Answer row;
- answered within due: the first answer came at most `due_days` days after the message;
- median hours to first answer: over the answered messages;
- overdue: no answer, status not "closed", created more than `due_days` days before `now`.

Every figure is one GROUP BY over messages joined to their first answer (and one windowed query
for the medians, which SQLite has no aggregate for), so a million messages cost the database one
scan, not Python a million rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Subquery, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.core.models import Answer, Message, utcnow
from menus.agencies import Agencies

__all__ = ["AgencyFigures", "GroupFigures", "agency_figures", "group_figures", "place_topic_counts"]

GROUPINGS = {"agency": Message.agency, "place": Message.place, "topic": Message.topic}


@dataclass(frozen=True)
class AgencyFigures:
    """One agency's answer record over a period."""

    agency: str            # code, e.g. "water"
    name: str              # from the agencies file
    received: int
    answered: int
    answered_within_due: int   # first answer within due_days
    median_hours_to_first_answer: float | None
    overdue: int


@dataclass(frozen=True)
class GroupFigures:
    """The same figures for any grouping of messages (agency, place or topic); key None = not set."""

    key: str | None
    received: int
    answered: int
    answered_within_due: int
    median_hours_to_first_answer: float | None
    overdue: int


def agency_figures(session: Session, agencies: Agencies, *, since: datetime | None = None,
                   until: datetime | None = None, place: str | None = None,
                   language: str | None = None, due_days: int = 7,
                   now: datetime | None = None) -> list[AgencyFigures]:
    """List every agency of the file (in file order, zeros included), then any other code messages carry.

    An agency with no messages is listed with zeros: the public should see that nobody called about
    roads, not wonder whether roads exists. A code no longer in the file (an agency removed after
    messages were routed to it) is kept, named by its code, so no message silently drops out.
    """
    groups = {g.key: g for g in group_figures(session, "agency", since=since, until=until, place=place,
                                              language=language, due_days=due_days, now=now)}
    result: list[AgencyFigures] = []
    for code, agency in agencies.by_code.items():
        result.append(_agency_row(code, agency.name, groups.pop(code, None)))
    for code in sorted(k for k in groups if k is not None):
        result.append(_agency_row(code, code, groups[code]))
    return result


def group_figures(session: Session, by: str, *, since: datetime | None = None, until: datetime | None = None,
                  place: str | None = None, language: str | None = None, topic: str | None = None,
                  due_days: int = 7, now: datetime | None = None) -> list[GroupFigures]:
    """Return the figures grouped by "agency", "place" or "topic", over routed messages only, by key."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group figures by {by!r}; choose one of {', '.join(GROUPINGS)}")
    if due_days < 1:
        raise ValueError("due_days must be at least 1")
    now = now or utcnow()
    key = GROUPINGS[by].label("key")
    first = (select(Answer.message_id.label("message_id"), func.min(Answer.created_at).label("first_at"))
             .group_by(Answer.message_id).subquery("first_answer"))
    hours = _hours_between(session, Message.created_at, first.c.first_at)
    where = _filters(since=since, until=until, place=place, language=language, topic=topic)
    due_hours = literal(float(due_days * 24))
    overdue_before = now - timedelta(days=due_days)
    counts = (
        select(key,
               func.count(Message.id),
               func.count(first.c.first_at),
               func.sum(case((hours <= due_hours, 1), else_=0)),
               func.sum(case((and_(first.c.first_at.is_(None), Message.status.not_in(("closed", "withdrawn")),
                                   Message.created_at < overdue_before), 1), else_=0)))
        .select_from(Message).outerjoin(first, first.c.message_id == Message.id)
        .where(*where).group_by(key))
    medians = _medians(session, key, hours, first, where)
    rows = []
    for k, received, answered, within, overdue in session.execute(counts):
        rows.append(GroupFigures(key=k, received=int(received), answered=int(answered),
                                 answered_within_due=int(within or 0),
                                 median_hours_to_first_answer=medians.get(k), overdue=int(overdue or 0)))
    return sorted(rows, key=lambda g: (g.key is None, g.key or ""))


def _agency_row(code: str, name: str, group: GroupFigures | None) -> AgencyFigures:
    if group is None:
        return AgencyFigures(code, name, 0, 0, 0, None, 0)
    return AgencyFigures(code, name, group.received, group.answered, group.answered_within_due,
                         group.median_hours_to_first_answer, group.overdue)


def _filters(*, since: datetime | None, until: datetime | None, place: str | None, language: str | None,
             topic: str | None) -> list[ColumnElement[bool]]:
    """Build the WHERE clause: routed messages in [since, until), of the place/language/topic asked."""
    where: list[ColumnElement[bool]] = [Message.agency.is_not(None)]
    if since is not None:
        where.append(Message.created_at >= since)
    if until is not None:
        where.append(Message.created_at < until)
    if place is not None:
        where.append(Message.place == place)
    if language is not None:
        where.append(Message.language == language)
    if topic is not None:
        where.append(Message.topic == topic)
    return where


def _hours_between(session: Session, start: ColumnElement[Any] | InstrumentedAttribute[datetime],
                   end: ColumnElement[datetime]) -> ColumnElement[Any]:
    """Hours from start to end as SQL: SQLite counts whole epoch seconds, PostgreSQL subtracts timestamps.

    Whole seconds, not julianday() fractions: those carry float noise that turns 10 h into 9.99999 h
    and could put an answer given exactly on the due day on the wrong side of it.
    """
    if session.get_bind().dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
        return seconds / 3600.0
    return func.extract("epoch", end - start) / 3600.0


def _medians(session: Session, key: ColumnElement[str | None], hours: ColumnElement[Any],
             first: Subquery, where: Sequence[ColumnElement[bool]]) -> dict[str | None, float]:
    """Return the median hours to first answer per group, by ranking answered messages in SQL.

    The median of n sorted values is the mean of the values ranked (n+1)//2 and (n+2)//2 (the same
    row when n is odd); window functions give rank and n in SQLite and PostgreSQL alike.
    """
    answered = (select(key, hours.label("h"))
                .select_from(Message).join(first, first.c.message_id == Message.id)
                .where(*where).subquery("answered"))
    ranked = select(answered.c.key, answered.c.h,
                    func.row_number().over(partition_by=answered.c.key, order_by=answered.c.h).label("rn"),
                    func.count().over(partition_by=answered.c.key).label("n")).subquery("ranked")
    middle = (select(ranked.c.key, func.avg(ranked.c.h))
              .where(or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2))
              .group_by(ranked.c.key))
    return {k: float(m) for k, m in session.execute(middle) if m is not None}


def place_topic_counts(session: Session, *, since: datetime | None = None,
                       until: datetime | None = None) -> dict[tuple[str | None, str | None], int]:
    """Count routed messages per (place, topic) cell, for the public map of where what was raised."""
    where = _filters(since=since, until=until, place=None, language=None, topic=None)
    query = (select(Message.place, Message.topic, func.count(Message.id))
             .where(*where).group_by(Message.place, Message.topic))
    return {(place, topic): int(n) for place, topic, n in session.execute(query)}

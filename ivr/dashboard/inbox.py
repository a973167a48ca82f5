"""An agency's inbox as SQL: which messages an official sees, filtered, newest first, a page at a time.

Pages are cut by keyset (the last row's created_at and id), not OFFSET: the hundredth page of an
agency with a million messages costs the same index walk as the first. The query follows the
index ix_messages_agency_status_created (agency, status, created_at) from the newest end.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.core.models import Answer, Message, Transcript
from ivr.core.models.accounts import User
from ivr.core.redact import redact
from ivr.core.transcript_check import needs_listening_clause

STATUSES = ("received", "in_progress", "answered", "closed")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200  # a slow link should never be handed more rows than this in one page
COUNT_CAP = 1000  # tab counts stop here ("1000+"): counting a million rows would cost more than the page


class FilterRejected(ValueError):
    """Say which inbox filter was malformed (the page answers 400 with this text)."""


@dataclass(frozen=True)
class InboxFilter:
    """What an inbox page shows. `agency` None means every agency (admins only)."""

    agency: str | None
    status: str = "received"
    topic: str | None = None
    place: str | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    listen: bool = False  # only messages a person should listen to (Message.needs_listening)
    before: tuple[datetime, int] | None = None
    per_page: int = PAGE_SIZE

    def query_args(self, **changes: object) -> dict[str, str]:
        """Return the URL query that reproduces this filter (with changes), for links and the next page."""
        f = replace(self, **changes)  # type: ignore[arg-type]
        args = {"status": f.status, "topic": f.topic or "", "place": f.place or "", "language": f.language or "",
                "from": f.date_from.isoformat() if f.date_from else "",
                "to": f.date_to.isoformat() if f.date_to else "", "overdue": "1" if f.overdue else "",
                "listen": "1" if f.listen else "",
                "before": encode_cursor(f.before) if f.before else "",
                "per_page": str(f.per_page) if f.per_page != PAGE_SIZE else ""}
        return {k: v for k, v in args.items() if v}


@dataclass(frozen=True)
class InboxRow:
    id: int
    reference: str
    created_at: datetime
    status: str
    agency: str | None
    topic: str | None
    place: str | None
    language: str
    overdue: bool
    due_at: datetime | None = None  # when an answer is due (None once answered or closed)
    snippet: Snippet | None = None
    callers: int = 1  # members of the message's cluster (1: not clustered)


@dataclass(frozen=True)
class Snippet:
    """The start of a message's transcript, redacted, and whether a person checked it yet."""

    text: str
    machine: bool  # a guess of the speech engine, nobody checked it: shown as such
    needs_listening: bool
    confidence: float | None = None  # the machine transcript's calibrated confidence, 0-1


SNIPPET_CHARS = 140


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    next_before: tuple[datetime, int] | None  # cursor of the next (older) page, None on the last page


def encode_cursor(cursor: tuple[datetime, int]) -> str:
    return f"{cursor[0].isoformat()}~{cursor[1]}"


def decode_cursor(raw: str) -> tuple[datetime, int]:
    """Read a `before` cursor; raise FilterRejected when it is not one of ours."""
    stamp, sep, ident = raw.partition("~")
    try:
        if not sep or not ident.isdigit() or len(ident) > 18:  # 18 digits: always inside a BIGINT
            raise ValueError(raw)
        return datetime.fromisoformat(stamp), int(ident)
    except ValueError as exc:
        raise FilterRejected(f"'before' must be a page cursor from this inbox, not {raw!r}") from exc


def _choice(args: Mapping[str, str], name: str, allowed: Collection[str]) -> str | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise FilterRejected(f"{name} must be one of {', '.join(sorted(allowed))}, not {value!r}")
    return value


def parse_day(args: Mapping[str, str], name: str) -> date | None:
    """Read an optional YYYY-MM-DD query value; raise FilterRejected naming a malformed one."""
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FilterRejected(f"{name} must be a date like 2025-01-31, not {value!r}") from exc


def on_days(column: ColumnElement[datetime] | InstrumentedAttribute[datetime], first: date | None,
            last: date | None) -> list[ColumnElement[bool]]:
    """Return the conditions keeping `column` within whole days first..last (both optional, inclusive)."""
    conditions = []
    if first:
        conditions.append(column >= datetime.combine(first, datetime.min.time()))
    if last:
        conditions.append(column < datetime.combine(last + timedelta(days=1), datetime.min.time()))
    return conditions


def parse_filter(args: Mapping[str, str], user: User, *, agencies: Collection[str], topics: Collection[str],
                 places: Collection[str], languages: Collection[str]) -> InboxFilter:
    """Turn the inbox's query string into a filter, checking every value; an official is held to their agency."""
    if user.role == "admin":
        agency = _choice(args, "agency", agencies)
    else:
        # Not from the URL: an official's inbox is their agency's, whatever the query says.
        agency = user.agency
    status = _choice(args, "status", STATUSES) or "received"
    raw_per_page = args.get("per_page", "").strip() or str(PAGE_SIZE)
    if not raw_per_page.isdigit() or not 1 <= int(raw_per_page) <= MAX_PAGE_SIZE:
        raise FilterRejected(f"per_page must be a whole number from 1 to {MAX_PAGE_SIZE}, not {raw_per_page!r}")
    date_from, date_to = parse_day(args, "from"), parse_day(args, "to")
    if date_from and date_to and date_from > date_to:
        raise FilterRejected("'from' must not be after 'to'")
    before = args.get("before", "").strip()
    return InboxFilter(agency=agency, status=status, topic=_choice(args, "topic", topics),
                       place=_choice(args, "place", places), language=_choice(args, "language", languages),
                       date_from=date_from, date_to=date_to, overdue=args.get("overdue", "") in ("1", "on"),
                       listen=args.get("listen", "") in ("1", "on"),
                       before=decode_cursor(before) if before else None, per_page=int(raw_per_page))


def _unanswered() -> object:
    return ~exists().where(Answer.message_id == Message.id)


def inbox_query(f: InboxFilter, *, now: datetime, due_days: int) -> Select[Message]:
    """Return the SELECT of one inbox page (one row more than the page, to know whether another follows)."""
    due = now - timedelta(days=due_days)
    q = select(Message).where(Message.status == f.status)
    if f.agency is not None:
        q = q.where(Message.agency == f.agency)
    if f.topic:
        q = q.where(Message.topic == f.topic)
    if f.place:
        q = q.where(Message.place == f.place)
    if f.language:
        q = q.where(Message.language == f.language)
    q = q.where(*on_days(Message.created_at, f.date_from, f.date_to))
    if f.overdue:
        if f.status == "closed":
            q = q.where(literal(False))
        q = q.where(Message.created_at < due, _unanswered())  # type: ignore[arg-type]
    # A cluster shows as one row, its lead's (the lead's id is the cluster's id); the others are counted.
    q = q.where(or_(Message.cluster_id.is_(None), Message.cluster_id == Message.id))
    if f.listen:
        q = q.where(needs_listening_clause())
    if f.before:
        stamp, ident = f.before
        # `created_at <=` bounds the index walk; the OR only breaks ties within the same instant.
        q = q.where(Message.created_at <= stamp,
                    or_(Message.created_at < stamp, and_(Message.created_at == stamp, Message.id < ident)))
    return q.order_by(Message.created_at.desc(), Message.id.desc()).limit(f.per_page + 1)


def load_inbox(db: Session, f: InboxFilter, *, now: datetime, due_days: int) -> InboxPage:
    """Return one page of the inbox and the cursor of the next."""
    found = list(db.scalars(inbox_query(f, now=now, due_days=due_days)))
    page, more = found[: f.per_page], len(found) > f.per_page
    due = now - timedelta(days=due_days)
    answered = set()
    if page:
        answered = set(db.scalars(select(Answer.message_id).where(Answer.message_id.in_([m.id for m in page]))))
    ids = [m.id for m in page]
    found_snippets = snippets(db, ids) if ids else {}
    callers = cluster_sizes(db, [m.id for m in page if m.cluster_id == m.id])
    rows = [InboxRow(m.id, m.reference, m.created_at, m.status, m.agency, m.topic, m.place, m.language,
                     overdue=m.status != "closed" and m.created_at < due and m.id not in answered,
                     due_at=None if m.status == "closed" or m.id in answered else m.created_at + timedelta(
                         days=due_days),
                     snippet=found_snippets.get(m.id), callers=callers.get(m.id, 1)) for m in page]
    return InboxPage(rows, (page[-1].created_at, page[-1].id) if more else None)


def snippets(db: Session, ids: Collection[int]) -> dict[int, Snippet]:
    """Return the redacted start of each message's transcript, with its flags, by message id.

    The one place the inbox reads transcripts: a person's checked text is shown before the machine's,
    and "needs listening" is Message.needs_listening (no engine for the language, or check by ear and
    nobody checked it). Redacted even for the owning agency: a snippet is glanced at, on a shared screen.
    """
    found = {}
    rows = db.execute(select(Message.id, Message.pipeline, func.substr(Transcript.text, 1, SNIPPET_CHARS * 2),
                             func.substr(Transcript.checked_text, 1, SNIPPET_CHARS * 2), Transcript.checked_at,
                             Transcript.check_by_ear, Transcript.confidence, Transcript.id)
                      .outerjoin(Transcript, Transcript.message_id == Message.id).where(Message.id.in_(ids)))
    for message_id, pipeline, text, checked_text, checked_at, check_by_ear, confidence, transcript_id in rows:
        if transcript_id is None:
            if pipeline in Message.NO_ENGINE_STATES:  # nobody will transcribe it: a person must listen
                found[message_id] = Snippet("", machine=False, needs_listening=True)
            continue
        checked = checked_at is not None and checked_text is not None
        shown = checked_text if checked else text
        found[message_id] = Snippet(snippet_of(shown or ""), machine=not checked,
                                    needs_listening=bool(check_by_ear) and not checked, confidence=confidence)
    return found


@functools.lru_cache(maxsize=4096)
def snippet_of(text: str) -> str:
    """Redact the start of a transcript and cut it at a word, for one inbox row.

    Cached by the text itself: an official reloads the same page many times, and redaction is the
    costliest part of a row. A corrected transcript is new text, so it is never served stale.
    """
    clean = " ".join(redact(text).text.split())
    if len(clean) > SNIPPET_CHARS:
        clean = clean[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return clean


def cluster_sizes(db: Session, leads: Collection[int]) -> dict[int, int]:
    """Count the members of each cluster led by one of `leads` (the lead included)."""
    if not leads:
        return {}
    rows = db.execute(select(Message.cluster_id, func.count()).where(Message.cluster_id.in_(leads))
                      .group_by(Message.cluster_id))
    return {int(lead): int(n) for lead, n in rows if lead is not None}


def status_counts(db: Session, agency: str | None) -> dict[str, int]:
    """Count an inbox's messages per status, each count stopping at COUNT_CAP + 1 (shown as '1000+')."""
    counts = {}
    for status in STATUSES:
        inner = select(literal(1)).select_from(Message).where(Message.status == status)
        if agency is not None:
            inner = inner.where(Message.agency == agency)
        counts[status] = db.scalar(select(func.count()).select_from(inner.limit(COUNT_CAP + 1).subquery())) or 0
    return counts

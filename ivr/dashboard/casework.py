"""Casework moves beyond answering: close unanswered with a reason, reassign with a reason, return, split.

Plain functions over a session, each writing its audit row in the same transaction. Moves that two
tabs (or two officials) may make at once are conditional UPDATEs on the state the official saw, so
the second one is refused with what happened instead of silently repeating or undoing the first.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from ivr.core.audit import record_audit
from ivr.core.models import Answer, Message
from ivr.core.models.accounts import User
from ivr.dashboard.messages import ActionRefused

# Why a message may be closed without an answer: code → words shown to officials (and in the audit).
CLOSE_REASONS = {"duplicate": "duplicate", "not_our_remit": "not our remit", "resolved_on_site": "resolved on site",
                 "could_not_understand": "could not understand", "other": "other"}
OPEN = ("received", "in_progress")
MAX_REASON = 500


def _reason_text(raw: str | None, what: str) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise ActionRefused(f"{what} needs a reason")
    if len(text) > MAX_REASON:
        raise ActionRefused(f"a reason may have at most {MAX_REASON} characters (this one has {len(text)})")
    return text


def members(db: Session, message: Message) -> list[Message]:
    """Return the messages of `message`'s cluster (itself included), oldest first; [message] when alone."""
    if message.cluster_id is None:
        return [message]
    return list(db.scalars(select(Message).where(Message.cluster_id == message.cluster_id)
                           .order_by(Message.created_at, Message.id)))


def answer_targets(db: Session, message: Message, language: str | None) -> list[Message]:
    """Return who an answer given on this message's page reaches: itself, or its group's callers in `language`.

    In a group, one answer reaches every open member in the answer's language that has no answer yet
    (all of them, for an update once each has one); the others wait for an answer in their own language.
    """
    group = members(db, message)
    if len(group) == 1:
        return [message]
    language = language or message.language
    answered = set(db.scalars(select(Answer.message_id).where(Answer.message_id.in_([m.id for m in group]))))
    reachable = [m for m in group if m.language == language and m.status != "closed"]
    # Those still waiting; when every one has had an answer, a further answer (an update) reaches them all.
    targets = [m for m in reachable if m.id not in answered] or reachable
    if not targets:
        raise ActionRefused(f"no open message in this group is in {language}")
    return targets


def waiting_languages(db: Session, group: list[Message]) -> dict[str, list[Message]]:
    """Return the group's open members without an answer, by language."""
    if len(group) < 2:
        return {}
    answered = set(db.scalars(select(Answer.message_id).where(Answer.message_id.in_([m.id for m in group]))))
    waiting: dict[str, list[Message]] = {}
    for m in group:
        if m.status != "closed" and m.id not in answered:
            waiting.setdefault(m.language, []).append(m)
    return waiting


def close_unanswered(db: Session, user: User, message: Message, reason: str, note: str | None = None) -> list[int]:
    """Close an open message (and its cluster's open members) without an answer; return the ids closed.

    The UPDATE is conditional on the message still being open: a second tab closing it again is refused.
    """
    if reason not in CLOSE_REASONS:
        raise ActionRefused(f"the reason must be one of {', '.join(CLOSE_REASONS.values())}, not {reason!r}")
    text = _reason_text(note, "closing for 'other'") if reason == "other" else (" ".join((note or "").split())
                                                                                 or None)
    if text and len(text) > MAX_REASON:
        raise ActionRefused(f"a reason may have at most {MAX_REASON} characters (this one has {len(text)})")
    others = [m.id for m in members(db, message) if m.id != message.id and m.status in OPEN]
    values = {"status": "closed", "close_reason": reason, "close_note": text}
    closed = db.execute(update(Message).where(Message.id == message.id, Message.status.in_(OPEN)).values(**values)
                        .execution_options(synchronize_session=False))
    if not cast(CursorResult[Any], closed).rowcount:
        db.refresh(message)
        why = CLOSE_REASONS.get(message.close_reason or "", "with an answer")
        raise ActionRefused(f"message {message.reference} is {status_word(message.status)} already"
                            + (f" (closed: {why})" if message.status == "closed" else ""))
    if others:
        db.execute(update(Message).where(Message.id.in_(others), Message.status.in_(OPEN)).values(**values)
                   .execution_options(synchronize_session=False))
    for m in [message.id, *others]:
        record_audit(db, user.id, "close", "message", m, f"reason={reason}")
    db.expire_all()
    return [message.id, *others]


def status_word(status: str) -> str:
    return {"received": "new", "in_progress": "in progress"}.get(status, status)


def reassign_with_reason(db: Session, user: User, message: Message, agency: str, agencies: Collection[str],
                         reason: str | None) -> str:
    """Hand a message (and its cluster) to another agency with a required reason; return the previous agency."""
    text = _reason_text(reason, "a reassignment")
    if agency not in agencies:
        raise ActionRefused(f"agency must be one of {', '.join(sorted(agencies))}, not {agency!r}")
    old = message.agency or "none"
    if agency == message.agency:
        raise ActionRefused(f"the message is with {agency} already")
    for m in members(db, message):
        if m.agency != message.agency:
            continue
        m.agency, m.reassigned_from, m.reassign_reason = agency, old, text
        note = f"reassigned by user {user.id}: {old} → {agency} ({text})"
        m.routing_reason = f"{m.routing_reason}; {note}" if m.routing_reason else note
        record_audit(db, user.id, "reassign", "message", m.id, f"{old}->{agency}: {text}")
    return old


def return_message(db: Session, user: User, message: Message, reason: str | None) -> str:
    """Send a reassigned message back where it came from ("not ours"), with the reason; return that agency."""
    text = _reason_text(reason, "returning a message")
    if not message.reassigned_from or message.reassigned_from == "none":
        raise ActionRefused("this message was not reassigned to you, so there is nowhere to return it")
    if user.role != "admin" and user.agency != message.agency:
        raise ActionRefused("only the agency it was reassigned to can return it")
    back, here = message.reassigned_from, message.agency or "none"
    for m in members(db, message):
        if m.agency != here:
            continue
        m.agency, m.reassigned_from = back, None
        m.reassign_reason = f"returned by {here}: {text}"
        note = f"returned by user {user.id}: {here} → {back} (not ours: {text})"
        m.routing_reason = f"{m.routing_reason}; {note}" if m.routing_reason else note
        record_audit(db, user.id, "return", "message", m.id, f"{here}->{back}: {text}")
    return back


def split_out(db: Session, user: User, message: Message) -> None:
    """Take a wrongly grouped message out of its cluster for good (the routing job will not regroup it).

    When the lead leaves, the oldest remaining member leads; a cluster left with one message dissolves.
    """
    if message.cluster_id is None:
        raise ActionRefused(f"message {message.reference} is not in a group")
    lead = message.cluster_id
    rest = [m for m in members(db, message) if m.id != message.id]
    if not rest:
        raise ActionRefused("this is the last message of its group: there is nothing to split it from")
    message.cluster_id, message.cluster_split = None, True
    new_lead = rest[0].id if lead == message.id else lead
    for m in rest:
        m.cluster_id = new_lead if len(rest) > 1 else None
    record_audit(db, user.id, "split", "message", message.id, f"from cluster {lead}")


def cluster_count(db: Session, lead: int) -> int:
    """Count the messages in the cluster led by `lead`."""
    return int(db.scalar(select(func.count()).where(Message.cluster_id == lead)) or 0)

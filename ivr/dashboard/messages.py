"""What an official may do to one message: see it, move its status, reassign it, note on it.

Plain functions over a SQLAlchemy session, tested without HTTP; each action writes its audit row in
the same transaction. A message the user may not see is reported as missing (the views answer 404),
so an official cannot even learn which ids exist at other agencies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.agencies import MenuError, routing_for
from ivr.core.audit import record_audit
from ivr.core.config import Config
from ivr.core.disclosure import may_see
from ivr.core.models import Answer, Message, Transcript
from ivr.core.models.accounts import Note, User
from ivr.core.routing import MessageFacts, route

MAX_NOTE = 5000
# Status moves an official may make by hand. "answered" needs an answer row (creating one sets it);
# a closed message can be reopened. Anything else (e.g. new → closed unanswered) is refused, so the
# accountability figures count every message that was closed without being answered as overdue.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"in_progress"}),
    "in_progress": frozenset({"answered"}),
    "answered": frozenset({"closed", "in_progress"}),
    "closed": frozenset({"in_progress"}),
}


class MessageHidden(LookupError):
    """The message does not exist or belongs to an agency this user does not serve."""


class ActionRefused(ValueError):
    """Say why a status change, reassignment, note or answer was refused (answered as 400 / 409)."""


def visible_message(db: Session, user: User, message_id: int) -> Message:
    """Return the message if this user may see it; raise MessageHidden for missing and foreign alike."""
    message = db.get(Message, message_id)
    if message is None or not may_see("agency", "facts", message, viewer=user):  # routing decides
        raise MessageHidden(message_id)
    return message


def change_status(db: Session, user: User, message: Message, new: str) -> None:
    """Move a message to `new` if that step is allowed from where it is; audit it."""
    old = message.status
    if new not in TRANSITIONS:
        raise ActionRefused(f"status must be one of {', '.join(TRANSITIONS)}, not {new!r}")
    if new not in TRANSITIONS.get(old, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(old, frozenset()))) or "none"
        raise ActionRefused(f"a message that is {old} cannot become {new} (allowed: {allowed})")
    if new == "answered" and not db.scalar(select(Answer.id).where(Answer.message_id == message.id).limit(1)):
        raise ActionRefused("a message becomes answered by giving it an answer (record, upload or type one)")
    message.status = new
    record_audit(db, user.id, "status", "message", message.id, f"{old}->{new}")


def add_note(db: Session, user: User, message: Message, text: str) -> Note:
    """Add an internal note to a message; audit it (the audit row holds the note's id, not its text)."""
    text = text.strip()
    if not text:
        raise ActionRefused("the note is empty")
    if len(text) > MAX_NOTE:
        raise ActionRefused(f"a note may have at most {MAX_NOTE} characters (this one has {len(text)})")
    note = Note(message_id=message.id, author_id=user.id, text=text)
    db.add(note)
    db.flush()
    record_audit(db, user.id, "note", "message", message.id, f"note {note.id}")
    return note


def reroute_checked(db: Session, user: User, message: Message, config: Config) -> str | None:
    """Route the message again on its checked words, as the official asked; return the new agency, if it moved.

    Only on the official's word: a message never changes hands because a transcript was corrected.
    """
    transcript = message.transcript
    if transcript is None or not transcript.checked:
        raise ActionRefused("only a transcript a person checked can re-route a message")
    try:
        _, routing = routing_for(config)
    except MenuError as exc:
        raise ActionRefused(f"the routing files have problems: {exc}") from exc
    facts = MessageFacts(topic=message.topic, place=message.place, language=message.language)
    decision = route(facts, transcript.best_text, routing.agencies, routing.rules)
    if decision.agency == message.agency:
        record_audit(db, user.id, "reroute", "message", message.id, f"kept {decision.agency}")
        return None
    old = message.agency or "none"
    message.agency = decision.agency
    why = f"re-routed on checked words by user {user.id}: {old} → {decision.agency} ({decision.reason})"
    message.routing_reason = f"{message.routing_reason}; {why}" if message.routing_reason else why
    record_audit(db, user.id, "reroute", "message", message.id, f"{old}->{decision.agency}")
    return decision.agency


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float | None
    low: bool


def transcript_words(transcript: Transcript, below: float) -> list[Word]:
    """Return the transcript's words, each marked low when the engine's confidence is under `below`.

    Falls back to the plain text (no marks) when the stored word list is missing or unreadable.
    """
    try:
        items = json.loads(transcript.words or "[]")
    except json.JSONDecodeError:
        items = []
    words = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("word"), str):
            continue
        conf = item.get("confidence")
        conf = float(conf) if isinstance(conf, int | float) else None
        words.append(Word(item["word"], conf, conf is not None and conf < below))
    if not words:
        words = [Word(w, None, False) for w in transcript.text.split()]
    return words


def notes_of(db: Session, message: Message) -> list[tuple[Note, str]]:
    """Return a message's notes, oldest first, each with its author's email."""
    rows = db.execute(select(Note, User.email).outerjoin(User, User.id == Note.author_id)
                      .where(Note.message_id == message.id).order_by(Note.created_at, Note.id)).all()
    return [(note, email or "(deleted account)") for note, email in rows]

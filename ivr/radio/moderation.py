"""The moderation queue: a radio host or admin approves each quote and clip before it can go on air.

Rules, each enforced here (the pages only call these functions):
- only a message whose caller chose on-air consent ("radio") can be approved; any other is refused
  with a message saying so, and the refusal is audited too;
- a quote is words of the redacted transcript, verbatim: the host may shorten it, never change it;
- a quote is cut only from words a person checked after listening (ivr/core/transcript_check.py):
  machine text is a guess, and a guess must never go on air as a caller's words;
- a clip's audio may be approved only when the redaction took nothing out of its transcript (if it
  did, the recording still says the name or number the text hides) and the host says they listened;
- every decision is written to the audit log with the host's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ivr.core.audit import record_audit
from ivr.core.disclosure import allowed, may_see
from ivr.core.models import Message, Recording, Transcript, utcnow
from ivr.core.models.radio import RadioClip, RedactedTranscript
from ivr.core.redact import redact

MAX_QUEUE = 200


class ModerationRefused(Exception):
    """The host's decision breaks a rule of what may go on air; the message says which, in plain words."""


class NotFound(Exception):
    """No such message."""


@dataclass(frozen=True)
class Candidate:
    """A message a host may put on air, with what can be quoted of it."""

    message_id: int
    created_at: datetime
    topic: str | None
    place: str | None
    language: str
    redacted: str | None  # None: no transcript yet (the audio can still be judged by ear)
    removed: int
    has_audio: bool
    status: str  # pending | approved | rejected
    quote: str | None
    audio_approved: bool
    checked: bool = False  # a person listened and checked the words (only then may they be quoted)

    @property
    def audio_allowed(self) -> bool:
        """Say whether this clip's audio may be approved at all (nothing was redacted from it)."""
        return self.has_audio and self.redacted is not None and self.removed == 0


def ensure_redacted(session: Session, message_id: int) -> RedactedTranscript | None:
    """Return the message's redacted transcript, redacting it now if that was not done yet."""
    kept = session.get(RedactedTranscript, message_id)
    if kept is not None:
        return kept
    transcript = session.scalar(select(Transcript).where(Transcript.message_id == message_id))
    if transcript is None or not transcript.best_text.strip():
        return None
    red = redact(transcript.best_text)
    kept = RedactedTranscript(message_id=message_id, language=transcript.language, text=red.text, removed=red.total)
    session.add(kept)
    session.flush()
    return kept


def moderation_queue(session: Session, *, include_decided: bool = True) -> list[Candidate]:
    """List on-air-consent messages, undecided first, newest first; decided ones after, to withdraw."""
    query = (select(Message, RadioClip, Recording.stored_path, Transcript.checked_at)
             .outerjoin(RadioClip, RadioClip.message_id == Message.id)
             .outerjoin(Recording, Recording.message_id == Message.id)
             .outerjoin(Transcript, Transcript.message_id == Message.id)
             .where(allowed("radio", "redacted_words")))
    if not include_decided:
        query = query.where(or_(RadioClip.id.is_(None), RadioClip.status == "pending"))
    rows = session.execute(query.order_by(Message.created_at.desc()).limit(MAX_QUEUE)).all()
    result = []
    for message, clip, stored, checked_at in rows:
        kept = ensure_redacted(session, message.id)
        result.append(Candidate(
            message_id=message.id, created_at=message.created_at, topic=message.topic, place=message.place,
            language=message.language, redacted=kept.text if kept else None, removed=kept.removed if kept else 0,
            has_audio=bool(stored), status=clip.status if clip else "pending", quote=clip.quote if clip else None,
            audio_approved=bool(clip and clip.audio_approved), checked=checked_at is not None))
    return sorted(result, key=lambda c: c.status != "pending")


def approve(session: Session, message_id: int, user_id: int | None, *, quote: str = "",
            audio: bool = False, listened: bool = False) -> RadioClip:
    """Approve a message for air: its quote (the redacted transcript or a verbatim part), and its audio if asked."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"message {message_id} does not exist")
    if not may_see("radio", "quote", message, approved=True):
        record_audit(session, user_id, "radio_approve_refused", "message", message_id, detail="no on-air consent")
        raise ModerationRefused(
            "This caller did not agree to be heard on the radio: nothing of this message can go on air.")
    kept = ensure_redacted(session, message_id)
    checked = session.scalar(select(Transcript.checked_at).where(Transcript.message_id == message_id)) is not None
    if quote.strip() and not checked:
        record_audit(session, user_id, "radio_approve_refused", "message", message_id, detail="unchecked transcript")
        raise ModerationRefused("This transcript is the machine's guess: listen to the recording and check the "
                                "words first. Only words a person checked can be quoted on air.")
    chosen = _verbatim(quote, kept) if checked else None
    if audio:
        _check_audio(session, message_id, kept, listened)
    clip = session.scalar(select(RadioClip).where(RadioClip.message_id == message_id))
    if clip is None:
        clip = RadioClip(message_id=message_id)
        session.add(clip)
    clip.status, clip.quote, clip.audio_approved = "approved", chosen, audio
    clip.decided_by, clip.decided_at = user_id, utcnow()
    session.flush()
    record_audit(session, user_id, "radio_approve", "message", message_id,
                 detail=f"clip={clip.id} quote={'yes' if chosen else 'no'} audio={'yes' if audio else 'no'}")
    return clip


def reject(session: Session, message_id: int, user_id: int | None) -> RadioClip:
    """Keep a message off air (or take an approved one off again)."""
    if session.get(Message, message_id) is None:
        raise NotFound(f"message {message_id} does not exist")
    clip = session.scalar(select(RadioClip).where(RadioClip.message_id == message_id))
    if clip is None:
        clip = RadioClip(message_id=message_id)
        session.add(clip)
    clip.status, clip.audio_approved = "rejected", False
    clip.decided_by, clip.decided_at = user_id, utcnow()
    session.flush()
    record_audit(session, user_id, "radio_reject", "message", message_id, detail=f"clip={clip.id}")
    return clip


def _verbatim(quote: str, kept: RedactedTranscript | None) -> str | None:
    """Return the quote to keep: the host's words if they are the redacted transcript's, verbatim."""
    wanted = " ".join(quote.split())
    if kept is None:
        if wanted:
            raise ModerationRefused("This message has no transcript yet, so there is nothing to quote.")
        return None
    whole = " ".join(kept.text.split())
    if not wanted:
        return whole
    if wanted not in whole:
        raise ModerationRefused("A quote must be the caller's own words, copied from the redacted transcript: "
                                "you may shorten it, not change it.")
    # Belt and braces: the part chosen must not hold anything the redaction would take out.
    if redact(wanted).total:
        raise ModerationRefused("This quote still holds a name or number: choose another part.")
    return wanted


def _check_audio(session: Session, message_id: int, kept: RedactedTranscript | None, listened: bool) -> None:
    if session.scalar(select(Recording.stored_path).where(Recording.message_id == message_id)) is None:
        raise ModerationRefused("There is no stored recording of this message to play.")
    if kept is None:
        raise ModerationRefused("The recording cannot be approved before it has a transcript to check.")
    if kept.removed:
        raise ModerationRefused("The caller's recording says a name or number that the transcript hides: "
                                "its audio can never go on air. Approve the quote only.")
    if not listened:
        raise ModerationRefused("Listen to the whole recording first, then tick that it says no name or number.")

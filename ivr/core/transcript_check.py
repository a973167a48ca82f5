"""A person's check of a machine transcript: listened, corrected (or confirmed), audited, machine text kept.

Machine transcripts are guesses (the English engine gets most words wrong on telephone audio), so
words travel as a caller's own only once a person has listened and written what was said. Officials
do it on the message page, radio hosts on the moderation page; both call `check_transcript`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ivr.core.audit import record_audit
from ivr.core.models import Message, Recording, Transcript, utcnow
from ivr.core.models.radio import RedactedTranscript
from ivr.core.redact import redact

MAX_CHECKED = 5000
SNIPPET_WORDS = 12
NO_ENGINE_STATES = Message.NO_ENGINE_STATES


class CheckRefused(ValueError):
    """Say why a transcript check was refused, in words the person can act on."""


@dataclass(frozen=True)
class CheckResult:
    """What a check changed: whether the words differ from the machine's."""

    transcript_id: int
    corrected: bool


def check_transcript(session: Session, message: Message, user_id: int | None, text: str, *,
                     listened: bool, role: str) -> CheckResult:
    """Keep a person's words for a message after they listened; audit it; the machine text stays.

    A message without a machine transcript (no engine for its language) gets one written by the
    person alone. The radio's redacted copy is dropped, so quotes and themes read the checked words.
    """
    words = " ".join(text.split())
    if not listened:
        raise CheckRefused("listen to the whole recording first, then tick that you did")
    if not words:
        raise CheckRefused("write what the caller said (the transcript is empty)")
    if len(words) > MAX_CHECKED:
        raise CheckRefused(f"a transcript may have at most {MAX_CHECKED} characters (this one has {len(words)})")
    if session.scalar(select(Recording.stored_path).where(Recording.message_id == message.id)) is None:
        raise CheckRefused("there is no stored recording of this message to listen to")
    transcript = session.scalar(select(Transcript).where(Transcript.message_id == message.id))
    if transcript is None:
        transcript = Transcript(message_id=message.id, language=message.language, text="", words="[]",
                                engine="person", model="", confidence=None, check_by_ear=False,
                                audio_seconds=0.0, processing_seconds=0.0)
        session.add(transcript)
    corrected = words != " ".join(transcript.text.split())
    transcript.checked_text, transcript.checked_by, transcript.checked_at = words, user_id, utcnow()
    kept = session.get(RedactedTranscript, message.id)
    if kept is not None:
        session.delete(kept)
    session.flush()
    # Ids and a yes/no only: the audit log never holds a caller's words.
    record_audit(session, user_id, "transcript_check", "message", message.id,
                 f"by={role} corrected={'yes' if corrected else 'no'}")
    return CheckResult(transcript.id, corrected)


def needs_listening_clause() -> ColumnElement[bool]:
    """Return the SQL condition of Message.needs_listening, for the inbox filter."""
    unchecked = and_(Transcript.check_by_ear.is_(True), Transcript.checked_at.is_(None))
    return or_(and_(~Message.transcript.has(), Message.pipeline.in_(NO_ENGINE_STATES)),
               Message.transcript.has(unchecked))


def snippet(message: Message, words: int = SNIPPET_WORDS) -> str | None:
    """Return the first words of the transcript (checked text first), names and numbers taken out."""
    transcript = message.transcript
    if transcript is None or not transcript.best_text.strip():
        return None
    cut = transcript.best_text.split()
    short = " ".join(cut[:words]) + (" …" if len(cut) > words else "")
    return redact(short).text

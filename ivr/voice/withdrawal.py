"""A caller withdraws a report, or takes it off the radio, from main menu key 5 (README "Withdrawing a report").

Plain functions on a session: the voice webhook calls them, tests call them without HTTP.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.core.audit import record_audit
from ivr.core.models import Caller, Message, Transcript
from ivr.core.models.delivery import CALLING, HELD, SCHEDULED, Delivery
from ivr.core.models.radio import RadioClip, RedactedTranscript

WITHDRAWN = "withdrawn"  # Message.status of a report its caller withdrew
WITHDRAWN_NOTE = "withdrawn by the caller"


def withdrawal_status(session: Session, reference: str | None, caller: Caller | None, action: str | None = None) -> str:
    """Say whether this phone may withdraw a report: yours, anonymous, not_yours, withdrawn, no_radio or unknown.

    Only the phone that made a report may withdraw it. An anonymous report keeps no link to any phone
    (promise 1), so the hotline cannot tell its maker from anyone else who learned the reference (the
    agency sees it): it cannot be withdrawn by phone.
    """
    message = (session.scalar(select(Message).where(Message.reference == reference))
               if reference and reference.isdigit() else None)
    if message is None:
        return "unknown"
    if message.status == WITHDRAWN:
        return "withdrawn"
    if message.caller_id is None:
        return "anonymous" if message.consent == "anonymous" else "not_yours"
    if caller is None or caller.id != message.caller_id:
        return "not_yours"
    if action == "withdraw_radio" and message.consent != "radio":
        return "no_radio"
    return "yours"


def withdraw(session: Session, reference: str | None, caller: Caller | None, action: str) -> str | None:
    """Withdraw a report (or take it off the radio) in this transaction, checked again; return a file to delete.

    The rows change together, with their audit row, in the caller's transaction; the recording's file
    (whose sid is returned) is deleted only after the commit, so no row ever points at a deleted file.
    Idempotent: a replayed webhook finds the report withdrawn and changes nothing.
    """
    if withdrawal_status(session, reference, caller, action) != "yours":
        return None
    message = session.scalars(select(Message).where(Message.reference == reference)).one()
    clips = session.scalars(select(RadioClip).where(RadioClip.message_id == message.id))
    for clip in clips:  # never again on air; a bulletin already broadcast cannot be recalled
        clip.status, clip.quote, clip.audio_approved = "rejected", None, False
    if action == "withdraw_radio":
        message.consent = "agency"  # consent 3 → 1: every radio read asks ivr/core/disclosure.py again
        record_audit(session, None, "radio_withdrawn_by_caller", "message", message.id)
        return None
    message.status = WITHDRAWN
    message.routing_reason = f"{message.routing_reason}; {WITHDRAWN_NOTE}" if message.routing_reason else WITHDRAWN_NOTE
    if message.transcript is not None:
        message.transcript.text, message.transcript.words, message.transcript.confidence = "", "[]", None
    else:  # not transcribed yet: an empty row keeps the transcription job from writing one later
        session.add(Transcript(message_id=message.id, language=message.language, text="", words="[]",
                               engine="withdrawn", model="", audio_seconds=0.0, processing_seconds=0.0))
    session.execute(delete(RedactedTranscript).where(RedactedTranscript.message_id == message.id))
    sid = None
    if message.recording is not None:
        sid = message.recording.recording_sid
        message.recording.stored_path, message.recording.sha256, message.recording.size_bytes = None, None, None
        message.recording.discarded = True
    for answer in message.answers:  # an answer not yet rung through is not rung through
        delivery = session.scalar(select(Delivery).where(Delivery.answer_id == answer.id))
        if delivery is not None and delivery.status in (SCHEDULED, CALLING):
            delivery.status, delivery.next_attempt_at = HELD, None
            delivery.held_reason = "the caller withdrew the report"
    record_audit(session, None, "withdrawn_by_caller", "message", message.id)
    return sid

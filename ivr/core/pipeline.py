"""The background pipeline's states, kept on each message in SQL, and what comes next from each.

received ──ingest──▶ stored ──transcribe──▶ ready            (a transcript exists)
                                     └────▶ needs_listening  (no engine speaks the language)
ready | needs_listening ──route──▶ routed                    (agency chosen, notifications queued)
received ──ingest──▶ audio_unreadable                        (the download is not audio: kept, shown)
any ──job failed for good──▶ failed                          (shown by `hotline jobs`, retried by it)
duplicate: a second message for one recording, made by the keep race before migration 0008 (never moved on)

Both the web app (which enqueues the first job) and the worker (which moves messages on) use these
names; the sweeper re-enqueues a message whose state has not moved for too long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.models import Message, Recording, utcnow

RECEIVED = "received"
STORED = "stored"
READY = "ready"
NEEDS_LISTENING = "needs_listening"
AUDIO_UNREADABLE = "audio_unreadable"
FAILED = "failed"
ROUTED = "routed"
DUPLICATE = "duplicate"

TRANSCRIBED = (READY, NEEDS_LISTENING)
WAITING = (RECEIVED, STORED, *TRANSCRIBED)
DONE = (ROUTED,)
PROBLEMS = (AUDIO_UNREADABLE, FAILED)

INGEST_JOB = "worker.jobs.ingest_recording"
TRANSCRIBE_JOB = "worker.jobs.transcribe_message"
ROUTE_JOB = "worker.routing.route_message"


@dataclass(frozen=True)
class PendingJob:
    """A job that should exist for a message: its function, argument and deterministic id."""

    func: str
    message_id: int
    job_id: str


def set_state(message: Message, state: str, error: str | None = None) -> None:
    message.pipeline = state
    message.pipeline_at = utcnow()
    message.pipeline_error = error[:2000] if error else None


def route_job_id(message_id: int) -> str:
    """Name the routing job of a message: one id, whichever job (or the sweeper) queues it."""
    return f"route-{message_id}"


def job_for(message: Message, recording: Recording | None) -> PendingJob | None:
    """Name the job that moves a message on from its current state (None when nothing can)."""
    key = recording.recording_sid if recording is not None else f"message-{message.id}"
    if message.pipeline in TRANSCRIBED:
        return PendingJob(ROUTE_JOB, message.id, route_job_id(message.id))
    if message.pipeline in (RECEIVED, FAILED) and recording is not None and not recording.stored_path:
        return PendingJob(INGEST_JOB, message.id, f"ingest-{key}")
    if message.pipeline in (RECEIVED, STORED, FAILED) and recording is not None and recording.stored_path:
        return PendingJob(TRANSCRIBE_JOB, message.id, f"transcribe-{key}")
    return None


def stuck(session: Session, older_than: timedelta, *, now: datetime | None = None,
          include_failed: bool = False) -> list[tuple[Message, Recording | None]]:
    """List messages waiting in one state for longer than `older_than` (oldest first)."""
    limit = (now or utcnow()) - older_than
    states = (*WAITING, FAILED) if include_failed else WAITING
    rows = session.execute(
        select(Message, Recording).outerjoin(Recording, Recording.message_id == Message.id)
        .where(Message.pipeline.in_(states), Message.pipeline_at <= limit)
        .order_by(Message.pipeline_at)
    ).all()
    return [(m, r) for m, r in rows]

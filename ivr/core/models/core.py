"""The caller's side of the hotline: callers, calls, messages, recordings, transcripts, answers, notifications."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.core.models.base import Base, utcnow


class Caller(Base):
    """A phone that has called, known only by a keyed hash of its number."""

    __tablename__ = "callers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC-SHA256 of the E.164 number with HOTLINE_PEPPER: recognises a returning caller without ever
    # storing the number, and cannot be reversed by brute force without the pepper.
    number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_call_at: Mapped[datetime] = mapped_column(default=utcnow)
    calls_count: Mapped[int] = mapped_column(default=0)


class Call(Base):
    """One phone call and where the caller is in the flow."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default="in-progress")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]

    caller: Mapped[Caller | None] = relationship()


class Message(Base):
    """What a caller reported: choices made by keypad, consent, and where it is in the pipeline."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_status_created", "status", "created_at"),
                      Index("ix_messages_pipeline_at", "pipeline", "pipeline_at"),
                      # An agency's inbox: its messages by status, newest first.
                      Index("ix_messages_agency_status_created", "agency", "status", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    # NULL for an anonymous report: the message keeps no link to the phone it came from.
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(String(32))
    consent: Mapped[str] = mapped_column(String(16))
    confirmed: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(24), default="received")
    # Where the message is in background processing (see worker/pipeline.py); in SQL, not only in Redis,
    # so the sweeper can bring any message through even if every queued job was lost.
    pipeline: Mapped[str] = mapped_column(String(24), default="received")
    pipeline_at: Mapped[datetime] = mapped_column(default=utcnow)
    pipeline_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Which agency the message went to, and why (ivr/core/routing.py): set once by the routing job.
    agency: Mapped[str | None] = mapped_column(String(32))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    routed_at: Mapped[datetime | None]
    # The recording this message keeps, unique: two keep webhooks at once cannot make two messages (one upsert).
    recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Casework (ivr/dashboard/casework.py): why a message was closed unanswered; where a reassignment came
    # from and why (the receiving agency may return it); the cluster of reports about the same problem it
    # belongs to (the id of the cluster's lead message), and whether an official split it out of one.
    close_reason: Mapped[str | None] = mapped_column(String(32))
    close_note: Mapped[str | None] = mapped_column(Text)
    reassigned_from: Mapped[str | None] = mapped_column(String(32))
    reassign_reason: Mapped[str | None] = mapped_column(Text)
    cluster_id: Mapped[int | None] = mapped_column(index=True)
    cluster_split: Mapped[bool] = mapped_column(default=False, server_default=false())
    escalated_at: Mapped[datetime | None]  # when its agency's supervisors were told it passed its due date

    recording: Mapped[Recording | None] = relationship(back_populates="message", uselist=False)
    transcript: Mapped[Transcript | None] = relationship(back_populates="message", uselist=False)
    answers: Mapped[list[Answer]] = relationship(back_populates="message", order_by="Answer.created_at")

    # Pipeline states (ivr/core/pipeline.py) in which a message without a transcript will never get one.
    NO_ENGINE_STATES: ClassVar[tuple[str, ...]] = ("needs_listening", "routed")

    @property
    def needs_listening(self) -> bool:
        """Tell whether a person should listen: no engine spoke the language, or the machine was unsure.

        The SQL twin for filters is ivr/core/transcript_check.needs_listening_clause.
        """
        transcript = self.transcript
        if transcript is None:
            return self.pipeline in self.NO_ENGINE_STATES
        return transcript.check_by_ear and not transcript.checked

    @property
    def confidence(self) -> float | None:
        """Return the machine transcript's confidence (0-1), None without a machine transcript."""
        return self.transcript.confidence if self.transcript is not None else None


class Recording(Base):
    """One Twilio recording: its metadata as Twilio reported it, and our stored copy."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    duration_seconds: Mapped[int | None]
    twilio_status: Mapped[str | None] = mapped_column(String(20))
    discarded: Mapped[bool] = mapped_column(default=False)
    stored_path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    message: Mapped[Message | None] = relationship(back_populates="recording")


class Answer(Base):
    """An agency's answer to a message, heard by the caller when they key the reference number."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    audio_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who answered on the dashboard (ivr/core/models/accounts.py) and how: upload, browser (recorded) or text.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(String(16))

    message: Mapped[Message] = relationship(back_populates="answers")


class Transcript(Base):
    """What the speech engine heard in a message, with a confidence for every word."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a message is transcribed exactly once, even when a retried job races a recovered one.
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{word, confidence, start, end}]
    engine: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float | None]
    check_by_ear: Mapped[bool] = mapped_column(default=False)
    audio_seconds: Mapped[float]
    processing_seconds: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A person's correction after listening (ivr/dashboard/transcript_check.py): the machine text above
    # is kept as it was; only checked text may be quoted on air, and routing keywords prefer it.
    checked_text: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship(back_populates="transcript")

    @property
    def checked(self) -> bool:
        """Tell whether a person listened and confirmed (or corrected) the words."""
        return self.checked_at is not None and self.checked_text is not None

    @property
    def best_text(self) -> str:
        """Return the words to act on: a person's checked text when there is one, else the machine's."""
        return self.checked_text if self.checked and self.checked_text is not None else self.text


class Notification(Base):
    """One message sent to one of an agency's notification targets (webhook, email or Open311)."""

    __tablename__ = "notifications"
    # One row per message and target: a repeated routing job finds the row instead of sending twice.
    __table_args__ = (UniqueConstraint("message_id", "channel", "target", name="uq_notifications_target"),
                      Index("ix_notifications_status_created", "status", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # webhook | email | open311
    target: Mapped[str] = mapped_column(String(500))  # the URL or address, as written in agencies.toml
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(128))  # e.g. Open311's service_request_id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class CaseworkEmail(Base):
    """One daily email about an agency's casework: its digest, or the escalation to its supervisors.

    The unique key (kind, agency, local day) makes the scheduler's job idempotent per day: a repeated
    or retried job finds the row and sends again only what did not go out.
    """

    __tablename__ = "casework_emails"
    __table_args__ = (UniqueConstraint("kind", "agency", "day", name="uq_casework_emails_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # digest | escalation
    agency: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))  # the local date, YYYY-MM-DD
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | skipped | failed
    recipients: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str | None] = mapped_column(Text)  # counts and reference numbers, or why it was skipped
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

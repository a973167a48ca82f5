"""Answers reaching callers: outbound calls, missed-call callbacks, encrypted callback numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.core.models.base import Base, utcnow

# Delivery.kind
ANSWER, CALLBACK = "answer", "callback"
# Delivery.status
HELD = "held"            # not called: no consent, no number kept, or outbound calls not configured
REFUSED = "refused"      # a callback not promised: number outside HOTLINE_CALLBACK_PREFIXES, or a limit reached
SCHEDULED = "scheduled"  # a call is due at next_attempt_at
CALLING = "calling"      # a call was placed; its status callbacks decide what happens next
COMPLETED = "completed"  # the caller answered and heard it
FAILED = "failed"        # every attempt was busy, unanswered or failed


class CallbackNumber(Base):
    """A caller's phone number, encrypted, kept only while a callback they asked for may be needed.

    AES-256-GCM with the caller's id as associated data (ivr/voice/callback_numbers.py): a ciphertext copied
    to another caller's row does not decrypt. Deleted when keep_until passes.
    """

    __tablename__ = "callback_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_id: Mapped[int] = mapped_column(ForeignKey("callers.id", ondelete="CASCADE"), unique=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    keep_until: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One reason to ring a caller: an answer to deliver, or a callback they asked for."""

    __tablename__ = "deliveries"
    # Callbacks per number and day (the daily limit) and the sweeper's look for overdue calls.
    __table_args__ = (Index("ix_deliveries_number_kind_created", "number_hash", "kind", "created_at"),
                      Index("ix_deliveries_status_next", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # answer | callback
    # Unique: one delivery per answer, however often deliver_answer runs.
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), unique=True)
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id", ondelete="SET NULL"), index=True)
    # The keyed hash of the number (never the number): the daily callback limit counts by it.
    number_hash: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # consent | missed-call | key-8
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    held_reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None]

    call_attempts: Mapped[list[CallAttempt]] = relationship(back_populates="delivery",
                                                            order_by="CallAttempt.number")


class CallAttempt(Base):
    """One outbound call placed through Twilio for a delivery, and how it ended."""

    __tablename__ = "call_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number", name="uq_call_attempts_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1 for the first try, 2 for the first retry ...
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # placing (request not answered yet), then Twilio's CallStatus values; "error" when Twilio refused it.
    status: Mapped[str] = mapped_column(String(20), default="placing")
    error: Mapped[str | None] = mapped_column(Text)
    heard: Mapped[bool] = mapped_column(default=False)  # the call fetched our TwiML: someone picked up
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]

    delivery: Mapped[Delivery] = relationship(back_populates="call_attempts")


class CallEvent(Base):
    """One status callback Twilio sent about an outbound call, stored once however often it comes."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_sid", "status", name="uq_call_events_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# SmsMessage.kind: the reference right after the call, an answer waiting, the message closed
SMS_KINDS = ("reference", "answer", "closed")


class SmsMessage(Base):
    """One SMS to a consenting caller about their message (worker/sms.py), sent once per message and kind."""

    __tablename__ = "sms_messages"
    __table_args__ = (UniqueConstraint("message_id", "kind", name="uq_sms_messages_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    # pending (not yet accepted by Twilio), held (not sent, and why), failed (refused), then Twilio's
    # MessageStatus from its status callbacks: queued, sent, delivered, undelivered, failed.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    held_reason: Mapped[str | None] = mapped_column(String(200))
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    segments: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SmsOptOut(Base):
    """A number (by its keyed hash) that Twilio reported unsubscribed (error 21610): never texted again."""

    __tablename__ = "sms_opt_outs"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    error_code: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsEvent(Base):
    """One status callback Twilio sent about an SMS, stored once however often it comes."""

    __tablename__ = "sms_events"
    __table_args__ = (UniqueConstraint("sid", "status", name="uq_sms_events_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

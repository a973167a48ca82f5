"""Community radio: summaries, moderated clips, bulletins and keypad polls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.core.models.base import Base, utcnow

# ---- summaries, clips and bulletins (ivr/radio/) -----------------------------------------------


class RedactedTranscript(Base):
    """A transcript with names and numbers taken out, kept so each is redacted once, not per summary.

    Only this text is ever read for radio themes and quotes: the raw transcript never leaves the
    agency that owns the message.
    """

    __tablename__ = "radio_redacted_transcripts"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    removed: Mapped[int] = mapped_column(default=0)  # how many names, numbers and addresses were taken out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RadioSummary(Base):
    """One summary (as JSON) per period, place and language; "" means every place or language."""

    __tablename__ = "radio_summaries"
    # One row per period and filter: the scheduler can run twice and still store one summary.
    __table_args__ = (UniqueConstraint("period_start", "period_end", "place", "language",
                                       name="uq_radio_summaries_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    body: Mapped[str] = mapped_column(Text)  # Summary.to_json(), as text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RadioClip(Base):
    """A host's decision on one message for air: its redacted quote, and whether its audio may play."""

    __tablename__ = "radio_clips"
    __table_args__ = (Index("ix_radio_clips_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    quote: Mapped[str | None] = mapped_column(Text)  # verbatim from the redacted transcript
    audio_approved: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RadioBulletin(Base):
    """A bulletin: the script spoken and the approved clips, as one MP3, published by a host."""

    __tablename__ = "radio_bulletins"
    # Callers on main menu 3 and the podcast feed ask for the latest published bulletin per language.
    __table_args__ = (Index("ix_radio_bulletins_status_language", "status", "language", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    place: Mapped[str] = mapped_column(String(32), default="")
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="building")  # building | ready | failed | published
    script: Mapped[str] = mapped_column(Text, default="")
    audio_path: Mapped[str | None] = mapped_column(Text)  # relative to HOTLINE_DATA_DIR/bulletins
    size_bytes: Mapped[int | None]
    duration_seconds: Mapped[float | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    skipped: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{clip, reason}] clips left out
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]


# ---- keypad polls (ivr/radio/polls.py, H4) -------------------------------------------------------------


class RadioPoll(Base):
    """A keypad poll a host puts to callers during a programme; at most one is open at a time.

    `question` and `options` are shown on the board; `spoken` holds the question as callers hear it,
    per language (JSON {lang: text}); `audio` the files rendered from it (JSON {lang: path relative
    to HOTLINE_DATA_DIR/polls}). Callers whose language has no spoken question are not offered it.
    """

    __tablename__ = "radio_polls"
    __table_args__ = (Index("ix_radio_polls_status", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text)  # JSON list of 2..9 labels; key 1 = the first
    spoken: Mapped[str] = mapped_column(Text, default="{}")
    audio: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class RadioPollVote(Base):
    """One caller's key for one poll, known only by the caller's number hash: one vote per phone."""

    __tablename__ = "radio_poll_votes"
    # The unique pair is the rule itself: a second vote from the same phone cannot be stored, even
    # when two calls from it race.
    __table_args__ = (UniqueConstraint("poll_id", "voter_hash", name="uq_radio_poll_votes_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("radio_polls.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))  # Caller.number_hash, never the number
    option: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

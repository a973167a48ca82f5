"""Officials, radio hosts and admins: accounts, their sessions, the audit log, notes on messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.core.models.base import Base, utcnow

ROLES = ("official", "radio", "admin")


class User(Base):
    """A person who logs in to the dashboard: an agency's official, a radio host or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lowercased
    role: Mapped[str] = mapped_column(String(16))  # official | radio | admin
    agency: Mapped[str | None] = mapped_column(String(32))  # required for an official
    password_hash: Mapped[str] = mapped_column(String(255))  # Argon2id, PHC string
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    def can_see_agency(self, agency: str | None) -> bool:
        """Return whether this user may see a message routed to `agency` (admins see every agency)."""
        return self.role == "admin" or (self.role == "official" and self.agency is not None and agency == self.agency)


class UserSession(Base):
    """One login: kept in SQL so logout, disabling a user and the timeouts hold in every web worker."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the random token in the cookie: a copy of this table cannot be replayed as a login.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """A failed login, counted per email and per client address to slow down password guessing.

    In SQL rather than in process memory, so the limit holds across every gunicorn worker and machine.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A keyed hash of "email:<address>" or "ip:<address>": counts without keeping who tried from where.
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """Who did what to which record, and when: every listen, download, reassignment, answer, export."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),
                      Index("ix_audit_events_user_at", "user_id", "at"),
                      Index("ix_audit_events_target", "target_type", "target_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Note(Base):
    """An internal note on a message, seen only by the agency that holds it (never by the caller)."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorSession(Base):
    """One operator-token login: in SQL so a logout ends it in every web worker, not only in that cookie."""

    __tablename__ = "operator_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie's random token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

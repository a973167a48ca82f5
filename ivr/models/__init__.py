"""The hotline's tables, as SQLAlchemy 2 typed models, one module per subject.

Schema changes go through Alembic migrations in ivr/migrations; a test checks that the models and
the migrations agree. Importing this package registers every table on Base.metadata.
"""

from __future__ import annotations

from . import accounts, delivery, radio  # noqa: F401 - register their tables on Base.metadata
from .base import Base, utcnow
from .core import Answer, Call, Caller, Message, Notification, Recording, Transcript

__all__ = ["Answer", "Base", "Call", "Caller", "Message", "Notification", "Recording", "Transcript", "utcnow"]

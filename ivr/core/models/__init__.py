"""The hotline's tables, as SQLAlchemy 2 typed models, one module per subject.

Schema changes go through Alembic migrations in ivr/core/migrations; a test checks that the models and
the migrations agree. Importing this package registers every table on Base.metadata.
"""

from __future__ import annotations

from ivr.core.models import accounts, delivery, funnel, radio  # noqa: F401 - register their tables on Base.metadata
from ivr.core.models.base import Base, utcnow
from ivr.core.models.core import Answer, Call, Caller, Message, Notification, Recording, Transcript

__all__ = ["Answer", "Base", "Call", "Caller", "Message", "Notification", "Recording", "Transcript", "utcnow"]

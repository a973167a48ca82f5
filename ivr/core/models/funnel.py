"""Per-node call counts by day and language: where callers go on, fall silent, mis-key or hang up.

One row per (UTC day, language, node); "" is the language before a caller chose one. Each
presentation of a node ends in exactly one way, so hung-up = entered + repeated - chose - silence -
wrong_key (a call still on the line counts as hung up at its node until its next step).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.core.models.base import Base


class FunnelCount(Base):
    """How often one node was reached, repeated and left, and how, on one day in one language."""

    __tablename__ = "funnel_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    entered: Mapped[int] = mapped_column(default=0)  # arrived from another node, or the call's first step
    repeated: Mapped[int] = mapped_column(default=0)  # heard again after silence, a wrong key, or "repeat"
    chose: Mapped[int] = mapped_column(default=0)  # left by a valid key (or a recording, at a record node)
    silence: Mapped[int] = mapped_column(default=0)
    wrong_key: Mapped[int] = mapped_column(default=0)

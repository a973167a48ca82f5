"""Count where callers go in the menus, in memory, and write the counts in batches.

Why batched: a plain menu step runs without touching the database (its state travels in the URL),
and it must stay that way at a caller's pace. Each step adds to this process's buffer under a lock
(a dict update); the buffer is written as one upsert per (day, language, node), adding to what other
processes wrote, in the transaction an end-of-call callback opens anyway once HOTLINE_FUNNEL_FLUSH_SECONDS
have passed since the last write, and when the process exits.
"""

from __future__ import annotations

import functools
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ivr.core.db import upsert_insert
from ivr.core.models.funnel import FunnelCount

FIELDS = ("entered", "repeated", "chose", "silence", "wrong_key")
CALL = ":call"  # pseudo-nodes: a call arrived; a message was kept; a caller was transferred to the operator
KEPT = ":kept"
TRANSFERRED = ":transferred"

Key = tuple[date, str, str]


def today() -> date:
    return datetime.now(UTC).date()


class FunnelBuffer:
    """Counts not yet written, by (UTC day, language, node) and field."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}
        self._written_at = float("-inf")  # monotonic time of the last flush

    def due(self, every_seconds: float) -> bool:
        """Tell whether counts wait and the last flush is at least `every_seconds` old (0: whenever counts wait)."""
        with self._lock:
            return bool(self._counts) and time.monotonic() - self._written_at >= every_seconds

    def note(self, language: str | None, node: str, what: str, day: date | None = None) -> None:
        """Add one to a node's count (`what` is one of FIELDS)."""
        index = FIELDS.index(what)
        key = (day or today(), (language or "")[:8], node[:64])
        with self._lock:
            row = self._counts.get(key)
            if row is None:
                row = self._counts[key] = [0] * len(FIELDS)
            row[index] += 1

    def pending(self) -> dict[Key, list[int]]:
        with self._lock:
            return {key: list(row) for key, row in self._counts.items()}

    def flush(self, session: Session) -> int:
        """Add the buffered counts to the table in `session`'s transaction; return how many rows were written.

        Counts are taken out first, so two flushes never write the same count; should the statement
        fail they are put back for the next flush.
        """
        with self._lock:
            taken, self._counts = self._counts, {}
            self._written_at = time.monotonic()
        if not taken:
            return 0
        try:
            write_counts(session, taken)
        except Exception:
            with self._lock:
                for key, row in taken.items():
                    mine = self._counts.setdefault(key, [0] * len(FIELDS))
                    for i, n in enumerate(row):
                        mine[i] += n
            raise
        return len(taken)


def write_counts(session: Session, counts: dict[Key, list[int]]) -> None:
    """Add counts to funnel_counts with INSERT … ON CONFLICT DO UPDATE (col = col + new), one statement for all rows."""
    rows = [{"day": day, "language": lang, "node": node, **dict(zip(FIELDS, row, strict=True))}
            for (day, lang, node), row in sorted(counts.items())]
    session.execute(_upsert(session.get_bind().dialect.name), rows)  # executemany: compiled once per dialect


@functools.cache
def _upsert(dialect: str) -> Any:
    stmt = upsert_insert(dialect)(FunnelCount)
    table = FunnelCount.__table__.c
    return stmt.on_conflict_do_update(index_elements=["day", "language", "node"],
                                      set_={f: table[f] + stmt.excluded[f] for f in FIELDS})

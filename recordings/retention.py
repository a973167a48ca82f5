"""Delete stored recordings once they are older than the retention period.

Keeping callers' voices no longer than needed is part of treating them as personal data; `keep`
holds the ids that must survive regardless (an unanswered message, a consented radio clip, a
legal hold), which only the caller of this function knows.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from .errors import NotStored
from .store import RecordingStore

log = logging.getLogger(__name__)


def purge_older_than(store: RecordingStore, days: float, keep: Collection[str] = frozenset(), *,
                     now: datetime | None = None) -> list[str]:
    """Delete every recording stored more than `days` ago, except those in keep; return their ids."""
    # A zero or negative period would delete everything, including messages still being processed.
    if days <= 0:
        raise ValueError("days must be positive")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    deleted: list[str] = []
    for sid in list(store.sids()):
        if sid in keep:
            continue
        try:
            old = store.stored_at(sid) < cutoff
        except NotStored:  # deleted by someone else meanwhile
            continue
        if old and store.delete(sid):
            deleted.append(sid)
    log.info("retention: deleted %d recordings older than %s days", len(deleted), days)
    return deleted

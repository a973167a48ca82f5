"""Migration 0008 marks the orphans the keep race left (a message without its recording) and links the rest."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from ivr.core.db import alembic_config, database_for


def test_migration_marks_orphans_of_the_keep_race(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0006")
    db = database_for(url)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO calls (id, call_sid, state, status, started_at, updated_at) "
                          "VALUES (1, 'CA1', '{}', 'completed', '2026-01-01', '2026-01-01')"))
        for mid, ref in ((1, "11111111"), (2, "22222222"), (3, "33333333")):
            conn.execute(text(
                "INSERT INTO messages (id, reference, call_id, language, consent, confirmed, status, pipeline, "
                "pipeline_at, created_at, updated_at) VALUES (:id, :ref, :call, 'en', 'anonymous', 1, 'received', "
                "'received', '2026-01-01', '2026-01-01', '2026-01-01')"), {"id": mid, "ref": ref,
                                                                         "call": 1 if mid < 3 else None})
        # Message 1 lost the race: the recording points at message 2. Message 3 has no call at all.
        conn.execute(text("INSERT INTO recordings (recording_sid, call_sid, message_id, url, discarded, created_at, "
                          "updated_at) VALUES ('RE1', 'CA1', 2, 'https://api.twilio.com/x', 0, '2026-01-01', "
                          "'2026-01-01')"))
    db.upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, recording_sid, pipeline, pipeline_error FROM messages ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, None, "duplicate", "duplicate of message 2"), (2, "RE1", "received", None),
                                        (3, None, "received", None)]

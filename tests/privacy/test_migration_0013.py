"""Migration 0013 unlinks the anonymous reports stored before it: no call, caller or call sid leads to them."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from ivr.core.db import alembic_config, database_for


def test_upgrade_scrubs_existing_anonymous_reports(database_url: str) -> None:
    db = database_for(database_url)
    command.downgrade(alembic_config(database_url), "0006")
    state = {"node": "confirm", "consent": "anonymous", "reference": "12345678", "recording_sid": "RE1",
             "recording_url": "https://api.twilio.com/r/RE1", "language": "en"}
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO callers (id, number_hash, created_at, last_call_at, calls_count) "
                          "VALUES (71, 'h71', '2026-01-01', '2026-01-01', 2)"))
        for call_id, sid in ((81, "CA81"), (82, "CA82")):
            conn.execute(text("INSERT INTO calls (id, call_sid, caller_id, state, status, started_at, updated_at) "
                              "VALUES (:id, :sid, 71, :state, 'completed', '2026-01-01', '2026-01-01')"),
                         {"id": call_id, "sid": sid, "state": json.dumps(state)})
        for mid, call_id, consent, caller in ((91, 81, "anonymous", None), (92, 82, "agency", 71)):
            conn.execute(text("INSERT INTO messages (id, reference, call_id, caller_id, language, consent, confirmed, "
                              "status, pipeline, pipeline_at, created_at, updated_at) VALUES (:id, :ref, :call, "
                              ":caller, 'en', :consent, true, 'received', 'received', '2026-01-01', '2026-01-01', "
                              "'2026-01-01')"), {"id": mid, "ref": str(mid), "call": call_id, "caller": caller,
                                                 "consent": consent})
            conn.execute(text("INSERT INTO recordings (recording_sid, call_sid, message_id, url, discarded, "
                              "created_at, updated_at) VALUES (:rs, :cs, :mid, 'https://x/r', false, '2026-01-01', "
                              "'2026-01-01')"), {"rs": f"RE{mid}", "cs": f"CA{call_id}", "mid": mid})
    db.upgrade()
    with db.engine.connect() as conn:
        rows = {r[0]: r[1:] for r in conn.execute(text("SELECT id, call_id, caller_id FROM messages"))}
        sids: dict[int, str] = dict(conn.execute(text("SELECT message_id, call_sid FROM recordings")).all())
        states: dict[int, str] = dict(conn.execute(text("SELECT id, state FROM calls")).all())
    assert rows[91] == (None, None) and sids[91] == ""
    assert rows[92] == (82, 71) and sids[92] == "CA82"  # reports with consent keep their links
    assert set(json.loads(states[81])) == {"node", "consent", "language"}
    assert json.loads(states[82]) == state

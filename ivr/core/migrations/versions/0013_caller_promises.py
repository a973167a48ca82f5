"""caller promises: unlink existing anonymous reports from their calls (issue 13)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FORGOTTEN = ("recording_sid", "recording_url", "reference")  # what ivr/voice/calls.kept_state drops


def upgrade() -> None:
    # ---- anonymous means unlinkable: no call, caller or call sid leads to an anonymous report ----
    bind = op.get_bind()
    call_ids = [row[0] for row in bind.execute(sa.text(
        "SELECT call_id FROM messages WHERE consent = 'anonymous' AND call_id IS NOT NULL"))]
    for call_id in call_ids:
        raw = bind.execute(sa.text("SELECT state FROM calls WHERE id = :id"), {"id": call_id}).scalar()
        try:
            state = json.loads(raw or "{}")
        except ValueError:
            state = {}
        state = {k: v for k, v in state.items() if k not in FORGOTTEN} if isinstance(state, dict) else {}
        bind.execute(sa.text("UPDATE calls SET state = :state WHERE id = :id"),
                     {"state": json.dumps(state, sort_keys=True), "id": call_id})
    bind.execute(sa.text("UPDATE recordings SET call_sid = '' WHERE message_id IN "
                         "(SELECT id FROM messages WHERE consent = 'anonymous')"))
    bind.execute(sa.text("UPDATE messages SET call_id = NULL, caller_id = NULL WHERE consent = 'anonymous'"))


    # ---- the audit log is append-only, for every role the application or an operator connects as ----
    # Only the foreign key's own ON DELETE SET NULL (a deleted account) may touch a row.
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                   f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN NOT ("
                   "NEW.user_id IS NULL AND NEW.id = OLD.id AND NEW.action = OLD.action AND "
                   "NEW.target_type = OLD.target_type AND NEW.target_id IS OLD.target_id AND "
                   f"NEW.detail = OLD.detail AND NEW.at = OLD.at) BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")


REFUSED = "the audit log is append-only"
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL AND NEW.id = OLD.id AND NEW.action = OLD.action
     AND NEW.target_type = OLD.target_type AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
     AND NEW.detail = OLD.detail AND NEW.at = OLD.at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '{REFUSED}';
END $$
"""


def downgrade() -> None:
    # The links an upgrade removed are gone for good, as the caller was promised; the triggers go.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")

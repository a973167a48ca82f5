"""caller promises: unlink existing anonymous reports from their calls (issue 13)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
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


def downgrade() -> None:
    pass  # the links an upgrade removed are gone for good, as the caller was promised

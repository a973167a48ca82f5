"""edges: one message per recording (messages.recording_sid, unique), orphans repaired; operator sessions

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('recording_sid', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_messages_recording_sid', ['recording_sid'])
    op.execute("UPDATE messages SET recording_sid = (SELECT r.recording_sid FROM recordings r "
               "WHERE r.message_id = messages.id)")
    # Orphans of the keep race: a message without a recording whose call kept another message with one.
    # Kept (the caller may have heard its reference) but marked, so the sweeper no longer waits on it.
    op.execute("UPDATE messages SET pipeline = 'duplicate', pipeline_error = 'duplicate of message ' || "
               "(SELECT MIN(m2.id) FROM messages m2 JOIN recordings r2 ON r2.message_id = m2.id "
               " WHERE m2.call_id = messages.call_id) "
               "WHERE recording_sid IS NULL AND call_id IS NOT NULL "
               "AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.message_id = messages.id) "
               "AND EXISTS (SELECT 1 FROM messages m2 JOIN recordings r2 ON r2.message_id = m2.id "
               "            WHERE m2.call_id = messages.call_id AND m2.id <> messages.id)")
    op.create_table('operator_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )


def downgrade() -> None:
    op.drop_table('operator_sessions')
    with op.batch_alter_table('messages') as batch:
        batch.drop_constraint('uq_messages_recording_sid', type_='unique')
        batch.drop_column('recording_sid')

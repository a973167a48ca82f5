"""casework: close reasons, reassignment reasons, clusters, escalation, SMS (models core.py, delivery.py)

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('close_reason', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('close_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('reassigned_from', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('reassign_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('cluster_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('cluster_split', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
    op.create_index('ix_messages_cluster_id', 'messages', ['cluster_id'], unique=False)
    op.create_table('casework_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'agency', 'day', name='uq_casework_emails_day')
    )
    # ---- SMS to consenting callers (ivr/core/models/delivery.py) ----
    op.create_table('sms_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('held_reason', sa.String(length=200), nullable=True),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', 'kind', name='uq_sms_messages_kind'),
    sa.UniqueConstraint('sid')
    )
    op.create_index('ix_sms_messages_message_id', 'sms_messages', ['message_id'], unique=False)
    op.create_table('sms_opt_outs',
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('number_hash')
    )
    op.create_table('sms_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sid', 'status', name='uq_sms_events_status')
    )


def downgrade() -> None:
    op.drop_table('sms_events')
    op.drop_table('sms_opt_outs')
    op.drop_index('ix_sms_messages_message_id', table_name='sms_messages')
    op.drop_table('sms_messages')
    op.drop_table('casework_emails')
    op.drop_index('ix_messages_cluster_id', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        for column in ('escalated_at', 'cluster_split', 'cluster_id', 'reassign_reason', 'reassigned_from',
                       'close_note', 'close_reason'):
            batch.drop_column(column)

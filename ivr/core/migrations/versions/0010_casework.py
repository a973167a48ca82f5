"""casework: close reasons, reassignment reasons, clusters, escalation (ivr/core/models/core.py)

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0006'
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


def downgrade() -> None:
    op.drop_table('casework_emails')
    op.drop_index('ix_messages_cluster_id', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        for column in ('escalated_at', 'cluster_split', 'cluster_id', 'reassign_reason', 'reassigned_from',
                       'close_note', 'close_reason'):
            batch.drop_column(column)

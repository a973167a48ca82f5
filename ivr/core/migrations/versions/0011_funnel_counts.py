"""funnel_counts: per-node call counts by day and language (ivr/core/models/funnel.py)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('funnel_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('entered', sa.Integer(), nullable=False),
    sa.Column('repeated', sa.Integer(), nullable=False),
    sa.Column('chose', sa.Integer(), nullable=False),
    sa.Column('silence', sa.Integer(), nullable=False),
    sa.Column('wrong_key', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'language', 'node')
    )


def downgrade() -> None:
    op.drop_table('funnel_counts')

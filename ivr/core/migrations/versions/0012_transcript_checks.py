"""transcript checks: a person's corrected text beside the machine's, who checked it and when

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcripts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('checked_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checked_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_transcripts_checked_by_users', 'users', ['checked_by'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('transcripts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_transcripts_checked_by_users', type_='foreignkey')
        batch_op.drop_column('checked_at')
        batch_op.drop_column('checked_by')
        batch_op.drop_column('checked_text')

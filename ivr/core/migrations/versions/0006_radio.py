"""radio: tables of ivr/core/models/radio.py

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- summaries, clips and bulletins (ivr/radio/) ----
    op.create_table('radio_redacted_transcripts',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id')
    )
    op.create_table('radio_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('period_end', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_start', 'period_end', 'place', 'language', name='uq_radio_summaries_period')
    )
    op.create_table('radio_clips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('audio_approved', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('radio_clips', schema=None) as batch_op:
        batch_op.create_index('ix_radio_clips_status', ['status'], unique=False)
    op.create_table('radio_bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('place', sa.String(length=32), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('period_end', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('script', sa.Text(), nullable=False),
    sa.Column('audio_path', sa.Text(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('duration_seconds', sa.Double(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('skipped', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('radio_bulletins', schema=None) as batch_op:
        batch_op.create_index('ix_radio_bulletins_status_language', ['status', 'language', 'published_at'],
                              unique=False)

    # ---- keypad polls (ivr/radio/polls.py, H4) ----
    op.create_table('radio_polls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.Column('spoken', sa.Text(), nullable=False),
    sa.Column('audio', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('radio_polls', schema=None) as batch_op:
        batch_op.create_index('ix_radio_polls_status', ['status', 'opened_at'], unique=False)
    op.create_table('radio_poll_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('voter_hash', sa.String(length=64), nullable=False),
    sa.Column('option', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['radio_polls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('poll_id', 'voter_hash', name='uq_radio_poll_votes_voter')
    )


def downgrade() -> None:
    # ---- keypad polls (ivr/radio/polls.py, H4) ----
    op.drop_table('radio_poll_votes')
    with op.batch_alter_table('radio_polls', schema=None) as batch_op:
        batch_op.drop_index('ix_radio_polls_status')
    op.drop_table('radio_polls')
    # ---- summaries, clips and bulletins (ivr/radio/) ----
    with op.batch_alter_table('radio_bulletins', schema=None) as batch_op:
        batch_op.drop_index('ix_radio_bulletins_status_language')
    op.drop_table('radio_bulletins')
    with op.batch_alter_table('radio_clips', schema=None) as batch_op:
        batch_op.drop_index('ix_radio_clips_status')
    op.drop_table('radio_clips')
    op.drop_table('radio_summaries')
    op.drop_table('radio_redacted_transcripts')

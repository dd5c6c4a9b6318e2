"""system chain: unique seq among events without a case

The unique (case_id, seq) constraint treats NULL case ids as distinct, so two concurrent
logins could both append seq n+1 to the system chain and fork it.

Revision ID: b1d4e7a2c9f0
Revises: 3f8a1c6d2b47
Create Date: 2026-11-29 23:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b1d4e7a2c9f0'
down_revision = '3f8a1c6d2b47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ux_event_system_seq', 'event', ['seq'], unique=True,
        sqlite_where=sa.text('case_id IS NULL'), postgresql_where=sa.text('case_id IS NULL'),
    )


def downgrade():
    op.drop_index('ux_event_system_seq', table_name='event')

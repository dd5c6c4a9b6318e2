"""case due index: (status, next_timer_at) for the sweep

Without it SQLite picks the low-selectivity status index for the sweep's query and scans every
open case; with it the sweep reads only the due ones.

Revision ID: 7c3e9d2f1a65
Revises: 5d0c1e7a9b42
Create Date: 2026-11-29 21:52:00

"""
from alembic import op


revision = '7c3e9d2f1a65'
down_revision = '5d0c1e7a9b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_due', ['status', 'next_timer_at'], unique=False)


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_due')

"""the stored head of the system audit chain

Removing the last events of the system chain (logins, tokens) broke no link, and nothing
recorded where the chain ended. The head (seq and hash) is now written to a ``chain_head`` row
with every append, and ``audit verify`` compares it with the chain; the row's lock also queues
concurrent appenders on SQLite and PostgreSQL alike. A database whose system chain has events
gets the head of its stored chain; one without any gets the row at the first append.

Revision ID: f2a6c8e0b4d3
Revises: e4b8c2d6f0a1
Create Date: 2026-12-07 11:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "f2a6c8e0b4d3"
down_revision = "e4b8c2d6f0a1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chain_head",
        sa.Column("chain", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    op.execute(
        "INSERT INTO chain_head (chain, seq, hash) "
        "SELECT 'system', e.seq, e.hash FROM event e WHERE e.case_id IS NULL "
        "AND e.seq = (SELECT max(m.seq) FROM event m WHERE m.case_id IS NULL)"
    )


def downgrade():
    op.drop_table("chain_head")

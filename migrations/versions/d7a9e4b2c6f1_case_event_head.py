"""the head of each case's audit chain on its case row

``audit verify`` finds a changed, removed or reordered event from the break it leaves in the
chain, but the removal of a chain's *last* event leaves none. Every append now writes the new
head (seq and hash) to the case row in the same transaction; verify compares the two. Existing
cases get the head of their stored chain.

Revision ID: d7a9e4b2c6f1
Revises: c5e8a3f1d7b2
Create Date: 2026-11-30 01:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "d7a9e4b2c6f1"
down_revision = "c5e8a3f1d7b2"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("event_seq", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("event_head", sa.String(length=64), server_default=GENESIS, nullable=False)
        )
    op.execute(
        'UPDATE "case" SET '
        'event_seq = COALESCE((SELECT max(e.seq) FROM event e WHERE e.case_id = "case".id), 0), '
        f'event_head = COALESCE((SELECT e.hash FROM event e WHERE e.case_id = "case".id '
        f"ORDER BY e.seq DESC LIMIT 1), '{GENESIS}')"
    )


def downgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("event_head")
        batch_op.drop_column("event_seq")

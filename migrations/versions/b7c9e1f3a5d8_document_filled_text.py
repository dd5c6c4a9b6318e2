"""documents: the filled text as issued, shown inline to the step that decides on it

Revision ID: b7c9e1f3a5d8
Revises: a3d5f7b9c1e2
Create Date: 2026-12-07 12:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "b7c9e1f3a5d8"
down_revision = "a3d5f7b9c1e2"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: documents issued before keep no text (the next step links their PDF only).
    op.add_column("document", sa.Column("filled", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("filled")

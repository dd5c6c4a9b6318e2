"""agencies' own numbering patterns (文号格式), one per counter kind

Revision ID: b7d2e4f6a8c1
Revises: a3e7c1f9d2b4
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "b7d2e4f6a8c1"
down_revision = "a3e7c1f9d2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agency_numbering",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("pattern", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("agency_id", "kind"),
    )


def downgrade():
    op.drop_table("agency_numbering")

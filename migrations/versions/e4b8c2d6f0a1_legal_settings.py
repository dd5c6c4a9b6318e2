"""administrators' values of the legal settings (bpmn/legal_settings.json)

Revision ID: e4b8c2d6f0a1
Revises: d7a9e4b2c6f1
Create Date: 2026-12-07 10:20:00

"""

import sqlalchemy as sa
from alembic import op


revision = "e4b8c2d6f0a1"
down_revision = "d7a9e4b2c6f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "legal_setting",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade():
    op.drop_table("legal_setting")

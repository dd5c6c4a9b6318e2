"""task drafts: a task form saved unfinished, per task and officer

Revision ID: e1f3a5c7b9d2
Revises: d4f6a8c0e2b5
Create Date: 2026-12-07 14:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "e1f3a5c7b9d2"
down_revision = "d4f6a8c0e2b5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task_draft",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("late_reason", sa.Text(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("task_id", "user_id"),
    )


def downgrade():
    op.drop_table("task_draft")

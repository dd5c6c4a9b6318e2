"""notifications: the task a message leads to, and the working days overdue it reports

Revision ID: a3e5c7d9f1b2
Revises: c9d2e4f6a8b1
Create Date: 2026-12-10 10:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "a3e5c7d9f1b2"
down_revision = "c9d2e4f6a8b1"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: older messages (and those about a case with no open task) lead to the case.
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("overdue_days", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_notification_task_id_task", "task", ["task_id"], ["id"])


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notification_task_id_task", type_="foreignkey")
        batch_op.drop_column("overdue_days")
        batch_op.drop_column("task_id")

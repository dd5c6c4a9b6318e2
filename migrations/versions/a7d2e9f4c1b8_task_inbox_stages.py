"""task index of the inbox's step filter

The inbox page offers the steps waiting in the agency's inbox as a filter (``SELECT DISTINCT
name, label`` of its ready tasks). Without an index holding the names, the database reads
every ready task of the agency: 5-6 ms at 2,500 of them on SQLite, the biggest statement of
the page. With (agency_id, state, name, label) it reads the index alone, in its order.

Revision ID: a7d2e9f4c1b8
Revises: c3f5a7e9b1d4
Create Date: 2026-12-07 17:00:00

"""

from alembic import op


revision = "a7d2e9f4c1b8"
down_revision = "c3f5a7e9b1d4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_inbox_stages", ["agency_id", "state", "name", "label"], unique=False
        )


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_inbox_stages")

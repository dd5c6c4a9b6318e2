"""export jobs: the worker building them and the dossiers they skipped

Revision ID: f2a6c9e1b3d7
Revises: f2a6c8e0b4d3
Create Date: 2026-12-07 11:10:00

"""

import sqlalchemy as sa
from alembic import op


revision = "f2a6c9e1b3d7"
down_revision = "f2a6c8e0b4d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_job") as batch:
        batch.add_column(sa.Column("skipped", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("worker", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("export_job") as batch:
        batch.drop_column("worker")
        batch.drop_column("skipped")

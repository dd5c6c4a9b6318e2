"""documents: voiding by a correction (更正): why, when, by whom, and the replacement

Revision ID: c9d2e4f6a8b1
Revises: b7c9e1f3a5d8
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "c9d2e4f6a8b1"
down_revision = "b7c9e1f3a5d8"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a document in force has none of them; a voided one keeps its number.
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_document_voided_by_id_user", "user", ["voided_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_document_replaced_by_id_document", "document", ["replaced_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint("fk_document_replaced_by_id_document", type_="foreignkey")
        batch_op.drop_constraint("fk_document_voided_by_id_user", type_="foreignkey")
        batch_op.drop_column("replaced_by_id")
        batch_op.drop_column("voided_by_id")
        batch_op.drop_column("voided_at")
        batch_op.drop_column("void_reason")

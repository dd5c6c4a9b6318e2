"""agencies: parent agency, and the contact list (通讯录) kept by administrators

Revision ID: a3e7c1f9d2b4
Revises: e1f3a5c7b9d2
Create Date: 2026-12-07 13:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "a3e7c1f9d2b4"
down_revision = "e1f3a5c7b9d2"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy: "agency" is the target of many foreign keys); SQLite
    # takes the reference in the column's definition, as no ALTER adds a constraint there.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE agency ADD COLUMN parent_id INTEGER REFERENCES agency (id)")
    else:
        op.add_column("agency", sa.Column("parent_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_agency_parent_id_agency", "agency", "agency", ["parent_id"], ["id"]
        )
    op.create_table(
        "agency_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agency_contact", schema=None) as batch_op:
        batch_op.create_index("ix_agency_contact_agency_id", ["agency_id"], unique=False)


def downgrade():
    with op.batch_alter_table("agency_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_agency_contact_agency_id")
    op.drop_table("agency_contact")
    if op.get_bind().dialect.name != "sqlite":  # SQLite's DROP COLUMN takes it along
        op.drop_constraint("fk_agency_parent_id_agency", "agency", type_="foreignkey")
    op.drop_column("agency", "parent_id")

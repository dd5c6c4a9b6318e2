"""reports: the monthly (附件8) and annual reports run as cases; cases opened by the system

Revision ID: c3f5a7e9b1d4
Revises: b8d2f4a6c0e3
Create Date: 2026-12-08 10:00:00

A ``report`` row per (kind, period, reporting agency) holds the frozen figures of the report
and the reporting office's remarks; its case runs ``monthly_report`` / ``annual_report``. The
system opens those cases, so ``case.opened_by_id`` may be empty.
"""

import sqlalchemy as sa
from alembic import op


revision = "c3f5a7e9b1d4"
down_revision = "b8d2f4a6c0e3"
branch_labels = None
depends_on = None


NOT_NULL = "opened_by_id INTEGER NOT NULL"
NULLABLE = "opened_by_id INTEGER"


def _opened_by_nullable(nullable):
    """Make ``case.opened_by_id`` nullable (or not again).

    SQLite cannot alter a column, and rebuilding the ``case`` table (Alembic's batch mode)
    fails on the rows that reference it while foreign keys are enforced (the migration runs in
    a transaction, where ``PRAGMA foreign_keys`` cannot be turned off). Removing a NOT NULL
    constraint changes no stored row, so the table's definition is edited in place, as the
    SQLite documentation describes for such changes (https://www.sqlite.org/lang_altertable.html
    §7, "removing CHECK or FOREIGN KEY or NOT NULL constraints").
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("case", "opened_by_id", existing_type=sa.Integer(), nullable=nullable)
        return
    old, new = (NOT_NULL, NULLABLE) if nullable else (NULLABLE, NOT_NULL)
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'case'")).scalar()
    if old not in sql:
        raise RuntimeError(f"case.opened_by_id is not declared as {old!r}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'case'"),
        {"sql": sql.replace(old, new, 1)},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade():
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("scope_code", sa.String(length=80), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("remarks", sa.JSON(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("kind", "period", "agency_id"),
    )
    op.create_index("ix_report_period", "report", ["period"])
    op.create_index("ix_report_agency_id", "report", ["agency_id"])
    _opened_by_nullable(True)


def downgrade():
    op.drop_index("ix_report_agency_id", table_name="report")
    op.drop_index("ix_report_period", table_name="report")
    op.drop_table("report")
    # a database holding cases the system opened cannot go back: their opener is unknown
    _opened_by_nullable(False)

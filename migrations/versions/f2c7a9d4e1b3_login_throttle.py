"""login throttling per account, client address and pair, replacing the per-user lock

Revision ID: f2c7a9d4e1b3
Revises: f2a6c9e1b3d7
Create Date: 2026-12-07 11:10:00

"""

import sqlalchemy as sa
from alembic import op


revision = "f2c7a9d4e1b3"
down_revision = "f2a6c9e1b3d7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_last_failure_at"), ["last_failure_at"], unique=False
        )
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of "user" would break the
    # foreign keys that point at it.
    op.drop_column("user", "locked_until")
    op.drop_column("user", "failed_logins")


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failure_at"))
    op.drop_table("login_throttle")

"""mail: users' e-mail addresses and choice, and the outbox of messages to send by e-mail

Revision ID: d4f6a8c0e2b5
Revises: a3e5c7d9f1b2
Create Date: 2026-12-07 13:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "d4f6a8c0e2b5"
down_revision = "a3e5c7d9f1b2"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch): a batch would rebuild "user" on SQLite, whose DROP TABLE
    # fails on the rows that refer to the users.
    op.add_column("user", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column(
        "user",
        sa.Column("mail_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id"),
    )
    op.create_index("ix_mail_outbox_user_id", "mail_outbox", ["user_id"], unique=False)
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["state", "next_attempt_at"], unique=False)


def downgrade():
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_user_id", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 and later), for the same reason.
    op.drop_column("user", "mail_enabled")
    op.drop_column("user", "email")

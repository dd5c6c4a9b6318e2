"""public warnings of the accountability process; login throttling columns

Revision ID: 3f8a1c6d2b47
Revises: 7c3e9d2f1a65
Create Date: 2026-11-29 22:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f8a1c6d2b47'
down_revision = '7c3e9d2f1a65'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.create_table('public_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('fire_level', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_on', sa.String(length=10), nullable=False),
    sa.Column('province_report', sa.Text(), nullable=True),
    sa.Column('publisher_agency_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['publisher_agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('public_warning', schema=None) as batch_op:
        batch_op.create_index('ix_public_warning_district', ['district'], unique=False)
        batch_op.create_index('ix_public_warning_board', ['scope', 'published_on'], unique=False)


def downgrade():
    with op.batch_alter_table('public_warning', schema=None) as batch_op:
        batch_op.drop_index('ix_public_warning_board')
        batch_op.drop_index('ix_public_warning_district')
    op.drop_table('public_warning')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')

"""replenishment plans

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:35:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plans',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    op.create_table('plan_suggestions',
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('po', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_suggestions_plan_id_plans')),
    sa.PrimaryKeyConstraint('plan_id', 'sku', name=op.f('pk_plan_suggestions'))
    )


def downgrade() -> None:
    op.drop_table('plan_suggestions')
    op.drop_table('plans')

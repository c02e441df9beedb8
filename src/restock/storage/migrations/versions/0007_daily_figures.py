"""daily figures for the dashboard's trends, and an index of the whole backorder queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('daily_figures',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('open_backorders', sa.Integer(), nullable=False),
    sa.Column('open_backorder_units', sa.BigInteger(), nullable=False),
    sa.Column('average_age_days', sa.Float(), nullable=False),
    sa.Column('at_risk', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_figures'))
    )
    op.create_index('ix_order_lines_queue', 'order_lines',
                    ['promised_date', 'placed_at', 'id', 'sku', 'qty_backordered'], unique=False,
                    sqlite_where=sa.text('qty_backordered > 0'), postgresql_where=sa.text('qty_backordered > 0'))


def downgrade() -> None:
    op.drop_index('ix_order_lines_queue', table_name='order_lines',
                  sqlite_where=sa.text('qty_backordered > 0'), postgresql_where=sa.text('qty_backordered > 0'))
    op.drop_table('daily_figures')

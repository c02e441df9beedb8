"""webhooks, deliveries, overdue backorders, the customer's answer to a delay

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhooks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_webhooks'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('first_event', sa.BigInteger(), nullable=False),
    sa.Column('event_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.Column('leased_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries'))
    )
    op.create_index(op.f('ix_deliveries_status_next_at'), 'deliveries', ['status', 'next_at'], unique=False)
    op.create_index(op.f('ix_deliveries_target_key_first_event'), 'deliveries', ['target', 'key', 'first_event'], unique=False)
    with op.batch_alter_table('order_lines') as batch:
        batch.add_column(sa.Column('wait_accepted_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('overdue_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('skus') as batch:
        batch.add_column(sa.Column('cancel_overdue', sa.Boolean(), nullable=True))
    # Existing events count as fanned out: deliveries start with what comes next.
    op.execute("INSERT INTO counters (name, value) SELECT 'fanout', COALESCE(MAX(id), 0) FROM events")


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'fanout'")
    with op.batch_alter_table('skus') as batch:
        batch.drop_column('cancel_overdue')
    with op.batch_alter_table('order_lines') as batch:
        batch.drop_column('overdue_at')
        batch.drop_column('wait_accepted_date')
    op.drop_index(op.f('ix_deliveries_target_key_first_event'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_status_next_at'), table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_table('webhooks')

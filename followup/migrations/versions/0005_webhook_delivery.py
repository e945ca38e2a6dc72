"""signed webhook delivery and receiver (issue #7)

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fanned_out_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_events_fan_out', ['id'], unique=False,
                              postgresql_where=sa.text('fanned_out_at IS NULL'),
                              sqlite_where=sa.text('fanned_out_at IS NULL'))
    with op.batch_alter_table('webhook_subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_try_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('webhook_delivery_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('result', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'],
                            name=op.f('fk_webhook_delivery_log_delivery_id_webhook_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery_log'))
    )
    with op.batch_alter_table('webhook_delivery_log', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_log_delivery', ['delivery_id', 'id'], unique=False)

    op.create_table('received_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_events')),
    sa.UniqueConstraint('webhook_id', name=op.f('uq_received_events_webhook_id'))
    )


def downgrade() -> None:
    op.drop_table('received_events')
    with op.batch_alter_table('webhook_delivery_log', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_log_delivery')
    op.drop_table('webhook_delivery_log')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('last_try_at')
    with op.batch_alter_table('webhook_subscribers', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_fan_out')
        batch_op.drop_column('fanned_out_at')

"""Channels paused for a store on account errors (R3)

Revision ID: 0011
Revises: 0010

``channel_pauses``: one row per pause of a store's calls or SMS, written at the provider's first
account or configuration error and closed (``resumed_at``, ``resumed_by``) by an administrator.
At most one open pause per (store, channel): a partial unique index.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OPEN = "resumed_at IS NULL"


def upgrade() -> None:
    op.create_table(
        'channel_pauses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_code', sa.String(length=20), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('paused_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('code', sa.String(length=60), nullable=True),
        sa.Column('message', sa.String(length=300), nullable=False),
        sa.Column('resumed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resumed_by', sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_pauses')),
    )
    op.create_index('ux_channel_pauses_open', 'channel_pauses', ['store_code', 'channel'], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ux_channel_pauses_open', table_name='channel_pauses')
    op.drop_table('channel_pauses')

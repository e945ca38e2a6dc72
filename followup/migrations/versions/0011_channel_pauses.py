"""Channels paused for a store on account errors (R3)

Revision ID: 0011
Revises: 0010

``channel_pauses``: one row per pause of a store's calls or SMS, written at the provider's first
account or configuration error and closed (``resumed_at``, ``resumed_by``) by an administrator.
At most one open pause per (store, channel): a partial unique index.

Rows an earlier version left ``error`` after an hour of provider errors (their cases went silent)
are taken up as R3 now says: a call of an open case whose deadline has passed and whose rule is not
met is cancelled (``provider_outage``) and its case looked at again, so the fallback starts; every
other such row of an open case is planned again (``provider_outage``, retries reset; its old due
time is past, so the next tick sends it at the next window moment). "Now" is the database's clock.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OPEN = "resumed_at IS NULL"
OPEN_CASES = "SELECT id FROM cases WHERE state <> 'closed'"
#: the statements that take up the rows earlier versions left ``error`` (see above), in order
REVIVE = (
    "UPDATE contact_attempts SET status = 'cancelled', reason = 'provider_outage' "
    "WHERE status = 'error' AND channel = 'call' AND case_id IN (" + OPEN_CASES
    + " AND three_day_rule <> 'met' AND deadline_at <= CURRENT_TIMESTAMP)",
    "UPDATE cases SET next_check_at = deadline_at WHERE state <> 'closed' AND next_check_at IS NULL AND id IN "
    "(SELECT case_id FROM contact_attempts WHERE status = 'cancelled' AND reason = 'provider_outage')",
    "UPDATE contact_attempts SET status = 'planned', reason = 'provider_outage', retries = 0, first_error_at = NULL "
    "WHERE status = 'error' AND case_id IN (" + OPEN_CASES + ")",
)


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
    for statement in REVIVE:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index('ux_channel_pauses_open', table_name='channel_pauses')
    op.drop_table('channel_pauses')

"""Login limits per address and session ends

Revision ID: 0013
Revises: 0012

``login_failures`` records the client address of each failed login (an IPv6 address as its /64),
so that failures are also counted per address, shared by every web process; ``cleared_at`` is set
by ``followup users unlock`` on the failures whose username lock it lifted (the rows stay, for the
per-address count and the record, until the retention purge). Sessions need no table: their
times travel in the signed cookie.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('login_failures', sa.Column('address', sa.String(length=64), nullable=True))
    op.add_column('login_failures', sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_login_failures_address_at', 'login_failures', ['address', 'at'])


def downgrade() -> None:
    op.drop_index('ix_login_failures_address_at', table_name='login_failures')
    with op.batch_alter_table('login_failures') as batch:
        batch.drop_column('cleared_at')
        batch.drop_column('address')

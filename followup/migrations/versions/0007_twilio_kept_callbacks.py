"""Twilio callbacks that arrive before their call's or SMS's SID is saved are kept (issue #10)

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A status callback can beat the worker's commit of the SID (or outlive a worker killed in
    # between): it is stored with its parameters and the attempt id from its URL, marked pending,
    # and applied once an attempt carries that SID.
    op.add_column('twilio_callbacks', sa.Column('attempt_id', sa.Integer(), nullable=True))
    op.add_column('twilio_callbacks', sa.Column('params', sa.Text(), nullable=True))
    op.add_column('twilio_callbacks', sa.Column('pending', sa.Boolean(), server_default=sa.false(),
                                                nullable=False))
    op.create_index('ix_twilio_callbacks_pending', 'twilio_callbacks', ['pending'])


def downgrade() -> None:
    op.drop_index('ix_twilio_callbacks_pending', table_name='twilio_callbacks')
    with op.batch_alter_table('twilio_callbacks') as batch_op:
        batch_op.drop_column('pending')
        batch_op.drop_column('params')
        batch_op.drop_column('attempt_id')

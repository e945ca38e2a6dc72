"""The information staff's call worklist (R3 calls_by = staff, CONTRACT §9)

Revision ID: 0014
Revises: 0013

A due call of a store whose calls are made by staff is the same planned ``contact_attempts`` row
as an IVR call; the dispatcher leaves it alone and it waits on the worklist. ``held_by`` and
``held_until`` are a person's claim on it (username, and the service-clock instant the claim
lapses), apart from the worker's ``claimed_by``/``lease_until``. Existing rows have no claim.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('contact_attempts', sa.Column('held_by', sa.String(length=80), nullable=True))
    op.add_column('contact_attempts', sa.Column('held_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact_attempts') as batch:
        batch.drop_column('held_until')
        batch.drop_column('held_by')

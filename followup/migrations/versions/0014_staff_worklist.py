"""The information staff's call worklist (R3 calls_by = staff, CONTRACT §9)

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled by the change that owns this revision


def downgrade() -> None:
    pass

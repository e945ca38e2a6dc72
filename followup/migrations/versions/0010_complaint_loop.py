"""The complaint loop as revised (R7): categories, resolution deadline, progress SMS, re-survey reminder

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled by the change that owns this revision


def downgrade() -> None:
    pass

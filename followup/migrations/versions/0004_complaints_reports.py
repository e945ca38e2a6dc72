"""complaints escalation and advisor reports (issue #6)

Indexes only: the escalate duty finds overdue open complaints, a case finds its complaint, and
the monthly reports read one store's responses completed within a month.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_complaints_case", "complaints", ["case_id"])
    op.create_index(
        "ix_complaints_overdue", "complaints", ["due_at"],
        postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_responses_store_completed", "survey_responses", ["store_id", "completed_at"])


def downgrade() -> None:
    op.drop_index("ix_responses_store_completed", table_name="survey_responses")
    op.drop_index("ix_complaints_overdue", table_name="complaints")
    op.drop_index("ix_complaints_case", table_name="complaints")

"""The complaint loop as revised (R7): categories, resolution deadline, progress SMS, re-survey reminder

Revision ID: 0010
Revises: 0009

``category`` and ``source`` are filled for complaints opened before this revision with ``other``
and ``survey`` (every complaint was a dissatisfied response's then). The overdue index now also
covers acknowledged complaints, whose resolution is due (``due_at``); two partial indexes serve
the duty's progress SMS and re-survey checks.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

IN_HAND = "status IN ('open', 'acknowledged')"


def upgrade() -> None:
    with op.batch_alter_table('complaints') as batch:
        batch.add_column(sa.Column('category', sa.String(length=20), server_default='other', nullable=False))
        batch.add_column(sa.Column('source', sa.String(length=10), server_default='survey', nullable=False))
        batch.add_column(sa.Column('outcome', sa.String(length=25), nullable=True))
        batch.add_column(sa.Column('progress_due_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('progress_sms_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('resurvey_check_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('resurvey_reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('unconfirmed_at', sa.DateTime(timezone=True), nullable=True))
    # complaints closed before: the case's outcome is the complaint's
    op.execute("UPDATE complaints SET outcome = (SELECT cases.outcome FROM cases WHERE cases.id = complaints.case_id) "
               "WHERE status = 'closed'")
    op.drop_index('ix_complaints_overdue', table_name='complaints')
    op.create_index('ix_complaints_overdue', 'complaints', ['due_at'],
                    postgresql_where=sa.text(IN_HAND), sqlite_where=sa.text(IN_HAND))
    op.create_index('ix_complaints_progress_due', 'complaints', ['progress_due_at'],
                    postgresql_where=sa.text('progress_due_at IS NOT NULL'),
                    sqlite_where=sa.text('progress_due_at IS NOT NULL'))
    op.create_index('ix_complaints_resurvey_check', 'complaints', ['resurvey_check_at'],
                    postgresql_where=sa.text('resurvey_check_at IS NOT NULL'),
                    sqlite_where=sa.text('resurvey_check_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_complaints_resurvey_check', table_name='complaints')
    op.drop_index('ix_complaints_progress_due', table_name='complaints')
    op.drop_index('ix_complaints_overdue', table_name='complaints')
    with op.batch_alter_table('complaints') as batch:
        for name in ('unconfirmed_at', 'resurvey_reminded_at', 'resurvey_check_at', 'progress_sms_at',
                     'progress_due_at', 'outcome', 'source', 'category'):
            batch.drop_column(name)
    op.create_index('ix_complaints_overdue', 'complaints', ['due_at'],
                    postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

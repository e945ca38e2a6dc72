"""The advisor's own 3-day call (R11) and the monthly statement (R9)

Revision ID: 0009
Revises: 0008

``advisor_calls`` holds one DC-call task per visit, given at intake. Visits imported before this
revision get none (their three days are long past; a re-import of one gives it its task).
``ix_visits_store_delivered`` serves the statement's count of a month's visits per advisor.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'advisor_calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('advisor_id', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reached', sa.Boolean(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('made_by', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['advisor_id'], ['advisors.id'], name=op.f('fk_advisor_calls_advisor_id_advisors')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_advisor_calls_store_id_stores')),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_advisor_calls_visit_id_visits')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advisor_calls')),
        sa.UniqueConstraint('visit_id', name=op.f('uq_advisor_calls_visit_id')),
    )
    op.create_index('ix_advisor_calls_open', 'advisor_calls', ['advisor_id', 'due_at'],
                    postgresql_where=sa.text('done_at IS NULL'), sqlite_where=sa.text('done_at IS NULL'))
    op.create_index('ix_visits_store_delivered', 'visits', ['store_id', 'delivered_at'])


def downgrade() -> None:
    op.drop_index('ix_visits_store_delivered', table_name='visits')
    op.drop_index('ix_advisor_calls_open', table_name='advisor_calls')
    op.drop_table('advisor_calls')

"""letters and the web survey (issue #5)

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'letter_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('letters', sa.Integer(), nullable=False),
        sa.Column('held', sa.Integer(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('address_csv', sa.Text(), nullable=False),
        sa.Column('labels_pdf', sa.LargeBinary(), nullable=False),
        sa.Column('built_by', sa.String(length=80), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('printed_by', sa.String(length=80), nullable=True),
        sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mailed_by', sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_letter_batches_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batches')),
        sa.UniqueConstraint('store_id', 'day', 'seq', name=op.f('uq_letter_batches_store_id_day_seq')),
    )
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.create_index('ix_letter_batches_status', ['status', 'store_id'], unique=False)

    op.create_table(
        'letter_batch_letters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.Integer(), nullable=False),
        sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('returned_by', sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(['attempt_id'], ['contact_attempts.id'],
                                name=op.f('fk_letter_batch_letters_attempt_id_contact_attempts')),
        sa.ForeignKeyConstraint(['batch_id'], ['letter_batches.id'],
                                name=op.f('fk_letter_batch_letters_batch_id_letter_batches')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_letter_batch_letters_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batch_letters')),
        sa.UniqueConstraint('attempt_id', name=op.f('uq_letter_batch_letters_attempt_id')),
    )
    with op.batch_alter_table('letter_batch_letters', schema=None) as batch_op:
        batch_op.create_index('ix_letter_batch_letters_batch', ['batch_id', 'page'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('letter_batch_letters', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_batch_letters_batch')
    op.drop_table('letter_batch_letters')
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_batches_status')
    op.drop_table('letter_batches')

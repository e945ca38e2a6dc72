"""Unguessable survey codes, a shared miss limiter, scoped API tokens, retention (R13)

Revision ID: 0012
Revises: 0011

* ``survey_code_misses``: the ``/s/<code>`` guessing limiter's rows (per client address, wall
  clock), shared by every web process and kept across restarts.
* ``survey_responses.evidence``: how a web answer came (client address, user agent, time).
* ``api_tokens.user_id / store_id / scope / expires_at``: ``followup tokens create --user --store
  --scope --expires``; existing tokens get none of them and keep today's meaning (every store,
  read and write, no expiry).
* ``customers.anonymised_at``: when the retention purge erased a customer (R13).

Reply codes keep their column: new codes are 12 characters (it holds 12); the 6-character codes
of open cases stay valid as they are.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'survey_code_misses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_code_misses')),
    )
    op.create_index('ix_code_misses_client_at', 'survey_code_misses', ['client', 'at'], unique=False)
    op.create_index('ix_code_misses_at', 'survey_code_misses', ['at'], unique=False)
    op.add_column('survey_responses', sa.Column('evidence', sa.JSON(), nullable=True))
    op.add_column('customers', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('store_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('scope', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f('fk_api_tokens_user_id_users'), 'users', ['user_id'], ['id'])
        batch.create_foreign_key(op.f('fk_api_tokens_store_id_stores'), 'stores', ['store_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_constraint(op.f('fk_api_tokens_store_id_stores'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_api_tokens_user_id_users'), type_='foreignkey')
        batch.drop_column('expires_at')
        batch.drop_column('scope')
        batch.drop_column('store_id')
        batch.drop_column('user_id')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('anonymised_at')
    with op.batch_alter_table('survey_responses') as batch:
        batch.drop_column('evidence')
    op.drop_index('ix_code_misses_at', table_name='survey_code_misses')
    op.drop_index('ix_code_misses_client_at', table_name='survey_code_misses')
    op.drop_table('survey_code_misses')

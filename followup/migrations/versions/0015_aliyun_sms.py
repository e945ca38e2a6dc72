"""Alibaba Cloud SMS (#18, CONTRACT §10): room for its error codes

Revision ID: 0015
Revises: 0014

A provider's error code is kept on the attempt (``contact_attempts.error_code``). Twilio's are
numbers; Alibaba Cloud's are names such as ``isv.SMS_SIGNATURE_SCENE_ILLEGAL`` (31 characters) or a
receipt's ``MOBILE_NOT_ON_SERVICE``, longer than the 20 characters the column had. Widened to 64;
existing values are unchanged (shortening back truncates nothing that fits in 20).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact_attempts') as batch:
        batch.alter_column('error_code', existing_type=sa.String(length=20), type_=sa.String(length=64),
                           existing_nullable=True)


def downgrade() -> None:
    op.execute(sa.text("UPDATE contact_attempts SET error_code = substr(error_code, 1, 20) "
                       "WHERE length(error_code) > 20"))
    with op.batch_alter_table('contact_attempts') as batch:
        batch.alter_column('error_code', existing_type=sa.String(length=64), type_=sa.String(length=20),
                           existing_nullable=True)

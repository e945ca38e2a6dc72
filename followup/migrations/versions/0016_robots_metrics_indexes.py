"""WeCom and DingTalk group robots as webhook subscribers (#22 item 4)

Revision ID: 0016
Revises: 0015

``webhook_subscribers.kind``: ``standard`` (Standard Webhooks, signed headers), ``wecom`` (a
企业微信 group robot) or ``dingtalk`` (a 钉钉 group robot, whose 加签 secret ``SEC…`` is kept in
``secret``). Existing subscribers are ``standard``.

And two indexes for ``GET /metrics`` (#22 item 6): SMS finished per window
(``ix_attempts_sms_ended``, partial like the calls' ``ix_attempts_call_ended``) and provider
callbacks per window (``ix_twilio_callbacks_received``).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('webhook_subscribers', sa.Column('kind', sa.String(length=10), nullable=False,
                                                   server_default='standard'))
    op.create_index('ix_attempts_sms_ended', 'contact_attempts', ['ended_at'],
                    postgresql_where=sa.text("channel = 'sms'"), sqlite_where=sa.text("channel = 'sms'"))
    op.create_index('ix_twilio_callbacks_received', 'twilio_callbacks', ['received_at'])


def downgrade() -> None:
    op.drop_index('ix_twilio_callbacks_received', table_name='twilio_callbacks')
    op.drop_index('ix_attempts_sms_ended', table_name='contact_attempts')
    with op.batch_alter_table('webhook_subscribers') as batch:
        batch.drop_column('kind')

"""Twilio voice and SMS (issue #4): callbacks seen once, IVR call progress, pacing slots.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'twilio_callbacks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sid', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_twilio_callbacks')),
        sa.UniqueConstraint('sid', 'status', name=op.f('uq_twilio_callbacks_sid_status')),
    )
    op.create_table(
        'ivr_calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_sid', sa.String(length=64), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=True),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('reprompts', sa.Integer(), nullable=False),
        sa.Column('choice', sa.String(length=20), nullable=True),
        sa.Column('callback_slot', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['attempt_id'], ['contact_attempts.id'],
                                name=op.f('fk_ivr_calls_attempt_id_contact_attempts')),
        sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'],
                                name=op.f('fk_ivr_calls_response_id_survey_responses')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_calls')),
        sa.UniqueConstraint('call_sid', name=op.f('uq_ivr_calls_call_sid')),
    )
    op.create_table(
        'pacing_slots',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('next_free_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_pacing_slots')),
    )


def downgrade() -> None:
    op.drop_table('pacing_slots')
    op.drop_table('ivr_calls')
    op.drop_table('twilio_callbacks')

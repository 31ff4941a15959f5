"""Face-pay match tokens are single-use: each token a payment spent, and the intent it paid for.

Revision ID: 0005_single_use_match_tokens
Revises: 0004_password_lockout
Create Date: 2026-11-27 22:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_single_use_match_tokens'
down_revision = '0004_password_lockout'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('face_match_tokens_spent',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('intent_id', sa.String(length=40), nullable=False),
    sa.Column('shopper_id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('spent_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_face_match_tokens_spent')),
    sa.UniqueConstraint('intent_id', name=op.f('uq_face_match_tokens_spent_intent_id'))
    )


def downgrade() -> None:
    op.drop_table('face_match_tokens_spent')

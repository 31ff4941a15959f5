"""Wrong-password lockout: the failed password checks per account and per client address.

Revision ID: 0004_password_lockout
Revises: 0003_face_pay
Create Date: 2026-11-27 22:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_password_lockout'
down_revision = '0003_face_pay'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('password_failures',
    sa.Column('failure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('failure_id', name=op.f('pk_password_failures'))
    )
    with op.batch_alter_table('password_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_failures_at_ms'), ['at_ms'], unique=False)
        batch_op.create_index(batch_op.f('ix_password_failures_account_at_ms'), ['account', 'at_ms'], unique=False)
        batch_op.create_index(batch_op.f('ix_password_failures_peer_at_ms'), ['peer', 'at_ms'], unique=False)


def downgrade() -> None:
    op.drop_table('password_failures')

"""Per-address limits: registrations, and failed pairing claims by address as well as by account.

Registrations are counted per client address (``registration_attempts``), so making accounts is
limited; failed pairing claims carry the client address (``pairing_failures.peer``), so fresh
accounts from one address bring no fresh guesses.

Revision ID: 0007_registration_limits
Revises: 0006_credential_generations
Create Date: 2026-12-07 21:25:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_registration_limits'
down_revision = '0006_credential_generations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pairing_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('peer', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_pairing_failures_peer_at_ms'), ['peer', 'at_ms'], unique=False)
    op.create_table('registration_attempts',
    sa.Column('failure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('failure_id', name=op.f('pk_registration_attempts'))
    )
    with op.batch_alter_table('registration_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_attempts_at_ms'), ['at_ms'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_attempts_peer_at_ms'), ['peer', 'at_ms'], unique=False)


def downgrade() -> None:
    op.drop_table('registration_attempts')
    with op.batch_alter_table('pairing_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_failures_peer_at_ms'))
        batch_op.drop_column('peer')

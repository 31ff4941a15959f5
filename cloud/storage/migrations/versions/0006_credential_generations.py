"""Credential generations on shopper and staff accounts, and disabled staff.

A token carries the generation its account had when it was issued; a password change or a
sign-out-everywhere moves the account's on, so every older token stops verifying.

Revision ID: 0006_credential_generations
Revises: 0005_single_use_match_tokens
Create Date: 2026-12-07 21:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_credential_generations'
down_revision = '0005_single_use_match_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shoppers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_generation', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_generation', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('disabled_at_ms', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('disabled_at_ms')
        batch_op.drop_column('credential_generation')
    with op.batch_alter_table('shoppers', schema=None) as batch_op:
        batch_op.drop_column('credential_generation')

"""Safety stock per store and SKU, replenishment requests, and the stores each staff member works in.

Revision ID: 0008_stock_replenishment
Revises: 0007_registration_limits
Create Date: 2026-12-07 22:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_stock_replenishment'
down_revision = '0007_registration_limits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'safety_stock',
        sa.Column('store_id', sa.Text(), nullable=False),
        sa.Column('sku', sa.Text(), nullable=False),
        sa.Column('minimum', sa.Integer(), nullable=False),
        sa.Column('reorder_quantity', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['sku'], ['variants.sku'], name=op.f('fk_safety_stock_sku_variants')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_safety_stock_store_id_stores')),
        sa.PrimaryKeyConstraint('store_id', 'sku', name=op.f('pk_safety_stock')),
    )
    op.create_table(
        'replenishments',
        sa.Column('request_id', sa.String(length=40), nullable=False),
        sa.Column('store_id', sa.Text(), nullable=False),
        sa.Column('sku', sa.Text(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('open_key', sa.String(length=200), nullable=True),
        sa.Column('raised_by', sa.String(length=64), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.Column('closed_at_ms', sa.BigInteger(), nullable=True),
        sa.Column('closed_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['sku'], ['variants.sku'], name=op.f('fk_replenishments_sku_variants')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_replenishments_store_id_stores')),
        sa.PrimaryKeyConstraint('request_id', name=op.f('pk_replenishments')),
        sa.UniqueConstraint('open_key', name=op.f('uq_replenishments_open_key')),
    )
    op.create_index(op.f('ix_replenishments_store_id_created_at_ms'), 'replenishments', ['store_id', 'created_at_ms'],
                    unique=False)
    op.create_table(
        'staff_stores',
        sa.Column('staff_id', sa.String(length=64), nullable=False),
        sa.Column('store_id', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.staff_id'], name=op.f('fk_staff_stores_staff_id_staff')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_staff_stores_store_id_stores')),
        sa.PrimaryKeyConstraint('staff_id', 'store_id', name=op.f('pk_staff_stores')),
    )


def downgrade() -> None:
    op.drop_table('staff_stores')
    op.drop_index(op.f('ix_replenishments_store_id_created_at_ms'), table_name='replenishments')
    op.drop_table('replenishments')
    op.drop_table('safety_stock')

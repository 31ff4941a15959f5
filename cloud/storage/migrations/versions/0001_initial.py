"""Initial schema: catalog, stock, accounts, devices, carts with their change log, pairing, profiles, audit.

(The token-signing key is not the database's: see ``cloud.domain.token_keys``; databases made by an
earlier version of this migration hold one in ``settings``, which is moved out on first use.)

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27 15:24:26.244013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fit_profiles',
    sa.Column('owner_key', sa.String(length=80), nullable=False),
    sa.Column('left_foot', sa.Text(), nullable=True),
    sa.Column('left_foot_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('right_foot', sa.Text(), nullable=True),
    sa.Column('right_foot_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('body_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('owner_key', name=op.f('pk_fit_profiles'))
    )
    op.create_table('idempotency_keys',
    sa.Column('principal', sa.String(length=80), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('principal', 'method', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('pairing_failures',
    sa.Column('failure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('principal', sa.String(length=80), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('failure_id', name=op.f('pk_pairing_failures'))
    )
    with op.batch_alter_table('pairing_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_failures_principal_at_ms'), ['principal', 'at_ms'], unique=False)

    op.create_table('products',
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('gender', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_secondary_minor', sa.BigInteger(), nullable=False),
    sa.Column('secondary_currency', sa.String(length=3), nullable=False),
    sa.Column('colours', sa.Text(), nullable=False),
    sa.Column('size_chart', sa.Text(), nullable=True),
    sa.Column('model_uri', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_products'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_brand'), ['brand'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_category'), ['category'], unique=False)

    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('shoppers',
    sa.Column('shopper_id', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('shopper_id', name=op.f('pk_shoppers')),
    sa.UniqueConstraint('email', name=op.f('uq_shoppers_email'))
    )
    op.create_table('staff',
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_staff'))
    )
    op.create_table('staff_audit',
    sa.Column('audit_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_staff_audit'))
    )
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_audit_staff_id'), ['staff_id'], unique=False)

    op.create_table('stores',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('ship_days_min', sa.Integer(), nullable=False),
    sa.Column('ship_days_max', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_stores'))
    )
    op.create_table('devices',
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('revoked_at_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_devices_store_id_stores')),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_devices'))
    )
    op.create_table('variants',
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('colour_code', sa.String(length=16), nullable=False),
    sa.Column('colour_name', sa.String(length=64), nullable=False),
    sa.Column('size_label', sa.String(length=16), nullable=False),
    sa.Column('size_eu', sa.String(length=8), nullable=True),
    sa.Column('size_us', sa.String(length=8), nullable=True),
    sa.Column('size_uk', sa.String(length=8), nullable=True),
    sa.Column('mondopoint_mm', sa.Integer(), nullable=True),
    sa.Column('last_length_mm', sa.Float(), nullable=True),
    sa.Column('last_ball_girth_mm', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.product_id'], name=op.f('fk_variants_product_id_products')),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_variants'))
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variants_product_id'), ['product_id'], unique=False)

    op.create_table('carts',
    sa.Column('cart_id', sa.String(length=40), nullable=False),
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('owner_shopper_id', sa.String(length=40), nullable=True),
    sa.Column('created_by_device', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into', sa.String(length=40), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_device'], ['devices.device_id'], name=op.f('fk_carts_created_by_device_devices')),
    sa.ForeignKeyConstraint(['owner_shopper_id'], ['shoppers.shopper_id'], name=op.f('fk_carts_owner_shopper_id_shoppers')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_carts_store_id_stores')),
    sa.PrimaryKeyConstraint('cart_id', name=op.f('pk_carts'))
    )
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carts_owner_shopper_id_status'), ['owner_shopper_id', 'status'], unique=False)

    op.create_table('stock',
    sa.Column('store_id', sa.Text(), nullable=False),
    sa.Column('sku', sa.Text(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['variants.sku'], name=op.f('fk_stock_sku_variants')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_stock_store_id_stores')),
    sa.PrimaryKeyConstraint('store_id', 'sku', name=op.f('pk_stock'))
    )
    op.create_table('cart_changes',
    sa.Column('cart_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.cart_id'], name=op.f('fk_cart_changes_cart_id_carts')),
    sa.PrimaryKeyConstraint('cart_id', 'version', name=op.f('pk_cart_changes'))
    )
    op.create_table('cart_lines',
    sa.Column('line_id', sa.String(length=40), nullable=False),
    sa.Column('cart_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('size_label', sa.String(length=16), nullable=False),
    sa.Column('colour', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fulfilment', sa.String(length=16), nullable=False),
    sa.Column('delivery_days_min', sa.Integer(), nullable=False),
    sa.Column('delivery_days_max', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.cart_id'], name=op.f('fk_cart_lines_cart_id_carts')),
    sa.ForeignKeyConstraint(['sku'], ['variants.sku'], name=op.f('fk_cart_lines_sku_variants')),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_cart_lines'))
    )
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_lines_cart_id'), ['cart_id'], unique=False)

    op.create_table('pairing_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('cart_id', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('claimed_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('claimed_by', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.cart_id'], name=op.f('fk_pairing_codes_cart_id_carts')),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_pairing_codes'))
    )


def downgrade() -> None:
    op.drop_table('pairing_codes')
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_lines_cart_id'))

    op.drop_table('cart_lines')
    op.drop_table('cart_changes')
    op.drop_table('stock')
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carts_owner_shopper_id_status'))

    op.drop_table('carts')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variants_product_id'))

    op.drop_table('variants')
    op.drop_table('devices')
    op.drop_table('stores')
    with op.batch_alter_table('staff_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_audit_staff_id'))

    op.drop_table('staff_audit')
    op.drop_table('staff')
    op.drop_table('shoppers')
    op.drop_table('settings')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_category'))
        batch_op.drop_index(batch_op.f('ix_products_brand'))

    op.drop_table('products')
    with op.batch_alter_table('pairing_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_failures_principal_at_ms'))

    op.drop_table('pairing_failures')
    op.drop_table('idempotency_keys')
    op.drop_table('fit_profiles')

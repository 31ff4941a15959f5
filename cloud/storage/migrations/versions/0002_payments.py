"""Payments (money side): intents and their lines, idempotency keys, refunds, the double-entry ledger,
orders and receipts. Ledger tables refuse UPDATE and DELETE (triggers): corrections are reversing entries.

A payments-only database made earlier by ``payments.storage.create_schema`` (the ``omnifit pay``
command on a fresh file) already has some of these tables; they are adopted as they are.

Revision ID: 0002_payments
Revises: 0001_initial
Create Date: 2026-11-27 15:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_payments'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

TABLES = ('ledger_accounts', 'ledger_entries', 'payment_idempotency_keys', 'payment_intents', 'ledger_postings', 'orders', 'payment_intent_lines', 'payment_refunds', 'order_lines', 'receipts')


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only; post a reversing entry instead'; "
            "END $$"
        )
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only; post a reversing entry instead'); END")


def upgrade() -> None:
    if _missing('ledger_accounts'):
        op.create_table('ledger_accounts',
        sa.Column('account', sa.String(length=140), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('account', name=op.f('pk_ledger_accounts'))
        )
    if _missing('ledger_entries'):
        op.create_table('ledger_entries',
        sa.Column('entry_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('intent_id', sa.String(length=40), nullable=True),
        sa.Column('memo', sa.String(length=300), nullable=False),
        sa.Column('reverses_entry_id', sa.String(length=40), nullable=True),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['reverses_entry_id'], ['ledger_entries.entry_id'], name=op.f('fk_ledger_entries_reverses_entry_id_ledger_entries')),
        sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_ledger_entries')),
        sa.UniqueConstraint('reverses_entry_id', name=op.f('uq_ledger_entries_reverses_entry_id'))
        )
        op.create_index(op.f('ix_ledger_entries_intent_id'), 'ledger_entries', ['intent_id'], unique=False)
        _append_only('ledger_entries')
    if _missing('payment_idempotency_keys'):
        op.create_table('payment_idempotency_keys',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('operation', sa.String(length=16), nullable=False),
        sa.Column('intent_id', sa.String(length=40), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('response', sa.Text(), nullable=True),
        sa.Column('lease_until_ms', sa.BigInteger(), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_payment_idempotency_keys'))
        )
    if _missing('payment_intents'):
        op.create_table('payment_intents',
        sa.Column('intent_id', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=24), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('captured_minor', sa.BigInteger(), nullable=False),
        sa.Column('refunded_minor', sa.BigInteger(), nullable=False),
        sa.Column('gateway', sa.String(length=40), nullable=False),
        sa.Column('payment_token', sa.String(length=128), nullable=False),
        sa.Column('cart_id', sa.String(length=64), nullable=False),
        sa.Column('store_id', sa.String(length=64), nullable=False),
        sa.Column('shopper_id', sa.String(length=64), nullable=False),
        sa.Column('step_up_required', sa.Boolean(), nullable=False),
        sa.Column('pin_failures', sa.Integer(), nullable=False),
        sa.Column('authorization_id', sa.String(length=64), nullable=True),
        sa.Column('capture_id', sa.String(length=64), nullable=True),
        sa.Column('failure_code', sa.String(length=40), nullable=True),
        sa.Column('pending_action', sa.String(length=16), nullable=True),
        sa.Column('pending_reference', sa.String(length=240), nullable=True),
        sa.Column('pending_key', sa.String(length=200), nullable=True),
        sa.Column('pending_fingerprint', sa.String(length=64), nullable=True),
        sa.Column('pending_amount_minor', sa.BigInteger(), nullable=True),
        sa.Column('pending_staff_id', sa.String(length=64), nullable=True),
        sa.Column('pending_until_ms', sa.BigInteger(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('intent_id', name=op.f('pk_payment_intents'))
        )
        op.create_index(op.f('ix_payment_intents_shopper_id'), 'payment_intents', ['shopper_id'], unique=False)
        op.create_index(op.f('ix_payment_intents_state'), 'payment_intents', ['state'], unique=False)
        op.create_index(op.f('ix_payment_intents_store_id'), 'payment_intents', ['store_id'], unique=False)
    if _missing('ledger_postings'):
        op.create_table('ledger_postings',
        sa.Column('posting_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('entry_id', sa.String(length=40), nullable=False),
        sa.Column('account', sa.String(length=140), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account'], ['ledger_accounts.account'], name=op.f('fk_ledger_postings_account_ledger_accounts')),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.entry_id'], name=op.f('fk_ledger_postings_entry_id_ledger_entries')),
        sa.PrimaryKeyConstraint('posting_id', name=op.f('pk_ledger_postings'))
        )
        op.create_index(op.f('ix_ledger_postings_account'), 'ledger_postings', ['account'], unique=False)
        op.create_index(op.f('ix_ledger_postings_entry_id'), 'ledger_postings', ['entry_id'], unique=False)
        _append_only('ledger_postings')
    if _missing('orders'):
        op.create_table('orders',
        sa.Column('order_id', sa.String(length=40), nullable=False),
        sa.Column('intent_id', sa.String(length=40), nullable=False),
        sa.Column('store_id', sa.String(length=64), nullable=False),
        sa.Column('shopper_id', sa.String(length=64), nullable=False),
        sa.Column('cart_id', sa.String(length=64), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['intent_id'], ['payment_intents.intent_id'], name=op.f('fk_orders_intent_id_payment_intents')),
        sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders')),
        sa.UniqueConstraint('intent_id', name=op.f('uq_orders_intent_id'))
        )
        op.create_index(op.f('ix_orders_shopper_id'), 'orders', ['shopper_id'], unique=False)
        op.create_index(op.f('ix_orders_store_id'), 'orders', ['store_id'], unique=False)
    if _missing('payment_intent_lines'):
        op.create_table('payment_intent_lines',
        sa.Column('intent_id', sa.String(length=40), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['intent_id'], ['payment_intents.intent_id'], name=op.f('fk_payment_intent_lines_intent_id_payment_intents')),
        sa.PrimaryKeyConstraint('intent_id', 'line_no', name=op.f('pk_payment_intent_lines'))
        )
    if _missing('payment_refunds'):
        op.create_table('payment_refunds',
        sa.Column('refund_id', sa.String(length=40), nullable=False),
        sa.Column('intent_id', sa.String(length=40), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('staff_id', sa.String(length=64), nullable=False),
        sa.Column('gateway_refund_id', sa.String(length=64), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['intent_id'], ['payment_intents.intent_id'], name=op.f('fk_payment_refunds_intent_id_payment_intents')),
        sa.PrimaryKeyConstraint('refund_id', name=op.f('pk_payment_refunds'))
        )
        op.create_index(op.f('ix_payment_refunds_intent_id'), 'payment_refunds', ['intent_id'], unique=False)
    if _missing('order_lines'):
        op.create_table('order_lines',
        sa.Column('order_id', sa.String(length=40), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_minor', sa.BigInteger(), nullable=False),
        sa.Column('fulfilment', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.order_id'], name=op.f('fk_order_lines_order_id_orders')),
        sa.PrimaryKeyConstraint('order_id', 'line_no', name=op.f('pk_order_lines'))
        )
    if _missing('receipts'):
        op.create_table('receipts',
        sa.Column('receipt_id', sa.String(length=40), nullable=False),
        sa.Column('order_id', sa.String(length=40), nullable=False),
        sa.Column('intent_id', sa.String(length=40), nullable=False),
        sa.Column('url', sa.String(length=300), nullable=False),
        sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['intent_id'], ['payment_intents.intent_id'], name=op.f('fk_receipts_intent_id_payment_intents')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.order_id'], name=op.f('fk_receipts_order_id_orders')),
        sa.PrimaryKeyConstraint('receipt_id', name=op.f('pk_receipts')),
        sa.UniqueConstraint('intent_id', name=op.f('uq_receipts_intent_id')),
        sa.UniqueConstraint('order_id', name=op.f('uq_receipts_order_id'))
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")

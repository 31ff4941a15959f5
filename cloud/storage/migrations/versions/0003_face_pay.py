"""Face pay on the server: payment PINs, the per-kiosk limit on failed face identifications, and the
biometric tables (consents, sealed templates, key registry) with the hash-chained audit log.

The biometric tables and the audit log are ``payments.face.store`` / ``payments.audit`` models that
``omnifit face`` creates on a fresh file; a database that already has them adopts them as they are.
Creating them here, under the migration lock, keeps several replicas that start at once from racing.

Revision ID: 0003_face_pay
Revises: 0002_payments
Create Date: 2026-11-27 18:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_face_pay'
down_revision = '0002_payments'
branch_labels = None
depends_on = None

ADOPTED = ('face_keys', 'face_consents', 'face_templates', 'payments_audit_log')


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    op.create_table('payment_pins',
    sa.Column('shopper_id', sa.String(length=40), nullable=False),
    sa.Column('pin_record', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shopper_id'], ['shoppers.shopper_id'], name=op.f('fk_payment_pins_shopper_id_shoppers')),
    sa.PrimaryKeyConstraint('shopper_id', name=op.f('pk_payment_pins'))
    )
    op.create_table('face_match_failures',
    sa.Column('failure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('principal', sa.String(length=80), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('failure_id', name=op.f('pk_face_match_failures'))
    )
    with op.batch_alter_table('face_match_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_match_failures_principal_at_ms'), ['principal', 'at_ms'], unique=False)
    _create_biometric_tables()


def _create_biometric_tables() -> None:
    if _missing('face_keys'):
        op.create_table('face_keys',
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=True),
        sa.Column('wrapped_secret', sa.LargeBinary(), nullable=True),
        sa.Column('wrapped_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key_id')
        )
    if _missing('face_consents'):
        op.create_table('face_consents',
        sa.Column('consent_id', sa.String(length=40), nullable=False),
        sa.Column('shopper_id', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=200), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('text_version', sa.String(length=40), nullable=False),
        sa.Column('granted_at', sa.DateTime(), nullable=False),
        sa.Column('retention_days', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_reason', sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint('consent_id')
        )
        op.create_index('ix_face_consents_shopper_id', 'face_consents', ['shopper_id'])
    if _missing('face_templates'):
        op.create_table('face_templates',
        sa.Column('template_id', sa.String(length=40), nullable=False),
        sa.Column('shopper_id', sa.String(length=64), nullable=False),
        sa.Column('consent_id', sa.String(length=40), nullable=False),
        sa.Column('phone_bucket', sa.String(length=64), nullable=False),
        sa.Column('payment_token', sa.String(length=128), nullable=True),
        sa.Column('kek_id', sa.String(length=64), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
        sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['consent_id'], ['face_consents.consent_id']),
        sa.PrimaryKeyConstraint('template_id'),
        sa.UniqueConstraint('shopper_id')
        )
        op.create_index('ix_face_templates_phone_bucket', 'face_templates', ['phone_bucket'])
        op.create_index('ix_face_templates_kek_id', 'face_templates', ['kek_id'])
        op.create_index('ix_face_templates_expires_at', 'face_templates', ['expires_at'])
    if _missing('payments_audit_log'):
        op.create_table('payments_audit_log',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('recorded_at', sa.String(length=40), nullable=False),
        sa.Column('event', sa.String(length=80), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('entry_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('entry_hash')
        )
        op.create_index('ix_payments_audit_log_event', 'payments_audit_log', ['event'])
        op.create_index('ix_payments_audit_log_subject', 'payments_audit_log', ['subject'])


def downgrade() -> None:
    # The biometric tables and the audit log stay: they may predate this revision, and a
    # downgrade must not destroy the audit trail.
    op.drop_table('face_match_failures')
    op.drop_table('payment_pins')

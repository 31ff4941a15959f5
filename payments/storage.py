"""Tables of the money side of payments (SQLAlchemy Core), one model for SQLite and PostgreSQL.

Money is integer minor units plus a three-letter currency; times are integer
milliseconds since the Unix epoch, as in the cloud schema. The Alembic revision
``cloud/storage/migrations/versions/0002_payments.py`` builds exactly these tables
in the cloud database; :func:`create_schema` builds them directly for a payments-only
database (tests, the CLI on a fresh file).

Ledger rows are written once and never updated: a correction is a reversing entry.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnifit.db.schema import metadata
from omnifit.db.sqlite import create_sqlite_engine
from payments.errors import InvalidPaymentRequestError

_LOGGER = logging.getLogger(__name__)


payment_intents = sa.Table(
    "payment_intents",
    metadata,
    sa.Column("intent_id", sa.String(40), primary_key=True),
    sa.Column("state", sa.String(24), nullable=False, index=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("captured_minor", sa.BigInteger, nullable=False),
    sa.Column("refunded_minor", sa.BigInteger, nullable=False),
    sa.Column("gateway", sa.String(40), nullable=False),
    sa.Column("payment_token", sa.String(128), nullable=False),
    sa.Column("cart_id", sa.String(64), nullable=False),
    sa.Column("store_id", sa.String(64), nullable=False, index=True),
    sa.Column("shopper_id", sa.String(64), nullable=False, index=True),
    sa.Column("step_up_required", sa.Boolean, nullable=False),
    sa.Column("pin_failures", sa.Integer, nullable=False),
    sa.Column("authorization_id", sa.String(64), nullable=True),
    sa.Column("capture_id", sa.String(64), nullable=True),
    sa.Column("failure_code", sa.String(40), nullable=True),
    # The gateway call in flight (or interrupted): what it was, so a later request can reconcile it.
    sa.Column("pending_action", sa.String(16), nullable=True),
    sa.Column("pending_reference", sa.String(240), nullable=True),
    sa.Column("pending_key", sa.String(200), nullable=True),
    sa.Column("pending_fingerprint", sa.String(64), nullable=True),
    sa.Column("pending_amount_minor", sa.BigInteger, nullable=True),
    sa.Column("pending_staff_id", sa.String(64), nullable=True),
    sa.Column("pending_until_ms", sa.BigInteger, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_at_ms", sa.BigInteger, nullable=False),
)

payment_intent_lines = sa.Table(
    "payment_intent_lines",
    metadata,
    sa.Column("intent_id", sa.String(40), sa.ForeignKey("payment_intents.intent_id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(100), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_minor", sa.BigInteger, nullable=False),
)

payment_idempotency_keys = sa.Table(
    "payment_idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("intent_id", sa.String(40), nullable=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("response", sa.Text, nullable=True),  # JSON outcome, set when status is final
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

payment_refunds = sa.Table(
    "payment_refunds",
    metadata,
    sa.Column("refund_id", sa.String(40), primary_key=True),
    sa.Column("intent_id", sa.String(40), sa.ForeignKey("payment_intents.intent_id"), nullable=False, index=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("staff_id", sa.String(64), nullable=False),
    sa.Column("gateway_refund_id", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

ledger_accounts = sa.Table(
    "ledger_accounts",
    metadata,
    sa.Column("account", sa.String(140), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("entry_id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("intent_id", sa.String(40), nullable=True, index=True),
    sa.Column("memo", sa.String(300), nullable=False),
    sa.Column("reverses_entry_id", sa.String(40), sa.ForeignKey("ledger_entries.entry_id"), nullable=True, unique=True),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

ledger_postings = sa.Table(
    "ledger_postings",
    metadata,
    sa.Column("posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("entry_id", sa.String(40), sa.ForeignKey("ledger_entries.entry_id"), nullable=False, index=True),
    sa.Column("account", sa.String(140), sa.ForeignKey("ledger_accounts.account"), nullable=False, index=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # debit positive, credit negative
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("intent_id", sa.String(40), sa.ForeignKey("payment_intents.intent_id"), nullable=False, unique=True),
    sa.Column("store_id", sa.String(64), nullable=False, index=True),
    sa.Column("shopper_id", sa.String(64), nullable=False, index=True),
    sa.Column("cart_id", sa.String(64), nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.order_id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(100), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_minor", sa.BigInteger, nullable=False),
    sa.Column("fulfilment", sa.String(16), nullable=False),
)

receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("receipt_id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.order_id"), nullable=False, unique=True),
    sa.Column("intent_id", sa.String(40), sa.ForeignKey("payment_intents.intent_id"), nullable=False, unique=True),
    sa.Column("url", sa.String(300), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

# The money side's own tables, which create_schema makes on a payments-only database.
TABLES = (payment_intents, payment_intent_lines, payment_idempotency_keys, payment_refunds, ledger_accounts,
          ledger_entries, ledger_postings, orders, order_lines, receipts)

# Ledger rows are append-only in the database itself, not just by convention.
APPEND_ONLY_TABLES = ("ledger_entries", "ledger_postings")
_APPEND_ONLY_FUNCTION_PG = (
    "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only; post a reversing entry instead'; "
    "END $$"
)


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """Statements that make ``table`` refuse UPDATE and DELETE on ``dialect`` (sqlite or postgresql)."""
    if dialect == "postgresql":
        return [_APPEND_ONLY_FUNCTION_PG,
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"]
    return [f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only; post a reversing entry instead'); END"
            for verb in ("UPDATE", "DELETE")]


def _add_append_only_triggers(table: sa.Table, conn: Connection, **_kw: object) -> None:
    for statement in append_only_ddl(conn.dialect.name, table.name):
        conn.exec_driver_sql(statement)


for _table in (ledger_entries, ledger_postings):
    sa.event.listen(_table, "after_create", _add_append_only_triggers)


def create_engine(url: str) -> Engine:
    """An engine for ``url`` (a SQLite file or ``postgresql+psycopg://``) set up for concurrent writers
    (SQLite as :mod:`omnifit.db.sqlite` sets up every Omnifit database file)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidPaymentRequestError(f"db url {url!r} is not a database URL", field="db_url") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return sa.create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    if backend != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise InvalidPaymentRequestError(
            f"db url {url!r}: expected sqlite:///FILE or postgresql+psycopg://...", field="db_url"
        )
    # Every payments transaction writes: all begin IMMEDIATE, and writers wait out a long gateway call's commit.
    return create_sqlite_engine(parsed, busy_timeout_ms=30_000, always_write=True)


def create_schema(engine: Engine) -> None:
    """Create the payments tables that are missing (no-op when the migration already made them)."""
    metadata.create_all(engine, tables=list(TABLES), checkfirst=True)
